-- check: mysql
-- Data changes, then a schema change (which commits them implicitly): the
-- problem stands at the schema change.
DELETE FROM sessions WHERE expires_at < NOW();
WITH old AS (SELECT id FROM users WHERE banned = 1) UPDATE users SET email = NULL WHERE id IN (SELECT id FROM old);
-- alembix:unchecked: sqlparser does not know OPTIMIZE TABLE
OPTIMIZE TABLE sessions;
ALTER TABLE users DROP COLUMN banned;
