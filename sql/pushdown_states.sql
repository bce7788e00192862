-- The states of gains, auc and chi_square as Citus ships them: each worker
-- aggregates its shards into a state of a concrete type, sends its text
-- (or binary) form, and the coordinator reads the states back, combines
-- them and applies the final function.  Here the "workers" are the groups
-- of a hash partition of local rows, over 1 to 7 parts.
CREATE AGGREGATE regress.score_state(float8, boolean) (
	SFUNC = cxsell.score_counts_trans, STYPE = cxsell.score_counts);
CREATE AGGREGATE regress.score_state(float8, boolean, int4) (
	SFUNC = cxsell.score_counts_trans, STYPE = cxsell.score_counts);
CREATE AGGREGATE regress.gains_of(cxsell.score_counts) (
	SFUNC = cxsell.score_counts_combine, STYPE = cxsell.score_counts,
	FINALFUNC = cxsell.gains_counts_final);
CREATE AGGREGATE regress.auc_of(cxsell.score_counts) (
	SFUNC = cxsell.score_counts_combine, STYPE = cxsell.score_counts,
	FINALFUNC = cxsell.auc_counts_final);
CREATE AGGREGATE regress.table_state(text, boolean) (
	SFUNC = cxsell.contingency_trans, STYPE = cxsell.contingency_table);
CREATE AGGREGATE regress.table_state(text, text) (
	SFUNC = cxsell.contingency_trans, STYPE = cxsell.contingency_table);
CREATE AGGREGATE regress.chi_square_of(cxsell.contingency_table) (
	SFUNC = cxsell.contingency_combine, STYPE = cxsell.contingency_table,
	FINALFUNC = cxsell.contingency_final);

-- 20,000 scored customers: scores with 2 decimals (ties), outcomes and labels
SELECT setseed(0.25);
CREATE TABLE ps AS
SELECT g AS id, round(random()::numeric, 2)::float8 AS score,
       random() < 0.3 AS responded,
       (ARRAY['sms', 'mail', 'call', 'web'])[1 + (random() * 3.999)::int] AS channel,
       (ARRAY['a', 'b', 'c'])[1 + (random() * 2.999)::int] AS offer
FROM generate_series(1, 20000) g;
INSERT INTO ps VALUES (20001, NULL, true, NULL, 'a'), (20002, 0.5, NULL, 'sms', NULL);

-- the plain aggregates, and the same through text states of 1..7 parts
CREATE TABLE ps_whole AS
SELECT cxsell.gains(score, responded)::text AS gains10,
       cxsell.gains(score, responded, 3)::text AS gains3,
       cxsell.gains(score, responded, 1000)::text AS gains1000,
       cxsell.auc(score, responded) AS auc,
       cxsell.chi_square(channel, responded) AS chi_bool,
       cxsell.chi_square(channel, offer) AS chi_text
FROM ps;
SELECT round(auc::numeric, 10) AS auc, round((chi_bool).statistic::numeric, 8) AS chi_bool,
       round((chi_text).statistic::numeric, 8) AS chi_text, (chi_text).df, (chi_text).n
FROM ps_whole;
WITH parts AS (SELECT generate_series(1, 7) AS parts),
states AS (
  SELECT p.parts, hashint4(id) % p.parts AS part,
         regress.score_state(score, responded)::text AS s10,
         regress.score_state(score, responded, 3)::text AS s3,
         regress.score_state(score, responded, 1000)::text AS s1000,
         regress.table_state(channel, responded)::text AS tb,
         regress.table_state(channel, offer)::text AS tt
  FROM ps, parts p GROUP BY 1, 2)
SELECT s.parts,
       regress.gains_of(s10::cxsell.score_counts)::text = w.gains10 AS gains10,
       regress.gains_of(s3::cxsell.score_counts)::text = w.gains3 AS gains3,
       regress.gains_of(s1000::cxsell.score_counts)::text = w.gains1000 AS gains1000,
       regress.auc_of(s10::cxsell.score_counts) = w.auc AS auc,
       regress.chi_square_of(tb::cxsell.contingency_table) = w.chi_bool AS chi_bool,
       regress.chi_square_of(tt::cxsell.contingency_table) = w.chi_text AS chi_text
FROM states s, ps_whole w
GROUP BY s.parts, w.gains10, w.gains3, w.gains1000, w.auc, w.chi_bool, w.chi_text
ORDER BY s.parts;
-- a state grows with the distinct scores, not the rows: 101 scores here
SELECT octet_length(cxsell.score_counts_send(regress.score_state(score, responded))) AS bytes
FROM ps;
SELECT octet_length(cxsell.contingency_table_send(regress.table_state(channel, offer))) AS bytes
FROM ps;
-- the text form of a small state, and its binary form
SELECT regress.score_state(s, r) AS state,
       cxsell.score_counts_send(regress.score_state(s, r)) AS binary
FROM (VALUES (0.5, true), (0.25, false), (0.5, false), (0.5, true)) v(s, r);
-- the same under a parallel plan (states flattened between processes)
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT cxsell.auc(score, responded), cxsell.chi_square(channel, offer) FROM ps;
SELECT cxsell.gains(score, responded)::text = w.gains10 AS gains10,
       cxsell.auc(score, responded) = w.auc AS auc,
       cxsell.chi_square(channel, responded) = w.chi_bool AS chi_bool,
       cxsell.chi_square(channel, offer) = w.chi_text AS chi_text
FROM ps, ps_whole w GROUP BY w.gains10, w.auc, w.chi_bool, w.chi_text;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;

-- which chi_square a call gets: text and boolean labels (and types cast to
-- text implicitly) the overloads with a concrete state, comparing text byte
-- for byte under any collation; others the polymorphic aggregate, with the
-- same statistic
SELECT p.oid::regprocedure AS aggregate, t.typname AS state
FROM pg_proc p JOIN pg_aggregate a ON a.aggfnoid = p.oid JOIN pg_type t ON t.oid = a.aggtranstype
WHERE p.proname = 'chi_square' AND p.pronamespace = 'cxsell'::regnamespace ORDER BY 1::text;
SELECT (cxsell.chi_square(channel::varchar, offer::name)).statistic = (w.chi_text).statistic AS via_text,
       cxsell.chi_square(channel COLLATE "POSIX", offer) = w.chi_text AS any_collation,
       (cxsell.chi_square(channel, (offer = 'a')::int)).statistic =
       (cxsell.chi_square(channel, offer = 'a')).statistic AS int_like_bool,
       (cxsell.chi_square(hashtext(channel), responded)).statistic = (w.chi_bool).statistic AS polymorphic
FROM ps, ps_whole w GROUP BY w.chi_text, w.chi_bool;

-- bad states: every form is validated in full before use
SELECT regress.err($$SELECT 'zz'::cxsell.score_counts$$);
SELECT regress.err($$SELECT ''::cxsell.contingency_table$$);
SELECT regress.err($$SELECT '00'::cxsell.score_counts$$);
-- "CXG" 2, buckets 10, two scores, the second higher than the first
SELECT regress.err($$SELECT ('43584702' || '0000000a' || '0000000000000002' ||
  '3fd0000000000000' || '0100' || '3fe0000000000000' || '0100')::cxsell.score_counts$$);
-- a score counting no row; a NaN score; trailing bytes
SELECT regress.err($$SELECT ('43584702' || '0000000a' || '0000000000000001' || '3fd0000000000000' || '0000')::cxsell.score_counts$$);
SELECT regress.err($$SELECT ('43584702' || '0000000a' || '0000000000000001' || '7ff8000000000000' || '0100')::cxsell.score_counts$$);
SELECT regress.err($$SELECT ('43584702' || '0000000a' || '0000000000000001' || '3fd0000000000000' || '010000')::cxsell.score_counts$$);
-- zero buckets; a count so large the total overflows
SELECT regress.err($$SELECT ('43584702' || '00000000' || '0000000000000000')::cxsell.score_counts$$);
SELECT regress.err($$SELECT ('43584702' || '0000000a' || '0000000000000001' || '3fd0000000000000' ||
  'ffffffffffffffff7f' || 'ffffffffffffffff7f')::cxsell.score_counts$$);
-- "CXC" 1 with integer labels; with a collation that does not exist
SELECT regress.err($$SELECT ('43584301' || '00000000' || '00000017' || '00000017' ||
  '00000000' || '00000000' || '0000000000000000')::cxsell.contingency_table$$);
SELECT regress.err($$SELECT ('43584301' || '7fffffff' || '00000019' || '00000010' ||
  '00000000' || '00000000' || '0000000000000000')::cxsell.contingency_table$$);
-- text labels under another collation than "C"
SELECT regress.err($$SELECT ('43584301' || '00000064' || '00000019' || '00000010' ||
  '00000000' || '00000000' || '0000000000000000')::cxsell.contingency_table$$);
-- a valid empty table: text and boolean labels, collation "C"
SELECT cxsell.contingency_final(('43584301' || '000003b6' || '00000019' || '00000010' ||
  '00000000' || '00000000' || '0000000000000000')::cxsell.contingency_table) IS NULL AS empty;
-- states of different buckets or label types do not combine
SELECT regress.err($$SELECT regress.gains_of(s) FROM (
  SELECT regress.score_state(0.5, true, 3) UNION ALL SELECT regress.score_state(0.5, true, 4)) x(s)$$);
SELECT regress.err($$SELECT regress.chi_square_of(s) FROM (
  SELECT regress.table_state('a', true) UNION ALL SELECT regress.table_state('a', 'b')) x(s)$$);
-- support functions are not for direct calls
SELECT regress.err($$SELECT cxsell.score_counts_trans(NULL, 0.5, true)$$);
SELECT regress.err($$SELECT cxsell.contingency_combine(NULL, NULL)$$);

-- cxsell.max_memory bounds the states of every group together
SET cxsell.max_memory = '1MB';
SET enable_sort = off;
SET max_parallel_workers_per_gather = 0;
SELECT regexp_replace(regress.err_context($$SELECT count(x) FROM (SELECT g % 200 AS grp,
  cxsell.auc(g::float8, g % 3 = 0) AS x FROM generate_series(1, 200000) g GROUP BY 1) s$$),
  '\d+ kB', 'N kB', 'g');
RESET enable_sort;
SET enable_hashagg = off;
SELECT count(x) FROM (SELECT g % 200 AS grp, cxsell.auc(g::float8, g % 3 = 0) AS x
                      FROM generate_series(1, 200000) g GROUP BY 1) s;
RESET enable_hashagg;
RESET max_parallel_workers_per_gather;
RESET cxsell.max_memory;
-- a window aggregate keeps its state across rows
SELECT id, round(cxsell.auc(score, responded) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING)::numeric, 4) AS auc
FROM (VALUES (1, 0.9, true), (2, 0.1, false), (3, 0.5, true), (4, 0.7, false), (5, 0.3, true)) v(id, score, responded)
ORDER BY id;
-- grouping sets: a state per set
SELECT channel, count(*), round(cxsell.auc(score, responded)::numeric, 6) AS auc,
       (cxsell.chi_square(offer, responded)).n AS n
FROM ps WHERE id <= 2000 GROUP BY GROUPING SETS ((channel), ()) ORDER BY GROUPING(channel), channel NULLS LAST;

-- a state given as INITCOND must hold labels of the transition's types
CREATE AGGREGATE regress.bad_table(boolean, boolean) (
	SFUNC = cxsell.contingency_trans, STYPE = cxsell.contingency_table,
	FINALFUNC = cxsell.contingency_final,
	INITCOND = '43584301000003b60000001900000019000000010000000178000000010000000178000000000000000100000000000000000000000000000001');
SELECT regress.err($$SELECT regress.bad_table(true, true)$$);
CREATE AGGREGATE regress.good_table(text, text) (
	SFUNC = cxsell.contingency_trans, STYPE = cxsell.contingency_table,
	FINALFUNC = cxsell.contingency_final,
	INITCOND = '43584301000003b60000001900000019000000010000000178000000010000000178000000000000000100000000000000000000000000000001');
SELECT (regress.good_table(a, b)).n FROM (VALUES ('x', 'y'), ('x', 'x')) v(a, b);
-- a state claiming more buckets than it has scores
SELECT cardinality(cxsell.gains_counts_final('435847027fffffff00000000000000013fe000000000000080808080802000')) AS buckets;
