-- revision: g
-- down_revision: a
-- depends_on: h

-- migrate:upgrade
CREATE TABLE t_g (id int);

-- migrate:downgrade
DROP TABLE t_g;
