-- revision: a3
-- down_revision: a2
-- depends_on: b1

-- migrate:upgrade
CREATE TABLE t_a3 (id int);

-- migrate:downgrade
DROP TABLE t_a3;
