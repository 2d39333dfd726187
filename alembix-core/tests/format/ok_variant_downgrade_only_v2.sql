-- revision: v2
-- down_revision: none

-- migrate:upgrade
ALTER TABLE notes ADD COLUMN tag TEXT;

-- migrate:downgrade sqlite
-- SQLite before 3.35 cannot drop a column: kept.

-- migrate:downgrade
ALTER TABLE notes DROP COLUMN tag;
