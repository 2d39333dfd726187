-- revision: v3
-- down_revision: none

-- migrate:upgrade
CREATE TABLE a (x INT);
-- migrate:upgrade mysql
CREATE TABLE a (x INT) ENGINE=InnoDB;
-- migrate:upgrade mysql
CREATE TABLE a (x INT);

-- migrate:downgrade
DROP TABLE a;
