-- revision: 1c0f5e2a9b31
-- down_revision: none
-- message: create guilds
-- create_date: 2026-11-01 09:00:00

-- migrate:upgrade
-- One row per community (Discord guild) the bot has joined; ids come from the platform.
CREATE TABLE guilds (
    id BIGINT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    joined_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- migrate:downgrade
DROP TABLE guilds;
