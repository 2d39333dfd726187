-- check: mysql
-- A schema change then data changes: one problem, at the first data change,
-- naming the first schema change.
CREATE TABLE settings (k VARCHAR(50) PRIMARY KEY, v TEXT);
-- Temporary tables do not commit implicitly, and plain reads change nothing.
CREATE TEMPORARY TABLE tmp (id INT);
SELECT COUNT(*) FROM settings;
INSERT INTO settings (k, v) VALUES ('theme', 'dark');
ALTER TABLE settings ADD COLUMN updated_at DATETIME NULL;
UPDATE settings SET updated_at = NOW();
DROP TEMPORARY TABLE tmp;
