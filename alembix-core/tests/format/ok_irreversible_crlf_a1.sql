-- revision: a1
-- down_revision: none
-- transaction: none

-- migrate:upgrade
CREATE INDEX CONCURRENTLY users_email ON users (email);

-- migrate:irreversible
