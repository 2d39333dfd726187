-- revision: e5
-- down_revision: d4
-- down_revision: c3

-- migrate:upgrade
SELECT 1;
-- migrate:downgrade
SELECT 1;
