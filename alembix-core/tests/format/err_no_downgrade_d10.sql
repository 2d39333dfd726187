-- revision: d10
-- down_revision: c9

-- migrate:upgrade
CREATE TABLE t (id int);
