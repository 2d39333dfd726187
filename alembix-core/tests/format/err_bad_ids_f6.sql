-- revision: f6
-- down_revision: has-dash, 0123456789abcdef0123456789abcdef0, head
-- branch_labels: ok_label, bad label
-- depends_on: f6x, f6x

-- migrate:upgrade
SELECT 1;
-- migrate:downgrade
SELECT 1;
