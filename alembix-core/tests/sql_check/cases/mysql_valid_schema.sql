-- check: mysql
-- Realistic MySQL/MariaDB schema changes: every statement must parse; a
-- section of schema changes only is fine in a transaction.
CREATE TABLE orgs (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    UNIQUE KEY uq_orgs_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE IF NOT EXISTS `users` (
    `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    `email` VARCHAR(255) NOT NULL COMMENT 'login',
    `org_id` BIGINT UNSIGNED NULL,
    `status` ENUM('active', 'banned') NOT NULL DEFAULT 'active',
    `doc` JSON,
    `price` DECIMAL(10, 2) CHECK (`price` >= 0),
    `created_at` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    PRIMARY KEY (`id`),
    KEY `idx_users_org` (`org_id`),
    CONSTRAINT `fk_users_org` FOREIGN KEY (`org_id`) REFERENCES `orgs` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB AUTO_INCREMENT=1000;
CREATE TABLE g (a INT, b INT AS (a * 2) STORED);
CREATE TABLE users_copy LIKE users;
ALTER TABLE users ADD COLUMN age INT NULL AFTER email;
ALTER TABLE users MODIFY COLUMN email VARCHAR(320) NOT NULL;
ALTER TABLE users CHANGE age years INT NULL;
ALTER TABLE users ALGORITHM=INPLACE, LOCK=NONE, ADD INDEX idx_users_email (email);
ALTER TABLE users ALTER COLUMN years SET DEFAULT 0;
ALTER TABLE users DROP FOREIGN KEY fk_users_org;
ALTER TABLE users RENAME COLUMN years TO age;
ALTER TABLE users DROP INDEX idx_users_email, DROP COLUMN age;
CREATE INDEX idx_users_created ON users (created_at) USING BTREE;
CREATE UNIQUE INDEX uq_users_email ON users (email(100));
CREATE OR REPLACE VIEW v_users AS SELECT id, email FROM users;
CREATE TRIGGER users_bi BEFORE INSERT ON users FOR EACH ROW SET NEW.email = LOWER(NEW.email);
CREATE TRIGGER users_bu BEFORE UPDATE ON users FOR EACH ROW
BEGIN
    SET NEW.email = LOWER(NEW.email);
END;
RENAME TABLE users_copy TO users_old;
TRUNCATE TABLE users_old;
DROP INDEX idx_users_created ON users;
DROP TABLE IF EXISTS users_old, g;
