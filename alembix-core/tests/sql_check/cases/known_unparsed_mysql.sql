-- check: mysql
-- Valid MySQL/MariaDB that sqlparser 0.64 cannot read: each needs
-- `-- alembix:unchecked` today. A sqlparser update that learns one shows here.
CREATE FULLTEXT INDEX ft_posts_body ON posts (body);
CREATE SPATIAL INDEX sp_places_geo ON places (geo);
CREATE TABLE logs (id INT, at DATE) PARTITION BY RANGE (YEAR(at)) (PARTITION p0 VALUES LESS THAN (2026), PARTITION p1 VALUES LESS THAN MAXVALUE);
ALTER TABLE users ENGINE=InnoDB;
ALTER TABLE users CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE users CHARACTER SET utf8mb4;
ALTER TABLE users COMMENT = 'people who log in';
ALTER TABLE users RENAME INDEX idx_a TO idx_b;
ALTER TABLE users ALTER INDEX idx_b INVISIBLE;
ALTER TABLE users DROP CHECK chk_age;
ALTER TABLE users ADD COLUMN (a INT, b INT);
ALTER TABLE users FORCE;
ALTER TABLE logs DROP PARTITION p0;
ALTER TABLE logs PARTITION BY HASH (id) PARTITIONS 4;
CREATE PROCEDURE purge() BEGIN DELETE FROM logs; END;
CREATE FUNCTION add_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 1;
CREATE EVENT purge_logs ON SCHEDULE EVERY 1 DAY DO DELETE FROM logs;
DROP EVENT IF EXISTS purge_logs;
CREATE USER 'reader'@'%' IDENTIFIED BY 'secret';
OPTIMIZE TABLE users;
LOAD DATA INFILE '/tmp/users.csv' INTO TABLE users;
