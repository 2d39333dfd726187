-- revision: g1
-- down_revision: none

-- migrate:upgrade
CREATE TABLE t_g1 (id int);

-- migrate:downgrade
DROP TABLE t_g1;
