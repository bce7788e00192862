-- what \d+, \df+ and BI tools show: every object of the extension says what
-- it is, and every column of every table, view and result type what it holds
SELECT obj_description('cxsell'::regnamespace) IS NOT NULL AS schema_commented,
       obj_description('cxsell_internal'::regnamespace) IS NOT NULL AS internal_schema_commented;

-- functions, procedures and aggregates without a comment (none)
SELECT p.oid::regprocedure AS uncommented
FROM pg_proc p
WHERE p.pronamespace IN ('cxsell'::regnamespace, 'cxsell_internal'::regnamespace)
  AND obj_description(p.oid, 'pg_proc') IS NULL;

-- tables, views and types without a comment (none)
SELECT c.oid::regclass AS uncommented
FROM pg_class c
WHERE c.relnamespace IN ('cxsell'::regnamespace, 'cxsell_internal'::regnamespace)
  AND c.relkind IN ('r', 'v', 'c')
  AND CASE c.relkind WHEN 'c' THEN obj_description(c.reltype, 'pg_type')
                     ELSE obj_description(c.oid, 'pg_class') END IS NULL
  AND NOT (c.relnamespace = 'cxsell_internal'::regnamespace AND c.relkind = 'v');
SELECT t.oid::regtype AS uncommented
FROM pg_type t
WHERE t.typnamespace = 'cxsell'::regnamespace AND t.typtype = 'b' AND t.typelem = 0
  AND obj_description(t.oid, 'pg_type') IS NULL;

-- columns without a comment (none), and how many have one
SELECT c.oid::regclass AS relation, a.attname AS uncommented
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace IN ('cxsell'::regnamespace, 'cxsell_internal'::regnamespace)
  AND c.relkind IN ('r', 'v', 'c') AND col_description(c.oid, a.attnum) IS NULL;
SELECT c.relkind, count(*) AS commented_columns
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace IN ('cxsell'::regnamespace, 'cxsell_internal'::regnamespace)
  AND c.relkind IN ('r', 'v', 'c') AND col_description(c.oid, a.attnum) IS NOT NULL
GROUP BY c.relkind ORDER BY c.relkind;

-- the views a dashboard reads, with each column's comment
SELECT a.attname AS column, col_description(a.attrelid, a.attnum) AS comment
FROM pg_attribute a
WHERE a.attrelid = 'cxsell.current_rules'::regclass AND a.attnum > 0
ORDER BY a.attnum;
