-- check: sqlite
-- Valid SQLite that sqlparser 0.64 cannot read: each needs
-- `-- alembix:unchecked` today. A sqlparser update that learns one shows here.
CREATE TRIGGER IF NOT EXISTS users_bd BEFORE DELETE ON users BEGIN SELECT RAISE(ABORT, 'no'); END;
PRAGMA foreign_keys = OFF;
PRAGMA journal_mode = WAL;
PRAGMA table_info(users);
REINDEX users;
VACUUM INTO '/backup/app.db';
