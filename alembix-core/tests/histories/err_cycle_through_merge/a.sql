-- revision: a
-- down_revision: x, b

-- migrate:upgrade
CREATE TABLE t_a (id int);

-- migrate:downgrade
DROP TABLE t_a;
