-- revision: b1
-- down_revision: none

-- migrate:upgrade
CREATE TABLE t_b1 (id int);

-- migrate:downgrade
DROP TABLE t_b1;
