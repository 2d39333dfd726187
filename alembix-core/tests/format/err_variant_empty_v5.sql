-- revision: v5
-- down_revision: none

-- migrate:upgrade
CREATE TABLE a (x INT);
-- migrate:upgrade postgresql
-- nothing here

-- migrate:downgrade
DROP TABLE a;
-- migrate:downgrade mysql
