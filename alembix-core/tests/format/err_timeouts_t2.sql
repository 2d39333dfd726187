-- revision: t2
-- down_revision: none
-- lock_timeout: 5
-- statement_timeout: 0s
-- lock-timeout: 5s
-- statement_timeout: 2 weeks

-- migrate:upgrade
SELECT 1;

-- migrate:downgrade
SELECT 1;
