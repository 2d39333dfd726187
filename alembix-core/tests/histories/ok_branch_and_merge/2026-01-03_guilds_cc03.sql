-- revision: cc03
-- down_revision: aa01

-- migrate:upgrade
CREATE TABLE t_cc03 (id int);

-- migrate:downgrade
DROP TABLE t_cc03;
