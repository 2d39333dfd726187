-- revision: p1
-- down_revision: none
-- message: a tab	here is fine
-- This migration adds the users table: see ticket 12
-- TODO(ana): backfill later
-- 12:30 is the quiet hour
-- 说明：添加用户表
-- - a bullet: with a colon
-- Depends on the users table: yes, but this is prose
-- Revisions listed in the changelog: 3
-- A value may hold look-alikes: оае

-- migrate:upgrade
SELECT 1;

-- migrate:downgrade
SELECT 1;
