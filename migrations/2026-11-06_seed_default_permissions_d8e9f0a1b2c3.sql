-- revision: d8e9f0a1b2c3
-- down_revision: c4d5e6f70812
-- message: data migration: seed the default permission list
-- create_date: 2026-11-06 09:00:00

-- migrate:upgrade
INSERT INTO permission_defaults (role_name, permission) VALUES ('admin', 'configure');
INSERT INTO permission_defaults (role_name, permission) VALUES ('admin', 'moderate');
INSERT INTO permission_defaults (role_name, permission) VALUES ('moderator', 'moderate');
INSERT INTO permission_defaults (role_name, permission) VALUES ('everyone', 'ping');

-- migrate:downgrade
DELETE FROM permission_defaults
WHERE (role_name = 'admin' AND permission IN ('configure', 'moderate'))
   OR (role_name = 'moderator' AND permission = 'moderate')
   OR (role_name = 'everyone' AND permission = 'ping');
