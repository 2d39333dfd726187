-- revision: a2
-- down_revision: a1
-- mesage: typo

-- migrate:upgrade
CREATE TABLE t2 (id int);
-- migrate:downgrade
DROP TABLE t2;
