-- revision: 9a8b7c6d5e4f
-- down_revision: 5e1f0a7c2b3d
-- message: add email

-- migrate:upgrade
ALTER TABLE users ADD COLUMN email VARCHAR(100);

-- migrate:downgrade
ALTER TABLE users DROP COLUMN email;
