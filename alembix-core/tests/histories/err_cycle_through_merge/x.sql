-- revision: x
-- down_revision: none

-- migrate:upgrade
CREATE TABLE t_x (id int);

-- migrate:downgrade
DROP TABLE t_x;
