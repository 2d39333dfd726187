-- revision: c1
-- down_revision: none
-- message: [31mred[0m
-- create_date: 2026-01-01 ‮10:00
-- transaction: none
-- branch_labels: ab
-- revision: c1
-- A prose comment may hold : it is not a value

-- migrate:upgrade
SELECT 1;

-- migrate:downgrade
SELECT 1;
