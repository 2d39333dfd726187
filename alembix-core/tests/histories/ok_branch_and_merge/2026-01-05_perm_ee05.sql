-- revision: ee05
-- down_revision: dd04
-- depends_on: cc03

-- migrate:upgrade
CREATE TABLE t_ee05 (id int);

-- migrate:downgrade
DROP TABLE t_ee05;
