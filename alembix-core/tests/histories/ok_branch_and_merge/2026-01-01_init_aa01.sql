-- revision: aa01
-- down_revision: none

-- migrate:upgrade
CREATE TABLE t_aa01 (id int);

-- migrate:downgrade
DROP TABLE t_aa01;
