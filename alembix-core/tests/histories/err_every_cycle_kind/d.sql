-- revision: d
-- down_revision: c
-- depends_on: e

-- migrate:upgrade
CREATE TABLE t_d (id int);

-- migrate:downgrade
DROP TABLE t_d;
