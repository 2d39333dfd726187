-- revision: b
-- down_revision: a

-- migrate:upgrade
CREATE TABLE t_b (id int);

-- migrate:downgrade
DROP TABLE t_b;
