-- revision: c4d5e6f70812
-- down_revision: 3b2c1d0e9f8a
-- message: permission lists: which roles may use which commands
-- create_date: 2026-11-05 09:00:00

-- migrate:upgrade
CREATE TABLE permission_lists (
    guild_id BIGINT NOT NULL REFERENCES guilds (id),
    role_name VARCHAR(100) NOT NULL,
    permission VARCHAR(100) NOT NULL,
    PRIMARY KEY (guild_id, role_name, permission)
);
CREATE TABLE permission_defaults (
    role_name VARCHAR(100) NOT NULL,
    permission VARCHAR(100) NOT NULL,
    PRIMARY KEY (role_name, permission)
);

-- migrate:downgrade
DROP TABLE permission_defaults;
DROP TABLE permission_lists;
