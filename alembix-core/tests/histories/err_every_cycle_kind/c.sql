-- revision: c
-- down_revision: b

-- migrate:upgrade
CREATE TABLE t_c (id int);

-- migrate:downgrade
DROP TABLE t_c;
