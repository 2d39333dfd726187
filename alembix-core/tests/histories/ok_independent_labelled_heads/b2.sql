-- revision: b2
-- down_revision: b1

-- migrate:upgrade
CREATE TABLE t_b2 (id int);

-- migrate:downgrade
DROP TABLE t_b2;
