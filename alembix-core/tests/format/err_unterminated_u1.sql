-- revision: u1
-- down_revision: none

-- migrate:upgrade
CREATE TABLE notes (body TEXT);
INSERT INTO notes VALUES ('it's here');

-- migrate:downgrade
DROP TABLE notes;
/* the end
