-- revision: a3
-- down_revision: a2

-- migrate:upgrade
CREATE TABLE t3 (id int);
-- migrate:downgrade
DROP TABLE t3;
