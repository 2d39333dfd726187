-- revision: bb02
-- down_revision: aa01

-- migrate:upgrade
CREATE TABLE t_bb02 (id int);

-- migrate:downgrade
DROP TABLE t_bb02;
