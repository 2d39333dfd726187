-- revision: a1
-- down_revision: none

-- migrate:upgrade
CREATE TABLE t_a1 (id int);

-- migrate:downgrade
DROP TABLE t_a1;
