-- revision: 3b2c1d0e9f8a
-- down_revision: a93b1f7e2d04, 5e6f7a8b9c0d
-- message: merge the github and forum branches
-- create_date: 2026-11-04 08:00:00

-- migrate:upgrade

-- migrate:downgrade
