-- revision: v4
-- down_revision: none

-- migrate:upgrade postgres
CREATE TABLE a (x INT);

-- migrate:downgrade
DROP TABLE a;
