-- check: sqlite
-- SQLite refuses VACUUM (and VACUUM INTO) inside a transaction.
DELETE FROM logs;
VACUUM;
VACUUM INTO '/backup/app.db';
INSERT INTO logs (msg) VALUES ('VACUUM');
ANALYZE;
