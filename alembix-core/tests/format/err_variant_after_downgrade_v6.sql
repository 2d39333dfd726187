-- revision: v6
-- down_revision: none

-- migrate:upgrade
CREATE TABLE a (x INT);
-- migrate:downgrade
DROP TABLE a;
-- migrate:upgrade mysql
CREATE TABLE a (x INT);
