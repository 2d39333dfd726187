-- check: mysql
-- Nothing here commits implicitly: temporary tables, reads, session settings,
-- and keywords only inside strings, quoted names or comments.
CREATE TEMPORARY TABLE tmp (id INT);
INSERT INTO tmp (id) SELECT id FROM users;
UPDATE users SET note = 'ALTER TABLE users' WHERE id IN (SELECT id FROM tmp);
INSERT INTO log (`drop`, msg) VALUES (1, 'CREATE TABLE x'); -- DROP TABLE
SET @x = 1;
SELECT * FROM `alter`;
DROP TEMPORARY TABLE IF EXISTS tmp;
