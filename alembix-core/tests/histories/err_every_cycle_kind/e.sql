-- revision: e
-- down_revision: d

-- migrate:upgrade
CREATE TABLE t_e (id int);

-- migrate:downgrade
DROP TABLE t_e;
