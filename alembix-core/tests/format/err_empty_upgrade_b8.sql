-- revision: b8
-- down_revision: a7

-- migrate:upgrade
-- TODO write this

-- migrate:downgrade

