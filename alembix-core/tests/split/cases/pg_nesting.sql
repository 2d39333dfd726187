/* outer /* inner; */ still a comment; */
SELECT (1;
2);
SELECT `a;b`;
