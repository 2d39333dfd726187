-- revision: u2
-- down_revision: none

-- migrate:upgrade
CREATE TABLE paths (p TEXT);
INSERT INTO paths VALUES ('C:\');

-- migrate:downgrade
DROP TABLE paths; # a MySQL comment, an odd statement elsewhere
