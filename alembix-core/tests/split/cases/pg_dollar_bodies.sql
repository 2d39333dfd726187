CREATE FUNCTION f() RETURNS int AS $body$
BEGIN
  RAISE NOTICE 'a; $$ b';
  RETURN 1;
END;
$body$ LANGUAGE plpgsql;
DO $$ BEGIN PERFORM 1; END $$;
PREPARE p AS SELECT $1::int;
SELECT 1 AS a$b;
SELECT $é$ x; y $é$;
