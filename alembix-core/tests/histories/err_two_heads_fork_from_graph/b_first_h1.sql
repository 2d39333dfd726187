-- revision: h1
-- down_revision: p1

-- migrate:upgrade
CREATE TABLE t_h1 (id int);

-- migrate:downgrade
DROP TABLE t_h1;
