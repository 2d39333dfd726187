-- revision: cccc3333
-- down_revision: aaaa1111

-- migrate:upgrade
CREATE TABLE t_cccc3333 (id int);

-- migrate:downgrade
DROP TABLE t_cccc3333;
