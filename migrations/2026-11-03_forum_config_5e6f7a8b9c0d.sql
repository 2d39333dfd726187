-- revision: 5e6f7a8b9c0d
-- down_revision: 7d4e8a0b6c52
-- message: forum mirroring settings per guild (written in parallel with github_config)
-- create_date: 2026-11-03 11:30:00

-- migrate:upgrade
CREATE TABLE forum_config (
    guild_id BIGINT PRIMARY KEY REFERENCES guilds (id),
    forum_url VARCHAR(200) NOT NULL,
    category VARCHAR(100)
);

-- migrate:downgrade
DROP TABLE forum_config;
