-- every input rule: its SQLSTATE, message and hint

CREATE TABLE ir (basket int, item text);
INSERT INTO ir VALUES (1, 'a'), (1, 'b'), (2, 'a'), (3, 'b'), (3, 'c');
CREATE TABLE irp AS SELECT cxsell.mine(basket, item, 0.3) AS p FROM ir;

-- min_support must be in (0, 1]
SELECT regress.err($$SELECT cxsell.mine(basket, item, 0) FROM ir$$);
SELECT regress.err($$SELECT cxsell.mine(basket, item, -0.1) FROM ir$$);
SELECT regress.err($$SELECT cxsell.mine(basket, item, 1.5) FROM ir$$);
SELECT regress.err($$SELECT cxsell.mine(basket, item, 'NaN') FROM ir$$);
SELECT regress.err($$SELECT cxsell.mine(basket, item, NULL) FROM ir$$);
SELECT regress.err($$SELECT cxsell.mine(ARRAY[item], 2) FROM ir$$);
-- max_len must be 0 (no limit) or positive
SELECT regress.err($$SELECT cxsell.mine(basket, item, 0.5, -1) FROM ir$$);
SELECT regress.err($$SELECT cxsell.mine(basket, item, 0.5, NULL) FROM ir$$);
-- the parameters must not change within a group
SELECT regress.err($$SELECT cxsell.mine(basket, item, basket / 10.0) FROM ir$$);
-- baskets and items need a hash operator class
SELECT regress.err($$SELECT cxsell.mine(basket, point(basket, 1), 0.5) FROM ir$$);
SELECT regress.err($$SELECT cxsell.mine(point(basket, 1), item, 0.5) FROM ir$$);

-- NULLs are skipped, repeated lines count once, empty input gives no rows
SELECT * FROM cxsell.itemsets((SELECT cxsell.mine(b, i, 0.5)
  FROM (VALUES (1, 'a'), (1, 'a'), (NULL, 'a'), (2, NULL), (2, 'a')) v(b, i)));
SELECT count(*) FROM cxsell.itemsets((SELECT cxsell.mine(basket, item, 0.5) FROM ir WHERE false));

-- rules parameters
SELECT regress.err($$SELECT * FROM irp, cxsell.rules(p, 1.5)$$);
SELECT regress.err($$SELECT * FROM irp, cxsell.rules(p, -0.5)$$);
SELECT regress.err($$SELECT * FROM irp, cxsell.rules(p, 'NaN')$$);
SELECT regress.err($$SELECT * FROM irp, cxsell.rules(p, NULL)$$);
SELECT regress.err($$SELECT * FROM irp, cxsell.rules(p, min_lift => -1)$$);
SELECT regress.err($$SELECT * FROM irp, cxsell.rules(p, max_antecedent => -1)$$);
SELECT regress.err($$SELECT * FROM irp, cxsell.rules(p, max_consequent => -2)$$);
SELECT regress.err($$SELECT * FROM irp, cxsell.rules(p, max_rules => -3)$$);
SELECT regress.err($$SELECT * FROM irp, cxsell.rules(p, rank_by => 'popularity')$$);
SELECT regress.err($$SELECT * FROM irp, cxsell.rules(p, rank_by => NULL)$$);

-- item_pairs alpha must be in (0, 1)
SELECT regress.err($$SELECT * FROM irp, cxsell.item_pairs(p, 0)$$);
SELECT regress.err($$SELECT * FROM irp, cxsell.item_pairs(p, 1)$$);
SELECT regress.err($$SELECT * FROM irp, cxsell.item_pairs(p, 'NaN')$$);

-- the bounds of the output: mining that finds more itemsets than one
-- cxsell.patterns value or cxsell.max_memory can hold stops with an error
-- that says how many it finds (every basket holds all 60 items: 2^60 - 1
-- itemsets, counted until the count is hopeless; 523,685 of at most 4
-- items, counted exactly) and what to change
CREATE TABLE wide AS SELECT b, i FROM generate_series(1, 200) b, generate_series(1, 60) i;
SET cxsell.max_memory = '1MB';
SELECT regexp_replace(regress.err($$SELECT cxsell.mine(b, i, 0.5) FROM wide$$), '\d+ kB', 'N kB', 'g');
SELECT regress.err($$SELECT cxsell.mine(b, i, 0.5, 4) FROM wide$$);
SELECT regress.err($$SELECT cxsell.mine(b, i, 0.5, 2) FROM wide$$);
RESET cxsell.max_memory;
-- a few long baskets stay cheap when max_len bounds the itemset size
SELECT (cxsell.summary(cxsell.mine(b, i, 0.5, 2))).itemsets FROM wide;
SELECT regress.err($$SET cxsell.max_memory = '10kB'$$);
SELECT regress.err($$SET cxsell.no_such_setting = 1$$);

-- text input validates in full; nothing malformed is accepted
SELECT regress.err($$SELECT 'abc'::cxsell.patterns$$);
SELECT regress.err($$SELECT ''::cxsell.patterns$$);
SELECT regress.err($$SELECT 'zz'::cxsell.patterns$$);
SELECT regress.err($$SELECT '00'::cxsell.patterns$$);
SELECT regress.err($$SELECT '43585001'::cxsell.patterns$$);
SELECT regress.err($$SELECT '43585002'::cxsell.patterns$$);
SELECT regress.err($$SELECT '43585003'::cxsell.patterns$$);
-- truncated, extended and altered copies of a valid value
SELECT regress.err(format('SELECT %L::cxsell.patterns', left(p::text, -2))) FROM irp;
SELECT regress.err(format('SELECT %L::cxsell.patterns', p::text || '00')) FROM irp;
SELECT regress.err(format('SELECT %L::cxsell.patterns', overlay(p::text placing 'ff' from 9))) FROM irp;
-- values made by hand that break the closure of frequent itemsets: over
-- items a, b, c in 4 baskets, each in 2, a 3-itemset whose 2-subsets are
-- missing, and a pair counted more often than its items
CREATE FUNCTION pg_temp.u32(v bigint) RETURNS bytea LANGUAGE sql
AS $$ SELECT decode(lpad(to_hex(v), 8, '0'), 'hex') $$;
CREATE FUNCTION pg_temp.u64(v bigint) RETURNS bytea LANGUAGE sql
AS $$ SELECT '\x00000000'::bytea || pg_temp.u32(v) $$;
CREATE FUNCTION pg_temp.abc(sets bytea) RETURNS text LANGUAGE sql
AS $$ SELECT encode('CXP'::bytea || '\x01'::bytea || pg_temp.u64(4) || float8send(0.25)
  || pg_temp.u32(0) || pg_temp.u64(1) || pg_temp.u32(3)
  || pg_temp.u32(1) || 'a'::bytea || pg_temp.u32(1) || 'b'::bytea || pg_temp.u32(1) || 'c'::bytea
  || sets || pg_temp.u64(0), 'hex') $$;
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.abc(pg_temp.u64(5)
  || pg_temp.u32(1) || pg_temp.u64(2) || pg_temp.u32(0)
  || pg_temp.u32(1) || pg_temp.u64(2) || pg_temp.u32(1)
  || pg_temp.u32(1) || pg_temp.u64(2) || pg_temp.u32(2)
  || pg_temp.u32(2) || pg_temp.u64(1) || pg_temp.u32(0) || pg_temp.u32(1)
  || pg_temp.u32(3) || pg_temp.u64(1) || pg_temp.u32(0) || pg_temp.u32(1) || pg_temp.u32(2))));
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.abc(pg_temp.u64(4)
  || pg_temp.u32(1) || pg_temp.u64(2) || pg_temp.u32(0)
  || pg_temp.u32(1) || pg_temp.u64(2) || pg_temp.u32(1)
  || pg_temp.u32(1) || pg_temp.u64(2) || pg_temp.u32(2)
  || pg_temp.u32(2) || pg_temp.u64(3) || pg_temp.u32(0) || pg_temp.u32(2))));

-- version 2 values (weights, a hierarchy) made by hand: items a, b, c in 4
-- baskets, each in 2; with or without the itemset {a, b} in 1 basket
CREATE FUNCTION pg_temp.v2(with_ab boolean, extras bytea) RETURNS text LANGUAGE sql
AS $$ SELECT encode('CXP'::bytea || '\x02'::bytea || pg_temp.u64(4) || float8send(0.25)
  || pg_temp.u32(0) || pg_temp.u64(1) || pg_temp.u32(3)
  || pg_temp.u32(1) || 'a'::bytea || pg_temp.u32(1) || 'b'::bytea || pg_temp.u32(1) || 'c'::bytea
  || pg_temp.u64(CASE WHEN with_ab THEN 4 ELSE 3 END)
  || pg_temp.u32(1) || pg_temp.u64(2) || pg_temp.u32(0)
  || pg_temp.u32(1) || pg_temp.u64(2) || pg_temp.u32(1)
  || pg_temp.u32(1) || pg_temp.u64(2) || pg_temp.u32(2)
  || CASE WHEN with_ab THEN pg_temp.u32(2) || pg_temp.u64(1) || pg_temp.u32(0) || pg_temp.u32(1)
          ELSE ''::bytea END
  || CASE WHEN with_ab THEN pg_temp.u64(1) || pg_temp.u32(0) || pg_temp.u32(1) || pg_temp.u64(1)
          ELSE pg_temp.u64(0) END
  || extras, 'hex') $$;
-- well formed: b is a's parent; weights 4 in all, a 2, b 3, c 1
SELECT (SELECT string_agg(item || '->' || parent, ',') FROM cxsell.hierarchy(pg_temp.v2(false,
          '\x02'::bytea || pg_temp.u64(1) || pg_temp.u32(0) || pg_temp.u32(1))::cxsell.patterns)) AS links,
       (SELECT string_agg(items::text || support, ',') FROM cxsell.itemsets(pg_temp.v2(false,
          '\x01'::bytea || float8send(4) || float8send(2) || float8send(3) || float8send(1))::cxsell.patterns)) AS weighted;
-- no flags, unknown flags, nothing after the flags
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.v2(false, '\x00')));
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.v2(false, '\x04')));
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.v2(false, '\x03')));
-- weights: a negative total, none, an itemset over the total, a superset weighing
-- more than its subset, NaN
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.v2(false,
  '\x01'::bytea || float8send(-4) || float8send(0) || float8send(0) || float8send(0))));
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.v2(false,
  '\x01'::bytea || float8send(0) || float8send(0) || float8send(0) || float8send(0))));
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.v2(false,
  '\x01'::bytea || float8send(4) || float8send(5) || float8send(0) || float8send(0))));
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.v2(true,
  '\x01'::bytea || float8send(4) || float8send(2) || float8send(1) || float8send(1) || float8send(3))));
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.v2(false,
  '\x01'::bytea || float8send(4) || float8send('NaN') || float8send(0) || float8send(0))));
-- a hierarchy: no link, a link to itself, to an unknown item, out of order,
-- a cycle, an itemset (and pair) holding an item and its ancestor
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.v2(false, '\x02'::bytea || pg_temp.u64(0))));
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.v2(false,
  '\x02'::bytea || pg_temp.u64(1) || pg_temp.u32(1) || pg_temp.u32(1))));
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.v2(false,
  '\x02'::bytea || pg_temp.u64(1) || pg_temp.u32(1) || pg_temp.u32(7))));
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.v2(false,
  '\x02'::bytea || pg_temp.u64(2) || pg_temp.u32(1) || pg_temp.u32(2) || pg_temp.u32(0) || pg_temp.u32(2))));
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.v2(false,
  '\x02'::bytea || pg_temp.u64(2) || pg_temp.u32(0) || pg_temp.u32(1) || pg_temp.u32(1) || pg_temp.u32(0))));
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.v2(true,
  '\x02'::bytea || pg_temp.u64(1) || pg_temp.u32(0) || pg_temp.u32(1))));
SELECT regress.err(format('SELECT %L::cxsell.patterns', pg_temp.v2(false,
  '\x02'::bytea || pg_temp.u64(1) || pg_temp.u32(0) || pg_temp.u32(1) || '\x00'::bytea)));
