-- revision: dd04
-- down_revision: bb02, cc03
-- message: merge

-- migrate:upgrade
CREATE TABLE t_dd04 (id int);

-- migrate:downgrade
DROP TABLE t_dd04;
