-- revision: b2
-- down_revision: a1
-- message: backfill display names (data migration)

-- migrate:upgrade
UPDATE users SET display_name = name WHERE display_name IS NULL;

-- migrate:downgrade
-- nothing to revert: the backfilled names are harmless
