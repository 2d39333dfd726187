-- revision: t3
-- down_revision: none
-- lock_timeout: 25h
-- statement_timeout: fast

-- migrate:upgrade
SELECT 1;

-- migrate:downgrade
SELECT 1;
