-- check: postgresql
-- Statements that look like those of postgresql_not_transactional.sql but
-- run in a transaction: no problem in either mode.
REFRESH MATERIALIZED VIEW CONCURRENTLY user_counts;
ALTER TYPE mood ADD VALUE 'great';
CREATE INDEX idx_c ON users (email);
DROP INDEX IF EXISTS idx_c;
ANALYZE users;
ALTER TABLE events DETACH PARTITION events_2026;
DISCARD PLANS;
-- alembix:unchecked
ALTER DATABASE app RENAME TO app2;
-- alembix:unchecked
CLUSTER users USING idx_users_email;
-- alembix:unchecked
CLUSTER users;
-- alembix:unchecked
REINDEX TABLE users;
-- alembix:unchecked
REINDEX (CONCURRENTLY false) INDEX idx_c;
-- alembix:unchecked
CREATE SUBSCRIPTION sub CONNECTION 'host=primary' PUBLICATION pub WITH (create_slot = false, slot_name = NONE);
-- alembix:unchecked
CREATE SUBSCRIPTION sub CONNECTION 'host=primary' PUBLICATION pub WITH (connect = off);
-- alembix:unchecked
ALTER SUBSCRIPTION sub SET PUBLICATION pub2 WITH (refresh = false);
-- alembix:unchecked
ALTER SUBSCRIPTION sub DISABLE;
-- alembix:unchecked
DROP SUBSCRIPTION sub;
-- Keywords in strings, quoted names and comments do not count.
INSERT INTO log (msg) VALUES ('VACUUM'), ('CREATE INDEX CONCURRENTLY x');
SELECT 1 AS "vacuum";
CREATE INDEX /* CONCURRENTLY */ idx_d ON users (email);
CREATE INDEX "concurrently" ON users (email);
