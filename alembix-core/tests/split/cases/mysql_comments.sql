# a MySQL comment; it ends the line
SELECT 1 --1
;
SELECT 2 -- a comment; still one
;
/*!40101 SET NAMES utf8mb4 */;
SELECT 3 # done;
;
