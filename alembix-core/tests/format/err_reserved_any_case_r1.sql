-- revision: HEAD
-- down_revision: None
-- branch_labels: Heads, BASE
-- depends_on: Current, r0

-- migrate:upgrade
SELECT 1;

-- migrate:downgrade
SELECT 1;
