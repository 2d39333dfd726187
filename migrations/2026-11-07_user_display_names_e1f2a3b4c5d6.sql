-- revision: e1f2a3b4c5d6
-- down_revision: d8e9f0a1b2c3
-- message: users get a display name
-- create_date: 2026-11-07 09:00:00

-- migrate:upgrade
ALTER TABLE users ADD COLUMN display_name VARCHAR(100);

-- migrate:downgrade
ALTER TABLE users DROP COLUMN display_name;
