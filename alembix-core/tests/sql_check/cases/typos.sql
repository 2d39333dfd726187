-- The same mistakes in every dialect, with the file line:column of each.
CREAT TABLE users (id INTEGER PRIMARY KEY);
INSERT INTO users (id) VALUES (1); UPDATE users SET id = 2 WHERE;
CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL
    body TEXT
);
SELECT 1 FROM users WHERE id IN (1, 2) AND;
DELETE users WHERE id = 1;
CREATE INDEX ON;
ALTER TABLE users ADD COLUMN;
INSERT INTO users VALUES (1) (2);
      SELEC 1;
-- A missing `)` last: PostgreSQL's splitter (as psql) reads on to the end.
CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT;
