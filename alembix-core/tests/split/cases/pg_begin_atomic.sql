CREATE FUNCTION add_one(x integer, begin_at integer DEFAULT (0)) RETURNS integer
LANGUAGE sql
BEGIN ATOMIC
  SELECT x + 1;
END;
CREATE OR REPLACE PROCEDURE tally(n integer)
LANGUAGE sql
BEGIN ATOMIC
  INSERT INTO counts VALUES (CASE WHEN n > 0 THEN n ELSE 0 END);
  UPDATE counts SET c = CASE WHEN c > 10 THEN 10 ELSE c END;
END;
CREATE TABLE events (starts_at timestamptz, "end" int);
BEGIN;
SELECT CASE WHEN true THEN 1 END;
COMMIT;
