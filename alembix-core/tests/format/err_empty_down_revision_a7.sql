-- revision: a7
-- down_revision:

-- migrate:upgrade
SELECT 1;
-- migrate:downgrade
SELECT 1;
