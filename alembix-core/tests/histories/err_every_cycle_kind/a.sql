-- revision: a
-- down_revision: none

-- migrate:upgrade
CREATE TABLE t_a (id int);

-- migrate:downgrade
DROP TABLE t_a;
