-- revision: e11
-- down_revision: d10

-- migrate:downgrade
DROP TABLE t;
-- migrate:upgrade
CREATE TABLE t (id int);
-- migrate:sideways
