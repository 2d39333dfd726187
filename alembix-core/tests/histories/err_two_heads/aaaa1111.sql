-- revision: aaaa1111
-- down_revision: none

-- migrate:upgrade
CREATE TABLE t_aaaa1111 (id int);

-- migrate:downgrade
DROP TABLE t_aaaa1111;
