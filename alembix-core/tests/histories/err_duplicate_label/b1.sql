-- revision: b1
-- down_revision: none
-- branch_labels: app

-- migrate:upgrade
CREATE TABLE t_b1 (id int);

-- migrate:downgrade
DROP TABLE t_b1;
