-- revision: h
-- down_revision: g

-- migrate:upgrade
CREATE TABLE t_h (id int);

-- migrate:downgrade
DROP TABLE t_h;
