-- revision: t1
-- down_revision: none
-- message: add a column without queueing behind a long transaction
-- lock_timeout: 200ms
-- statement_timeout: 2min

-- migrate:upgrade
ALTER TABLE accounts ADD COLUMN note TEXT;

-- migrate:downgrade
ALTER TABLE accounts DROP COLUMN note;
