INSERT INTO paths VALUES ('C:\');
INSERT INTO paths VALUES ('D:\');
SELECT "a\"b;c";
