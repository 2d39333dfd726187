-- revision: v7
-- down_revision: none

-- migrate:upgrade
CREATE TABLE a (x INT);

-- migrate:irreversible postgresql
