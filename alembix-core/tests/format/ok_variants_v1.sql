-- revision: v1
-- down_revision: none
-- message: an auto-increment key on every backend

-- migrate:upgrade
CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);

-- migrate:upgrade postgresql
CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL);

-- migrate:upgrade mysql
CREATE TABLE notes (id BIGINT AUTO_INCREMENT PRIMARY KEY, body TEXT NOT NULL);

-- migrate:downgrade
DROP TABLE notes;
