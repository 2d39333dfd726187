-- check: sqlite
-- Realistic SQLite migration SQL: every statement must parse, in a
-- transaction or not.
CREATE TABLE orgs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    org_id INTEGER REFERENCES orgs (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK (length(email) > 3)
);
CREATE TABLE settings (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;
CREATE TABLE strict_t (id INTEGER PRIMARY KEY, x TEXT) STRICT;
CREATE TABLE g (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) STORED);
CREATE TEMP TABLE tmp (id INTEGER);
ALTER TABLE users ADD COLUMN age INTEGER;
ALTER TABLE users ADD COLUMN nick TEXT NOT NULL DEFAULT '' CHECK (nick <> 'root');
ALTER TABLE users RENAME COLUMN age TO years;
ALTER TABLE users DROP COLUMN years;
ALTER TABLE tmp RENAME TO tmp2;
CREATE INDEX idx_users_email ON users (email);
CREATE UNIQUE INDEX IF NOT EXISTS idx_users_lower ON users (lower(email)) WHERE org_id IS NOT NULL;
CREATE INDEX idx_users_created ON users (created_at DESC, id ASC);
CREATE VIEW IF NOT EXISTS v_users AS SELECT id, email FROM users;
CREATE VIRTUAL TABLE docs USING fts5(title, body);
CREATE TRIGGER users_touch AFTER UPDATE OF email ON users FOR EACH ROW
WHEN OLD.email <> NEW.email
BEGIN
    UPDATE users SET created_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
    INSERT INTO settings (k, v) VALUES ('touched', NEW.id);
END;
INSERT INTO orgs (name) VALUES ('acme'), ('initech');
INSERT INTO users (email, org_id) SELECT 'admin@' || name, id FROM orgs;
INSERT OR IGNORE INTO settings (k, v) VALUES ('a', 'b');
INSERT INTO settings (k, v) VALUES ('a', 'c') ON CONFLICT (k) DO UPDATE SET v = excluded.v;
REPLACE INTO settings (k, v) VALUES ('b', 'd');
UPDATE users SET org_id = (SELECT id FROM orgs WHERE orgs.name = 'acme') WHERE org_id IS NULL;
DELETE FROM users WHERE rowid NOT IN (SELECT min(rowid) FROM users GROUP BY email);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10)
INSERT INTO settings (k, v) SELECT 'n' || x, x FROM c;
PRAGMA foreign_keys = 1;
PRAGMA user_version = 3;
DROP INDEX IF EXISTS idx_users_created;
DROP VIEW IF EXISTS v_users;
DROP TRIGGER IF EXISTS users_touch;
DROP TABLE IF EXISTS tmp2;
