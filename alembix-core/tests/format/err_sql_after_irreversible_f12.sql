-- revision: f12
-- down_revision: e11

-- migrate:upgrade
CREATE TABLE t (id int);
-- migrate:irreversible
DROP TABLE t;
