SELECT 1;
SELECT $a$ text without an end;
SELECT 2;
