-- revision: bbbb2222
-- down_revision: aaaa1111

-- migrate:upgrade
CREATE TABLE t_bbbb2222 (id int);

-- migrate:downgrade
DROP TABLE t_bbbb2222;
