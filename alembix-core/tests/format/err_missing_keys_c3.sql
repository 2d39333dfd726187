-- message: forgot the ids

-- migrate:upgrade
SELECT 1;

-- migrate:downgrade
SELECT 1;
