-- revision: a2
-- down_revision: a1

-- migrate:upgrade
CREATE TABLE t_a2 (id int);

-- migrate:downgrade
DROP TABLE t_a2;
