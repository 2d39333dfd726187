-- revision: k1
-- down_revision: none
-- depends-on: k0
-- branch labels: billing
-- Create Date: 2026-01-01 10:00:00
-- DOWN REVISION: none
-- down__revision: none
-- Über: a one-word key in another script is a key
-- e-mail: someone@example.com
-- This migration adds the users table: see ticket 12
-- Migrate:upgrade

-- migrate:upgrade
SELECT 1;

-- migrate:downgrade
SELECT 1;
