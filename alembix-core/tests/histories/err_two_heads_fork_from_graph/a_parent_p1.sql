-- revision: p1
-- down_revision: g1

-- migrate:upgrade
CREATE TABLE t_p1 (id int);

-- migrate:downgrade
DROP TABLE t_p1;
