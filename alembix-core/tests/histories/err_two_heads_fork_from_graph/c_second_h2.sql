-- revision: h2
-- down_revision: p1

-- migrate:upgrade
CREATE TABLE t_h2 (id int);

-- migrate:downgrade
DROP TABLE t_h2;
