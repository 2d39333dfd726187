-- revision: 77aa
-- down_revision: 11aa, 22bb
-- message: merge heads

-- migrate:upgrade

-- migrate:downgrade
