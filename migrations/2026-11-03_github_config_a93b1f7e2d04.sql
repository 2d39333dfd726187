-- revision: a93b1f7e2d04
-- down_revision: 7d4e8a0b6c52
-- message: github integration settings per guild
-- create_date: 2026-11-03 10:00:00

-- migrate:upgrade
CREATE TABLE github_config (
    guild_id BIGINT PRIMARY KEY REFERENCES guilds (id),
    repository VARCHAR(200) NOT NULL,
    announce_channel BIGINT,
    announce_releases BOOLEAN NOT NULL DEFAULT TRUE
);

-- migrate:downgrade
DROP TABLE github_config;
