-- check: postgresql
-- Statements PostgreSQL refuses inside a transaction block: each is a
-- problem in a migration run in a transaction, and fine in one run without.
-- Those sqlparser cannot read carry the marker, so only rule 3 speaks.
CREATE INDEX CONCURRENTLY idx_a ON users (email);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx_b ON users (lower(email));
-- alembix:unchecked
DROP INDEX CONCURRENTLY idx_a;
-- alembix:unchecked
REINDEX INDEX CONCURRENTLY idx_b;
-- alembix:unchecked
REINDEX (CONCURRENTLY, VERBOSE) TABLE users;
-- alembix:unchecked
REINDEX SCHEMA app;
-- alembix:unchecked
REINDEX (VERBOSE) DATABASE app;
-- alembix:unchecked
REINDEX SYSTEM;
VACUUM;
VACUUM FULL;
-- alembix:unchecked
VACUUM (VERBOSE, ANALYZE) users;
-- alembix:unchecked
CLUSTER;
-- alembix:unchecked
CLUSTER VERBOSE;
CREATE DATABASE other;
DROP DATABASE IF EXISTS other;
-- alembix:unchecked
ALTER DATABASE app SET TABLESPACE fast;
-- alembix:unchecked
CREATE TABLESPACE fast LOCATION '/ssd';
-- alembix:unchecked
DROP TABLESPACE fast;
-- alembix:unchecked
ALTER SYSTEM SET work_mem = '64MB';
ALTER TABLE events DETACH PARTITION events_2026 CONCURRENTLY;
DISCARD ALL;
-- alembix:unchecked
COMMIT PREPARED 'tx1';
-- alembix:unchecked
ROLLBACK PREPARED 'tx2';
-- alembix:unchecked
CREATE SUBSCRIPTION sub CONNECTION 'host=primary' PUBLICATION pub;
-- alembix:unchecked
CREATE SUBSCRIPTION sub CONNECTION 'host=primary' PUBLICATION pub WITH (copy_data = false);
-- alembix:unchecked
ALTER SUBSCRIPTION sub REFRESH PUBLICATION;
-- alembix:unchecked
ALTER SUBSCRIPTION sub SET PUBLICATION pub2;
-- alembix:unchecked
ALTER SUBSCRIPTION sub ADD PUBLICATION pub3 WITH (refresh = true);
