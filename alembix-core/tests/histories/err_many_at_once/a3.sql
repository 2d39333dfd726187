-- revision: a3
-- down_revision: a1
-- depends_on: missing2

-- migrate:upgrade
CREATE TABLE t_a3 (id int);

-- migrate:downgrade
DROP TABLE t_a3;
