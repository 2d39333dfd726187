-- revision: d4
-- down_revison: c3
-- Message: a capitalised key is a typo too
-- transaction: sometimes

-- migrate:upgrade
SELECT 1;

-- migrate:downgrade
SELECT 1;
