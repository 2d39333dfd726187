-- check: mysql
-- MySQL reads `--` as a comment only before a space: `--alembix:unchecked`
-- is code there, and starts the statement.
-- alembix:unchecked: sqlparser does not know OPTIMIZE TABLE
OPTIMIZE TABLE users;
--alembix:unchecked
OPTIMIZE TABLE users;
# alembix:unchecked (a `#` comment: does nothing)
OPTIMIZE TABLE users;
