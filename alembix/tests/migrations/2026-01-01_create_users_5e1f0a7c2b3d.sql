-- revision: 5e1f0a7c2b3d
-- down_revision: none
-- message: create users

-- migrate:upgrade
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name VARCHAR(50) NOT NULL
);

-- migrate:downgrade
DROP TABLE users;
