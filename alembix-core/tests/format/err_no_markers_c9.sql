-- revision: c9
-- down_revision: b8
CREATE TABLE t (id int);
