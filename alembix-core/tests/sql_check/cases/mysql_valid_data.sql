-- check: mysql
-- Realistic MySQL/MariaDB data changes: every statement must parse; a
-- section of data changes only is fine in a transaction.
INSERT INTO orgs (name) VALUES ('acme'), ('initech');
INSERT INTO users (email, org_id) SELECT CONCAT('admin@', name), id FROM orgs;
INSERT INTO settings (k, v) VALUES ('a', 'b') ON DUPLICATE KEY UPDATE v = VALUES(v);
INSERT IGNORE INTO settings (k, v) VALUES ('c', 'it\'s');
INSERT INTO settings SET k = 'd', v = 'e';
REPLACE INTO settings (k, v) VALUES ('a', 'f');
UPDATE users SET org_id = (SELECT id FROM orgs WHERE orgs.name = 'acme') WHERE org_id IS NULL;
UPDATE users u JOIN orgs o ON o.name = SUBSTRING_INDEX(u.email, '@', -1) SET u.org_id = o.id;
UPDATE users SET status = 'banned' ORDER BY id LIMIT 10;
DELETE FROM users WHERE id IN (SELECT user_id FROM bans);
DELETE u FROM users u JOIN bans b ON b.user_id = u.id;
WITH old AS (SELECT id FROM users WHERE created_at < '2020-01-01') DELETE FROM users WHERE id IN (SELECT id FROM old);
SET @n = (SELECT COUNT(*) FROM users);
SELECT GET_LOCK('migrate', 10);
