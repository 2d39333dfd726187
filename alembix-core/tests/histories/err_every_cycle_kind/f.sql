-- revision: f
-- down_revision: a
-- branch_labels: own
-- depends_on: own

-- migrate:upgrade
CREATE TABLE t_f (id int);

-- migrate:downgrade
DROP TABLE t_f;
