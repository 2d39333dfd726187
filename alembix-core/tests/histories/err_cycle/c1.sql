-- revision: c1
-- down_revision: b1

-- migrate:upgrade
CREATE TABLE t_c1 (id int);

-- migrate:downgrade
DROP TABLE t_c1;
