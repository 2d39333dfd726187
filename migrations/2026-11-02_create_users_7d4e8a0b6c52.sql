-- revision: 7d4e8a0b6c52
-- down_revision: 1c0f5e2a9b31
-- message: create users
-- create_date: 2026-11-02 09:00:00

-- migrate:upgrade
CREATE TABLE users (
    id BIGINT NOT NULL,
    guild_id BIGINT NOT NULL REFERENCES guilds (id),
    name VARCHAR(100) NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (guild_id, id)
);
-- The bot looks members up by name whatever its case.
CREATE INDEX users_by_name ON users (guild_id, lower(name));

-- migrate:upgrade mysql
CREATE TABLE users (
    id BIGINT NOT NULL,
    guild_id BIGINT NOT NULL REFERENCES guilds (id),
    name VARCHAR(100) NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (guild_id, id)
);
-- MySQL's and MariaDB's default collation already compare names whatever
-- their case (and MariaDB has no index on an expression).
CREATE INDEX users_by_name ON users (guild_id, name);

-- migrate:downgrade
DROP TABLE users;
