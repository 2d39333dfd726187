/* a /* b */
SELECT 1;
