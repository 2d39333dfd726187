SELECT E'it\'s; fine', e'tab\t;';
SELECT 'plain\';
SELECT U&'d\0061t\+000061;';
