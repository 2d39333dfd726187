-- check: postgresql
-- `-- alembix:unchecked` skips the syntax check of the one statement after it.
-- alembix:unchecked: sqlparser does not know CREATE STATISTICS
CREATE STATISTICS s1 (dependencies) ON a, b FROM t;

-- alembix:unchecked
-- other comments and blank lines may stand between

ALTER SEQUENCE users_id_seq RESTART WITH 100;
-- It covers one statement only: the next one is checked.
ALTER SEQUENCE users_id_seq RESTART WITH 200;
SELECT 1; -- alembix:unchecked (after a statement on its line: does nothing)
ALTER SEQUENCE users_id_seq RESTART WITH 300;
-- alembix:uncheckedx (another word: does nothing)
ALTER SEQUENCE users_id_seq RESTART WITH 400;
-- alembix:unchecked before a statement that parses: allowed
SELECT 2;
SELECT 3 -- alembix:unchecked inside a statement: does nothing
, 4 FROM;
/* alembix:unchecked in a block comment: does nothing */
ALTER SEQUENCE users_id_seq RESTART WITH 500;
-- alembix:unchecked
DROP INDEX CONCURRENTLY idx_a;
-- alembix:unchecked: with no statement after it, does nothing
