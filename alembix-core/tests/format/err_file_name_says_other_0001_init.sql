-- revision: a0b1c2d3e4f5
-- down_revision: none

-- migrate:upgrade
CREATE TABLE t (id int);
-- migrate:downgrade
DROP TABLE t;
