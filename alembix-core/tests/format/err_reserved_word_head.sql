-- revision: head
-- down_revision: none

-- migrate:upgrade
CREATE TABLE t (id int);
-- migrate:downgrade
DROP TABLE t;
