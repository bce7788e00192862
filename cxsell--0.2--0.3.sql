/* cxsell--0.2--0.3.sql: managed analyses a DBA can trust */

\echo Use "ALTER EXTENSION cxsell UPDATE TO '0.3'" to load this file. \quit

-- chi_square gets a state of its own: the contingency table of counts -------

DROP AGGREGATE cxsell.chi_square(anyelement, anycompatible);
DROP FUNCTION cxsell.chisq_trans(internal, anyelement, anycompatible);
DROP FUNCTION cxsell.chisq_final(internal);
CREATE FUNCTION cxsell.chisq_table_trans(internal, anyelement, anycompatible)
	RETURNS internal AS 'MODULE_PATHNAME', 'chisq_table_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.chisq_table_final(internal) RETURNS cxsell.chi_square_result
	AS 'MODULE_PATHNAME', 'chisq_table_final'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.chisq_table_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'chisq_table_combine'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.chisq_table_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'chisq_table_serialize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.chisq_table_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'chisq_table_deserialize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE cxsell.chi_square(row_label anyelement, column_label anycompatible) (
	SFUNC = cxsell.chisq_table_trans, STYPE = internal,
	FINALFUNC = cxsell.chisq_table_final,
	COMBINEFUNC = cxsell.chisq_table_combine,
	SERIALFUNC = cxsell.chisq_table_serialize, DESERIALFUNC = cxsell.chisq_table_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE cxsell.chi_square(anyelement, anycompatible) IS
	'Pearson chi-square test of independence of two labels (e.g. channel x responded), one row per observation';

-- Statistics whose states Citus aggregates on the workers ---------------------
--
-- Citus pushes a custom aggregate down to the workers only when its state
-- has a concrete type with text and binary forms and a combine function,
-- and its arguments are not polymorphic.  gains and auc count the rows per
-- distinct score (cxsell.score_counts); chi_square gets overloads for text
-- and boolean labels whose state is the contingency table
-- (cxsell.contingency_table).  Both states are expanded objects updated in
-- place: a row costs no copy.

DROP AGGREGATE cxsell.gains(float8, boolean);
DROP AGGREGATE cxsell.gains(float8, boolean, int4);
DROP AGGREGATE cxsell.auc(float8, boolean);
DROP FUNCTION cxsell.gains_trans(internal, float8, boolean);
DROP FUNCTION cxsell.gains_trans(internal, float8, boolean, int4);
DROP FUNCTION cxsell.gains_combine(internal, internal);
DROP FUNCTION cxsell.gains_serialize(internal);
DROP FUNCTION cxsell.gains_deserialize(bytea, internal);
DROP FUNCTION cxsell.gains_final(internal);
DROP FUNCTION cxsell.auc_final(internal);

CREATE TYPE cxsell.score_counts;
CREATE FUNCTION cxsell.score_counts_in(cstring) RETURNS cxsell.score_counts
	AS 'MODULE_PATHNAME', 'score_counts_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.score_counts_out(cxsell.score_counts) RETURNS cstring
	AS 'MODULE_PATHNAME', 'score_counts_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.score_counts_recv(internal) RETURNS cxsell.score_counts
	AS 'MODULE_PATHNAME', 'score_counts_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.score_counts_send(cxsell.score_counts) RETURNS bytea
	AS 'MODULE_PATHNAME', 'score_counts_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE cxsell.score_counts (
	INPUT = cxsell.score_counts_in,
	OUTPUT = cxsell.score_counts_out,
	RECEIVE = cxsell.score_counts_recv,
	SEND = cxsell.score_counts_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);
COMMENT ON TYPE cxsell.score_counts IS
	'partial state of cxsell.gains and cxsell.auc: responders and others per distinct score (text form: hexadecimal)';
COMMENT ON FUNCTION cxsell.score_counts_in(cstring) IS
	'text and binary input/output of type cxsell.score_counts';
COMMENT ON FUNCTION cxsell.score_counts_out(cxsell.score_counts) IS
	'text and binary input/output of type cxsell.score_counts';
COMMENT ON FUNCTION cxsell.score_counts_recv(internal) IS
	'text and binary input/output of type cxsell.score_counts';
COMMENT ON FUNCTION cxsell.score_counts_send(cxsell.score_counts) IS
	'text and binary input/output of type cxsell.score_counts';

CREATE FUNCTION cxsell.score_counts_trans(cxsell.score_counts, float8, boolean)
	RETURNS cxsell.score_counts AS 'MODULE_PATHNAME', 'score_counts_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.score_counts_trans(cxsell.score_counts, float8, boolean, int4)
	RETURNS cxsell.score_counts AS 'MODULE_PATHNAME', 'score_counts_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.score_counts_combine(cxsell.score_counts, cxsell.score_counts)
	RETURNS cxsell.score_counts AS 'MODULE_PATHNAME', 'score_counts_combine'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.gains_counts_final(cxsell.score_counts) RETURNS cxsell.gains_bucket[]
	AS 'MODULE_PATHNAME', 'gains_counts_final'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.auc_counts_final(cxsell.score_counts) RETURNS float8
	AS 'MODULE_PATHNAME', 'auc_counts_final'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell.score_counts_trans(cxsell.score_counts, float8, boolean) IS
	'support function of aggregates cxsell.gains and cxsell.auc';
COMMENT ON FUNCTION cxsell.score_counts_trans(cxsell.score_counts, float8, boolean, int4) IS
	'support function of aggregate cxsell.gains';
COMMENT ON FUNCTION cxsell.score_counts_combine(cxsell.score_counts, cxsell.score_counts) IS
	'support function of aggregates cxsell.gains and cxsell.auc';
COMMENT ON FUNCTION cxsell.gains_counts_final(cxsell.score_counts) IS
	'support function of aggregate cxsell.gains';
COMMENT ON FUNCTION cxsell.auc_counts_final(cxsell.score_counts) IS
	'support function of aggregate cxsell.auc';

CREATE AGGREGATE cxsell.gains(score float8, responded boolean) (
	SFUNC = cxsell.score_counts_trans, STYPE = cxsell.score_counts,
	FINALFUNC = cxsell.gains_counts_final,
	COMBINEFUNC = cxsell.score_counts_combine,
	PARALLEL = SAFE
);
CREATE AGGREGATE cxsell.gains(score float8, responded boolean, buckets int4) (
	SFUNC = cxsell.score_counts_trans, STYPE = cxsell.score_counts,
	FINALFUNC = cxsell.gains_counts_final,
	COMBINEFUNC = cxsell.score_counts_combine,
	PARALLEL = SAFE
);
CREATE AGGREGATE cxsell.auc(score float8, responded boolean) (
	SFUNC = cxsell.score_counts_trans, STYPE = cxsell.score_counts,
	FINALFUNC = cxsell.auc_counts_final,
	COMBINEFUNC = cxsell.score_counts_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE cxsell.gains(float8, boolean) IS
	'gains table by decile of score: one cxsell.gains_bucket per bucket';
COMMENT ON AGGREGATE cxsell.gains(float8, boolean, int4) IS
	'gains table with the given number of buckets: one cxsell.gains_bucket per bucket';
COMMENT ON AGGREGATE cxsell.auc(float8, boolean) IS
	'area under the ROC curve of a score for a yes/no outcome (ties count one half)';

CREATE TYPE cxsell.contingency_table;
CREATE FUNCTION cxsell.contingency_table_in(cstring) RETURNS cxsell.contingency_table
	AS 'MODULE_PATHNAME', 'contingency_table_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.contingency_table_out(cxsell.contingency_table) RETURNS cstring
	AS 'MODULE_PATHNAME', 'contingency_table_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.contingency_table_recv(internal) RETURNS cxsell.contingency_table
	AS 'MODULE_PATHNAME', 'contingency_table_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.contingency_table_send(cxsell.contingency_table) RETURNS bytea
	AS 'MODULE_PATHNAME', 'contingency_table_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE cxsell.contingency_table (
	INPUT = cxsell.contingency_table_in,
	OUTPUT = cxsell.contingency_table_out,
	RECEIVE = cxsell.contingency_table_recv,
	SEND = cxsell.contingency_table_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);
COMMENT ON TYPE cxsell.contingency_table IS
	'partial state of cxsell.chi_square over text and boolean labels: the labels and the count of each cell (text form: hexadecimal)';
COMMENT ON FUNCTION cxsell.contingency_table_in(cstring) IS
	'text and binary input/output of type cxsell.contingency_table';
COMMENT ON FUNCTION cxsell.contingency_table_out(cxsell.contingency_table) IS
	'text and binary input/output of type cxsell.contingency_table';
COMMENT ON FUNCTION cxsell.contingency_table_recv(internal) IS
	'text and binary input/output of type cxsell.contingency_table';
COMMENT ON FUNCTION cxsell.contingency_table_send(cxsell.contingency_table) IS
	'text and binary input/output of type cxsell.contingency_table';

CREATE FUNCTION cxsell.contingency_combine(cxsell.contingency_table, cxsell.contingency_table)
	RETURNS cxsell.contingency_table AS 'MODULE_PATHNAME', 'contingency_combine'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.contingency_final(cxsell.contingency_table)
	RETURNS cxsell.chi_square_result AS 'MODULE_PATHNAME', 'contingency_final'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell.contingency_combine(cxsell.contingency_table, cxsell.contingency_table) IS
	'support function of aggregate cxsell.chi_square (text and boolean labels)';
COMMENT ON FUNCTION cxsell.contingency_final(cxsell.contingency_table) IS
	'support function of aggregate cxsell.chi_square (text and boolean labels)';
DO $overloads$
DECLARE
	t record;
BEGIN
	FOR t IN
		SELECT r.typ AS row_type, c.typ AS column_type
		FROM unnest('{text,boolean}'::text[]) WITH ORDINALITY r(typ, o),
			 unnest('{text,boolean}'::text[]) WITH ORDINALITY c(typ, p)
		ORDER BY r.o, c.p
	LOOP
		EXECUTE format($sql$
			CREATE FUNCTION cxsell.contingency_trans(cxsell.contingency_table, %1$s, %2$s)
				RETURNS cxsell.contingency_table AS 'MODULE_PATHNAME', 'contingency_trans'
				LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
			COMMENT ON FUNCTION cxsell.contingency_trans(cxsell.contingency_table, %1$s, %2$s) IS
				'support function of aggregate cxsell.chi_square (text and boolean labels)';
			CREATE AGGREGATE cxsell.chi_square(row_label %1$s, column_label %2$s) (
				SFUNC = cxsell.contingency_trans, STYPE = cxsell.contingency_table,
				FINALFUNC = cxsell.contingency_final,
				COMBINEFUNC = cxsell.contingency_combine,
				PARALLEL = SAFE
			);
			COMMENT ON AGGREGATE cxsell.chi_square(%1$s, %2$s) IS
				'Pearson chi-square test of independence of two %1$s and %2$s labels; its state, the contingency table, is aggregated on Citus workers';
			$sql$, t.row_type, t.column_type);
	END LOOP;
END
$overloads$;

-- One name per concept ---------------------------------------------------------
--
-- The mining result is the argument `patterns` (it was p), the measure
-- that orders rows is `rank_by` (rules called it order_by), and arguments
-- holding query text end in _query (baskets, segments and holdings did
-- not).  rules and item_pairs gain the q_value (the p-value adjusted for
-- the number of tests, Benjamini-Hochberg by default) and item_pairs
-- decides complement and substitute on it; segment_profiles does the same
-- for its direction.  recommend and backtest use, by default, only rules
-- with lift >= 1 (min_lift 1; it was 0).  The query-text functions check
-- their queries first (cxsell._query_text).  Renaming an argument needs the
-- function dropped and created again.

-- current_itemsets reads itemsets(): it goes too, and comes back below with
-- the privileges granted on it.
CREATE TEMP TABLE cxsell_saved_acl ON COMMIT DROP AS
SELECT c.relacl FROM pg_catalog.pg_class c WHERE c.oid = 'cxsell.current_itemsets'::pg_catalog.regclass;
DROP VIEW cxsell.current_itemsets;
DROP FUNCTION cxsell.summary(cxsell.patterns);
DROP FUNCTION cxsell.itemsets(cxsell.patterns);
DROP FUNCTION cxsell.rules(cxsell.patterns, float8, float8, int4, int4, text[], text[], bigint, text);
DROP FUNCTION cxsell.item_pairs(cxsell.patterns, float8);
DROP FUNCTION cxsell.recommend(cxsell.patterns, text[], int4, text, float8, float8, boolean);
DROP FUNCTION cxsell.backtest(text, float8, int4, float8, int8, text, float8, float8, boolean, int4);
DROP FUNCTION cxsell.segment_profiles(text, text, float8);
DROP FUNCTION cxsell.segment_propensity(text, text, text);
DROP FUNCTION cxsell.channel_report(text, float8);

CREATE FUNCTION cxsell.summary(patterns cxsell.patterns,
	OUT baskets bigint, OUT min_support float8, OUT min_count bigint,
	OUT max_len int4, OUT items int4, OUT itemsets bigint,
	OUT max_itemset_size int4, OUT co_occurring_pairs bigint)
	RETURNS record AS 'MODULE_PATHNAME', 'patterns_summary'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell.summary(cxsell.patterns) IS
	'basket count, thresholds and sizes of a mining result';

CREATE FUNCTION cxsell.itemsets(patterns cxsell.patterns,
	OUT items text[], OUT size int4, OUT count bigint, OUT support float8)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'patterns_itemsets'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION cxsell.itemsets(cxsell.patterns) IS
	'frequent itemsets with their basket counts and supports, by size, then count descending';

CREATE FUNCTION cxsell.rules(patterns cxsell.patterns,
	min_confidence float8 DEFAULT 0,
	min_lift float8 DEFAULT 0,
	max_antecedent int4 DEFAULT 0,
	max_consequent int4 DEFAULT 0,
	antecedents text[] DEFAULT NULL,
	consequents text[] DEFAULT NULL,
	max_rules bigint DEFAULT 0,
	rank_by text DEFAULT 'confidence',
	adjust text DEFAULT 'bh',
	OUT antecedent text[], OUT consequent text[],
	OUT antecedent_support float8, OUT consequent_support float8,
	OUT support float8, OUT confidence float8, OUT lift float8,
	OUT leverage float8, OUT conviction float8, OUT jaccard float8,
	OUT kulczynski float8, OUT certainty float8, OUT zhang float8,
	OUT count bigint, OUT p_value float8, OUT q_value float8)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'patterns_rules'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION cxsell.rules(cxsell.patterns, float8, float8, int4, int4, text[], text[], bigint, text, text) IS
	'association rules with support, confidence, lift, leverage, conviction, jaccard, kulczynski, certainty, zhang, count, one-sided Fisher p-value and its q-value over the rules returned';

CREATE FUNCTION cxsell.item_pairs(patterns cxsell.patterns, alpha float8 DEFAULT 0.05,
	adjust text DEFAULT 'bh',
	OUT item_a text, OUT item_b text, OUT count_a bigint, OUT count_b bigint,
	OUT observed bigint, OUT expected float8, OUT support float8,
	OUT lift float8, OUT p_value float8, OUT q_value float8, OUT relation text)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'patterns_item_pairs'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION cxsell.item_pairs(cxsell.patterns, float8, text) IS
	'every pair of frequent items with observed and expected co-occurrence, lift, two-sided Fisher p-value, its q-value over all pairs, and complement/substitute/independent decided on the q-value';

CREATE FUNCTION cxsell.recommend(patterns cxsell.patterns, held text[], n int4,
	rank_by text DEFAULT 'confidence',
	min_confidence float8 DEFAULT 0,
	min_lift float8 DEFAULT 1,
	fallback boolean DEFAULT true,
	OUT rank int4, OUT item text, OUT score float8, OUT confidence float8,
	OUT lift float8, OUT support float8, OUT antecedent text[], OUT source text)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'patterns_recommend'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 5;
COMMENT ON FUNCTION cxsell.recommend(cxsell.patterns, text[], int4, text, float8, float8, boolean) IS
	'the n best items not held: per item the best rule (lift >= min_lift, 1 by default) whose antecedent is held, by confidence or lift, topped up by popularity when fallback is on';

CREATE FUNCTION cxsell._query_text(argument text, query text, columns text[], types regtype[])
	RETURNS text AS 'MODULE_PATHNAME', 'cxsell_query_text'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED;
COMMENT ON FUNCTION cxsell._query_text(text, text, text[], regtype[]) IS
	'internal (the query-text functions): check a query given as text (one SELECT returning the columns named, each readable as its type) and return its text';

-- The functions below run the caller's own queries (with the caller's
-- privileges and search_path); everything else in them is schema-qualified,
-- operators included, so that search_path cannot redirect it.

CREATE FUNCTION cxsell.backtest(baskets_query text, min_support float8, n int4 DEFAULT 5,
	holdout float8 DEFAULT 0.2,
	seed int8 DEFAULT 0,
	rank_by text DEFAULT 'confidence',
	min_confidence float8 DEFAULT 0,
	min_lift float8 DEFAULT 1,
	fallback boolean DEFAULT true,
	max_len int4 DEFAULT 0,
	OUT method text, OUT train_baskets bigint, OUT test_baskets bigint,
	OUT hits bigint, OUT hit_rate float8, OUT hit_rate_lower float8,
	OUT hit_rate_upper float8, OUT coverage float8, OUT items_recommended bigint)
	RETURNS SETOF record
	LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
	-- recommend's notice about customers who hold no frequent item is no
	-- news in a backtest: many test baskets hold only rare items
	SET client_min_messages = warning
AS $fn$
DECLARE
	baskets text;
BEGIN
	IF holdout IS NULL OR NOT (holdout OPERATOR(pg_catalog.>) 0
							   AND holdout OPERATOR(pg_catalog.<) 1) THEN
		RAISE EXCEPTION 'holdout % is out of range', holdout
			USING ERRCODE = '22023',
			HINT = 'Use the fraction of baskets to test on, greater than 0 and less than 1, such as 0.2.';
	END IF;
	IF seed IS NULL THEN
		RAISE EXCEPTION 'seed must not be null'
			USING ERRCODE = '22004',
			HINT = 'Omit the argument to use its default.';
	END IF;
	PERFORM cxsell._check_rule_options(min_support, max_len, n, rank_by,
									   min_confidence, min_lift, fallback);
	baskets := cxsell._query_text('baskets_query', baskets_query,
								  '{basket,item}', '{NULL,NULL}');

	RETURN QUERY EXECUTE pg_catalog.format($q$
		WITH lines AS MATERIALIZED (
			SELECT DISTINCT q.b::pg_catalog.text AS basket, q.i::pg_catalog.text AS item
			FROM (%s) AS q(b, i)
			WHERE q.b IS NOT NULL AND q.i IS NOT NULL),
		split AS MATERIALIZED (
			SELECT l.basket, l.item,
			       ((pg_catalog.hashtextextended(l.basket, $1)
			         OPERATOR(pg_catalog.&) 9223372036854775807)::pg_catalog.float8
			        OPERATOR(pg_catalog./) 9223372036854775808.0::pg_catalog.float8)
			         OPERATOR(pg_catalog.<) $2 AS test
			FROM lines l),
		model AS (
			SELECT cxsell.mine(s.basket, s.item, $3, $4) AS p,
			       pg_catalog.count(DISTINCT s.basket) AS train_baskets
			FROM split s WHERE NOT s.test),
		ranked AS (
			SELECT s.basket, s.item,
			       pg_catalog.row_number() OVER (PARTITION BY s.basket
			           ORDER BY pg_catalog.hashtextextended(s.item,
			                        pg_catalog.hashtextextended(s.basket, $1)), s.item) AS pos,
			       pg_catalog.count(*) OVER (PARTITION BY s.basket) AS size
			FROM split s WHERE s.test),
		cases AS (
			SELECT r.basket,
			       pg_catalog.max(r.item) FILTER (WHERE r.pos OPERATOR(pg_catalog.=) 1) AS hidden,
			       pg_catalog.array_agg(r.item) FILTER (WHERE r.pos OPERATOR(pg_catalog.>) 1) AS held
			FROM ranked r
			WHERE r.size OPERATOR(pg_catalog.>=) 2
			GROUP BY r.basket),
		methods AS (
			SELECT * FROM (VALUES (1, 'rules', 'rule', $6), (2, 'popularity', 'popularity', 'popularity'))
			         AS m(ord, method, source, rank_by)),
		recs AS MATERIALIZED (
			SELECT m.ord, m.method, c.basket, c.hidden, m.source AS own_source,
			       x.item, x.source
			FROM cases c CROSS JOIN model CROSS JOIN methods m
			     LEFT JOIN LATERAL cxsell.recommend(model.p, c.held, $5, m.rank_by, $7, $8, $9) x
			       ON true),
		outcomes AS (
			SELECT r.ord, r.method, r.basket,
			       pg_catalog.bool_or(r.item OPERATOR(pg_catalog.=) r.hidden) IS TRUE AS hit,
			       pg_catalog.bool_or(r.source OPERATOR(pg_catalog.=) r.own_source) IS TRUE AS covered
			FROM recs r
			GROUP BY r.ord, r.method, r.basket),
		items AS (
			SELECT r.ord, pg_catalog.count(DISTINCT r.item) AS items
			FROM recs r GROUP BY r.ord),
		totals AS (
			SELECT o.ord, o.method, pg_catalog.count(*) AS tested,
			       pg_catalog.count(*) FILTER (WHERE o.hit) AS hits,
			       pg_catalog.avg(o.covered::pg_catalog.int4)::pg_catalog.float8 AS coverage
			FROM outcomes o GROUP BY o.ord, o.method)
		SELECT t.method, model.train_baskets, t.tested, t.hits, w.rate, w.lower, w.upper,
		       t.coverage, coalesce(i.items, 0)
		FROM totals t CROSS JOIN model
		     LEFT JOIN items i ON i.ord OPERATOR(pg_catalog.=) t.ord,
		     LATERAL cxsell.wilson_interval(t.hits, t.tested, 0.95) w
		ORDER BY t.ord
	$q$, baskets) USING seed, holdout, min_support, max_len, n, rank_by,
						min_confidence, min_lift, fallback;
END
$fn$;
COMMENT ON FUNCTION cxsell.backtest(text, float8, int4, float8, int8, text, float8, float8, boolean, int4) IS
	'hide one item of each held-out basket, recommend from the rest with rules mined on the other baskets, and report hit rate, coverage and the popularity baseline';

CREATE FUNCTION cxsell.segment_profiles(segments_query text, holdings_query text,
	alpha float8 DEFAULT 0.05, adjust text DEFAULT 'bh',
	OUT segment text, OUT product text, OUT customers bigint, OUT holders bigint,
	OUT adoption_rate float8, OUT overall_rate float8, OUT index float8,
	OUT p_value float8, OUT q_value float8, OUT direction text)
	RETURNS SETOF record
	LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
AS $fn$
DECLARE
	segments text;
	holdings text;
	found_rows bigint;
	overlap boolean;
BEGIN
	IF alpha IS NULL OR NOT (alpha OPERATOR(pg_catalog.>) 0
							 AND alpha OPERATOR(pg_catalog.<) 1) THEN
		RAISE EXCEPTION 'alpha % is out of range', alpha
			USING ERRCODE = '22023',
			HINT = 'Use a significance level greater than 0 and less than 1, such as 0.05.';
	END IF;
	IF adjust IS NULL THEN
		RAISE EXCEPTION 'adjust must not be null'
			USING ERRCODE = '22004',
			HINT = 'Omit the argument to use its default, bh.';
	END IF;
	IF NOT adjust OPERATOR(pg_catalog.=) ANY ('{bh,holm,none}'::text[]) THEN
		RAISE EXCEPTION 'unrecognized adjust "%"', adjust
			USING ERRCODE = '22023',
			HINT = 'Use bh (Benjamini-Hochberg q-values), holm, or none for the p-values as they are.';
	END IF;
	segments := cxsell._query_text('segments_query', segments_query,
								   '{customer,segment}', '{NULL,NULL}');
	holdings := cxsell._query_text('holdings_query', holdings_query,
								   '{customer,product}', '{NULL,NULL}');
	RETURN QUERY EXECUTE pg_catalog.format($q$
		WITH seg AS (
			SELECT DISTINCT s.c::pg_catalog.text AS customer, s.g::pg_catalog.text AS segment
			FROM (%s) AS s(c, g)
			WHERE s.c IS NOT NULL AND s.g IS NOT NULL),
		held AS (
			SELECT DISTINCT h.c::pg_catalog.text AS customer, h.p::pg_catalog.text AS product
			FROM (%s) AS h(c, p)
			WHERE h.c IS NOT NULL AND h.p IS NOT NULL),
		sizes AS (
			SELECT seg.segment, pg_catalog.count(*) AS customers FROM seg GROUP BY seg.segment),
		total AS (
			SELECT pg_catalog.count(DISTINCT seg.customer) AS customers FROM seg),
		hs AS (
			SELECT seg.segment, held.product, pg_catalog.count(*) AS holders
			FROM seg JOIN held ON held.customer OPERATOR(pg_catalog.=) seg.customer
			GROUP BY seg.segment, held.product),
		ph AS (
			SELECT held.product, pg_catalog.count(DISTINCT held.customer) AS holders
			FROM held
			WHERE EXISTS (SELECT FROM seg WHERE seg.customer OPERATOR(pg_catalog.=) held.customer)
			GROUP BY held.product),
		grid AS (
			SELECT sizes.segment, sizes.customers, ph.product, ph.holders AS product_holders,
			       coalesce(hs.holders, 0) AS holders, total.customers AS all_customers,
			       coalesce(hs.holders, 0)::pg_catalog.float8
			         OPERATOR(pg_catalog./) sizes.customers::pg_catalog.float8 AS rate,
			       ph.holders::pg_catalog.float8
			         OPERATOR(pg_catalog./) total.customers::pg_catalog.float8 AS overall
			FROM sizes CROSS JOIN ph CROSS JOIN total
			LEFT JOIN hs ON hs.segment OPERATOR(pg_catalog.=) sizes.segment
			            AND hs.product OPERATOR(pg_catalog.=) ph.product),
		tested AS (
			SELECT g.*, p.p,
			       pg_catalog.row_number() OVER (ORDER BY p.p, g.segment, g.product) AS k,
			       pg_catalog.count(*) OVER () AS m
			FROM grid g,
			     LATERAL (SELECT cxsell.p_value_two_sided(g.holders, g.customers,
			                                              g.product_holders, g.all_customers) AS p) p),
		adjusted AS (
			SELECT t.*,
			       CASE WHEN $2 OPERATOR(pg_catalog.=) 'bh'
			              THEN pg_catalog.min(LEAST(1::pg_catalog.float8,
			                     t.p OPERATOR(pg_catalog.*) t.m::pg_catalog.float8
			                     OPERATOR(pg_catalog./) t.k::pg_catalog.float8))
			                   OVER (ORDER BY t.k DESC)
			            WHEN $2 OPERATOR(pg_catalog.=) 'holm'
			              THEN pg_catalog.max(LEAST(1::pg_catalog.float8,
			                     t.p OPERATOR(pg_catalog.*) (t.m OPERATOR(pg_catalog.-) t.k
			                     OPERATOR(pg_catalog.+) 1)::pg_catalog.float8))
			                   OVER (ORDER BY t.k)
			            ELSE t.p END AS q
			FROM tested t)
		SELECT a.segment, a.product, a.customers, a.holders, a.rate, a.overall,
		       a.rate OPERATOR(pg_catalog./) a.overall, a.p, a.q,
		       CASE WHEN a.q OPERATOR(pg_catalog.>=) $1 THEN 'none'
		            WHEN a.rate OPERATOR(pg_catalog.>) a.overall THEN 'over'
		            WHEN a.rate OPERATOR(pg_catalog.<) a.overall THEN 'under'
		            ELSE 'none' END
		FROM adjusted a
		ORDER BY a.segment, a.product
	$q$, segments, holdings) USING alpha, adjust;
	GET DIAGNOSTICS found_rows = ROW_COUNT;
	IF found_rows OPERATOR(pg_catalog.=) 0 THEN
		EXECUTE pg_catalog.format($q$
			SELECT EXISTS (SELECT FROM (%s) AS s(c, g) WHERE s.c IS NOT NULL AND s.g IS NOT NULL)
			   AND EXISTS (SELECT FROM (%s) AS h(c, p) WHERE h.c IS NOT NULL AND h.p IS NOT NULL)
		$q$, segments, holdings) INTO overlap;
		IF overlap THEN
			RAISE WARNING 'no customer of segments_query appears in holdings_query'
				USING DETAIL = 'Both queries return rows, but their customers never match, so there is nothing to profile.',
				HINT = 'The first column of each query must be the customer: (customer, segment) and (customer, product). Check the column order and that both give customers the same form.';
		END IF;
	END IF;
END
$fn$;
COMMENT ON FUNCTION cxsell.segment_profiles(text, text, float8, text) IS
	'per segment and product: customers, holders, adoption rate, overall rate, index (lift), two-sided Fisher p-value, its q-value over the whole table and over/under/none decided on the q-value';

CREATE FUNCTION cxsell.segment_propensity(segments_query text, holdings_query text, product text,
	OUT customer text, OUT segment text, OUT holds boolean, OUT propensity float8)
	RETURNS SETOF record
	LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
AS $fn$
DECLARE
	segments text;
	holdings text;
BEGIN
	IF product IS NULL THEN
		RAISE EXCEPTION 'product must not be null'
			USING ERRCODE = '22004',
			HINT = 'Pass the product whose propensity you want, as holdings_query names it.';
	END IF;
	segments := cxsell._query_text('segments_query', segments_query,
								   '{customer,segment}', '{NULL,NULL}');
	holdings := cxsell._query_text('holdings_query', holdings_query,
								   '{customer,product}', '{NULL,NULL}');
	RETURN QUERY EXECUTE pg_catalog.format($q$
		WITH seg AS (
			SELECT DISTINCT s.c::pg_catalog.text AS customer, s.g::pg_catalog.text AS segment
			FROM (%s) AS s(c, g)
			WHERE s.c IS NOT NULL AND s.g IS NOT NULL),
		held AS (
			SELECT DISTINCT h.c::pg_catalog.text AS customer
			FROM (%s) AS h(c, p)
			WHERE h.c IS NOT NULL AND h.p::pg_catalog.text OPERATOR(pg_catalog.=) $1),
		flagged AS (
			SELECT seg.customer, seg.segment,
			       EXISTS (SELECT FROM held
			               WHERE held.customer OPERATOR(pg_catalog.=) seg.customer) AS holds
			FROM seg),
		rates AS (
			SELECT flagged.segment,
			       pg_catalog.avg(flagged.holds::pg_catalog.int4)::pg_catalog.float8 AS rate
			FROM flagged GROUP BY flagged.segment)
		SELECT f.customer, f.segment, f.holds, r.rate
		FROM flagged f JOIN rates r ON r.segment OPERATOR(pg_catalog.=) f.segment
		ORDER BY r.rate DESC, f.segment, f.customer
	$q$, segments, holdings) USING product;
END
$fn$;
COMMENT ON FUNCTION cxsell.segment_propensity(text, text, text) IS
	'per customer: segment, whether the customer holds the product, and the propensity: the adoption rate of the product in the customer''s segment';

CREATE FUNCTION cxsell.channel_report(contacts_query text, confidence float8 DEFAULT 0.95,
	OUT channel text, OUT contacts bigint, OUT responses bigint, OUT rate float8,
	OUT lower float8, OUT upper float8, OUT best boolean, OUT p_value_vs_best float8)
	RETURNS SETOF record
	LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
AS $fn$
DECLARE
	contacts text;
BEGIN
	IF confidence IS NULL OR NOT (confidence OPERATOR(pg_catalog.>) 0
								  AND confidence OPERATOR(pg_catalog.<) 1) THEN
		RAISE EXCEPTION 'confidence level % is out of range', confidence
			USING ERRCODE = '22023',
			HINT = 'Use a level greater than 0 and less than 1, such as 0.95.';
	END IF;
	contacts := cxsell._query_text('contacts_query', contacts_query,
								   '{channel,responded}', '{NULL,boolean}');
	RETURN QUERY EXECUTE pg_catalog.format($q$
		WITH c AS (
			SELECT q.ch::pg_catalog.text AS channel, pg_catalog.count(*) AS contacts,
			       pg_catalog.count(*) FILTER (WHERE q.r::pg_catalog.bool) AS responses
			FROM (%s) AS q(ch, r)
			WHERE q.ch IS NOT NULL AND q.r IS NOT NULL
			GROUP BY 1),
		b AS (
			SELECT c.channel, c.contacts, c.responses FROM c
			ORDER BY c.responses::pg_catalog.float8 OPERATOR(pg_catalog./) c.contacts DESC,
			         c.contacts DESC, c.channel
			LIMIT 1)
		SELECT c.channel, c.contacts, c.responses, w.rate, w.lower, w.upper,
		       c.channel OPERATOR(pg_catalog.=) b.channel,
		       CASE WHEN c.channel OPERATOR(pg_catalog.=) b.channel THEN NULL ELSE t.p_value END
		FROM c CROSS JOIN b,
		     LATERAL cxsell.wilson_interval(c.responses, c.contacts, $1) w,
		     LATERAL cxsell.two_proportion_test(c.responses, c.contacts, b.responses, b.contacts) t
		ORDER BY w.rate DESC, c.contacts DESC, c.channel
	$q$, contacts) USING confidence;
END
$fn$;
COMMENT ON FUNCTION cxsell.channel_report(text, float8) IS
	'per channel: contacts, responses, response rate with its Wilson interval, and the two-proportion z-test p-value against the best channel';

ALTER TABLE cxsell.rule_set_rules ADD COLUMN q_value float8;
ALTER TABLE cxsell.rule_set_pairs ADD COLUMN q_value float8;

-- Managed analyses, rebuilt ---------------------------------------------------
--
-- The tables of the managed layer (definitions, results, run log) are
-- written only by the extension's own functions.  Each public function of
-- the layer is a gate (C, cxsell_managed_call): it notes the calling role,
-- which nothing the caller passes can change, and calls its body, the
-- function of the same name in schema cxsell_internal, as the body's owner
-- (the extension's owner).  The body decides what the caller may do: the
-- analyses a role may change or refresh are those owned by a role it may
-- SET ROLE to.  A stored source query never runs with the rights of whoever
-- refreshes it: cxsell_internal.source_rows runs it in a background worker
-- of its own, in a read-only transaction, as its owner inside a
-- security-restricted operation (see src/stored_query.c).

DROP PROCEDURE cxsell.refresh_all();
DROP PROCEDURE cxsell.refresh(text);
DROP FUNCTION cxsell._reraise(text, text, text, text);
DROP FUNCTION cxsell._log_finish(bigint, text, bigint, text);
DROP FUNCTION cxsell._log_start(text, text);
DROP FUNCTION cxsell._analysis_kind(text);
DROP FUNCTION cxsell._refresh(text, text);
DROP FUNCTION cxsell._refresh_segmentation(text);
DROP FUNCTION cxsell._refresh_rule_set(text);
DROP FUNCTION cxsell._run_source(text, text, name, text, text);
DROP FUNCTION cxsell.drop_segmentation(text);
DROP FUNCTION cxsell.alter_segmentation(text, text, int4, jsonb);
DROP FUNCTION cxsell._alter_segmentation(text, text, int4, jsonb, text);
DROP FUNCTION cxsell.create_segmentation(text, text, int4, jsonb);
DROP FUNCTION cxsell._create_segmentation(text, text, int4, jsonb, text);
DROP FUNCTION cxsell.drop_rule_set(text);
DROP FUNCTION cxsell.alter_rule_set(text, text, float8, int4, float8, float8, int4, text);
DROP FUNCTION cxsell._alter_rule_set(text, text, float8, int4, float8, float8, int4, text, text);
DROP FUNCTION cxsell.create_rule_set(text, text, float8, int4, float8, float8, int4, text);
DROP FUNCTION cxsell._create_rule_set(text, text, float8, int4, float8, float8, int4, text, text);
DROP FUNCTION cxsell._check_segmentation(cxsell.segmentations);
DROP FUNCTION cxsell._check_rule_set(cxsell.rule_sets);
DROP FUNCTION cxsell._check_name(text, boolean);
DROP FUNCTION cxsell._source_columns(text, text, text);
DROP TRIGGER set_owner ON cxsell.rule_sets;
DROP TRIGGER set_owner ON cxsell.segmentations;
DROP FUNCTION cxsell._set_owner();

-- A stored query keeps the date style, interval style and time zone of the
-- session that wrote it, beside its search_path: it runs under them.
ALTER TABLE cxsell.rule_sets ADD COLUMN settings jsonb NOT NULL DEFAULT '{}';
ALTER TABLE cxsell.segmentations ADD COLUMN settings jsonb NOT NULL DEFAULT '{}';
COMMENT ON COLUMN cxsell.rule_sets.settings IS
	'DateStyle, IntervalStyle and TimeZone of the session that wrote the query, under which it runs';
COMMENT ON COLUMN cxsell.segmentations.settings IS
	'DateStyle, IntervalStyle and TimeZone of the session that wrote the query, under which it runs';

-- A rule set defined on a table Citus distributes mines it on the workers
-- (cxsell.mine_distributed): its relation, columns and filter.
ALTER TABLE cxsell.rule_sets ADD COLUMN distributed jsonb;
COMMENT ON COLUMN cxsell.rule_sets.distributed IS
	'for a rule set defined with cxsell.create_distributed_rule_set: {relation, basket, item, customer, filter}, mined with cxsell.mine_distributed; NULL when the source query is mined on the coordinator';
ALTER TABLE cxsell.segmentations ADD COLUMN distributed jsonb;
COMMENT ON COLUMN cxsell.segmentations.distributed IS
	'for a segmentation defined with cxsell.create_distributed_segmentation: {relation, customer, features, filter}, fitted with cxsell.kmeans_distributed; NULL when the source query is fitted on the coordinator';

-- The run log: the analysis's owner (who may read the entry), the backend
-- that ran it (a run whose backend or transaction is gone is interrupted),
-- the SQLSTATE of a failure.  Parameters are those read once the
-- analysis's lock was held: none when the run failed before.
ALTER TABLE cxsell.refresh_log
	ADD COLUMN owner name,
	ADD COLUMN pid int4,
	ADD COLUMN lock_key int4,
	ADD COLUMN sqlstate text,
	ALTER COLUMN parameters DROP NOT NULL,
	DROP CONSTRAINT refresh_log_status_check,
	ADD CONSTRAINT refresh_log_status_check
		CHECK (status IN ('running', 'success', 'error', 'interrupted'));
UPDATE cxsell.refresh_log l
SET owner = coalesce((SELECT r.owner FROM cxsell.rule_sets r WHERE r.name = l.name),
					 (SELECT g.owner FROM cxsell.segmentations g WHERE g.name = l.name),
					 (l.parameters->>'owner')::name, l.run_by);
ALTER TABLE cxsell.refresh_log ALTER COLUMN owner SET NOT NULL;
COMMENT ON COLUMN cxsell.refresh_log.owner IS 'the owner of the analysis when it ran: roles with its privileges may read the entry';
COMMENT ON COLUMN cxsell.refresh_log.pid IS 'the backend that ran the refresh';
COMMENT ON COLUMN cxsell.refresh_log.lock_key IS 'the random key of the advisory lock that backend holds while the run is alive';
COMMENT ON COLUMN cxsell.refresh_log.sqlstate IS 'the SQLSTATE of a failed run';

-- Nobody but the extension's owner holds a privilege on the tables: grants
-- made under 0.2 (its documentation suggested INSERT, UPDATE and DELETE for
-- analysts) are revoked.  Readers use the views.
DO $do$
DECLARE
	g record;
BEGIN
	FOR g IN
		SELECT DISTINCT pg_catalog.format('cxsell.%I', c.relname) AS rel, c.relkind,
			   pg_catalog.pg_get_userbyid(a.grantee) AS grantee
		FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
		WHERE c.relnamespace OPERATOR(pg_catalog.=) 'cxsell'::regnamespace
		  AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,S}'::"char"[])
		  AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
		  AND a.grantee OPERATOR(pg_catalog.<>) 0
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON %s %s FROM %I',
			CASE WHEN g.relkind OPERATOR(pg_catalog.=) 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
			g.rel, g.grantee);
		RAISE WARNING 'revoked the privileges of role % on %', g.grantee, g.rel
			USING HINT = 'cxsell 0.3 writes its tables only through its functions; grant EXECUTE on them and SELECT on the views instead (see the README''s security section).';
	END LOOP;
END
$do$;

CREATE SCHEMA cxsell_internal;
COMMENT ON SCHEMA cxsell_internal IS
	'the bodies of cxsell''s managed functions, run as the extension''s owner by their gates in schema cxsell; not for direct use';

-- Roles -------------------------------------------------------------------------

CREATE FUNCTION cxsell_internal.may_act_as(member name, role name) RETURNS boolean
	AS 'MODULE_PATHNAME', 'cxsell_may_act_as'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell_internal.may_act_as(name, name) IS
	'whether role member may act as (SET ROLE to) role; false for an unknown member, superusers only for an unknown role';

-- What the current role may read: the analyses of the roles whose
-- privileges it has (pg_has_role(..., 'USAGE')), every analysis for a
-- superuser (those of dropped roles included).  The views read these views
-- with their owner's rights, so readers need no grant on this schema; they
-- filter each table they read through them in an uncorrelated subquery (an
-- initplan), so the filter applies on the table's own scan, before any
-- condition of the reader's, and the reader's conditions see no hidden row.
CREATE VIEW cxsell_internal.reader AS
SELECT coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r
				 WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER), false) AS superuser,
	   ARRAY(SELECT r.rolname FROM pg_catalog.pg_roles r
			 WHERE pg_catalog.pg_has_role(r.oid, 'USAGE')) AS owners;

CREATE VIEW cxsell_internal.visible_rule_sets AS
SELECT r.name FROM cxsell.rule_sets r, cxsell_internal.reader x
WHERE x.superuser OR r.owner OPERATOR(pg_catalog.=) ANY (x.owners);

CREATE VIEW cxsell_internal.visible_segmentations AS
SELECT g.name FROM cxsell.segmentations g, cxsell_internal.reader x
WHERE x.superuser OR g.owner OPERATOR(pg_catalog.=) ANY (x.owners);

-- The refresh runs alive in this database: a run is alive while its
-- backend holds the run's advisory lock, keys (1668838193, lock_key) from
-- its start and (1668838194, lock_key) while its work runs.  lock_key is
-- random, so no role can hold it in advance.
CREATE VIEW cxsell_internal.live_runs AS
SELECT l.pid, l.objid::pg_catalog.int8 AS lock_key
FROM pg_catalog.pg_locks l
WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.objsubid OPERATOR(pg_catalog.=) 2
  AND l.classid OPERATOR(pg_catalog.=) ANY ('{1668838193,1668838194}'::pg_catalog.oid[])
  AND l.database OPERATOR(pg_catalog.=)
	  (SELECT d.oid FROM pg_catalog.pg_database d
	   WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database());

-- Raise again an error caught as {sqlstate, message, detail, hint}.
CREATE FUNCTION cxsell._reraise(outcome jsonb) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	st text := outcome->>'sqlstate';
	msg text := outcome->>'message';
	detail text := coalesce(outcome->>'detail', '');
	hint text := coalesce(outcome->>'hint', '');
BEGIN
	IF outcome IS NULL THEN
		RETURN;
	ELSIF detail = '' AND hint = '' THEN
		RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg;
	ELSIF hint = '' THEN
		RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg, DETAIL = detail;
	ELSIF detail = '' THEN
		RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg, HINT = hint;
	END IF;
	RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg, DETAIL = detail, HINT = hint;
END
$fn$;
COMMENT ON FUNCTION cxsell._reraise(jsonb) IS
	'internal: raise again an error caught as {sqlstate, message, detail, hint}; nothing when NULL';

-- Stored queries ------------------------------------------------------------------

CREATE FUNCTION cxsell_internal.source_rows(owner name, settings jsonb, query text,
	columns text[], types regtype[])
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'cxsell_source_rows'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell_internal.source_rows(name, jsonb, text, text[], regtype[]) IS
	'run a stored source query (exactly one SELECT) as its owner in a security-restricted operation under its stored settings; the columns named, cast to the types given';

CREATE FUNCTION cxsell_internal.source_columns(owner name, settings jsonb, query text,
	OUT name text, OUT type regtype)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'cxsell_source_columns'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell_internal.source_columns(name, jsonb, text) IS
	'check a stored source query as its owner, as source_rows runs it, reading no row; its columns';

-- The settings a query written now keeps (search_path is stored apart).
CREATE FUNCTION cxsell_internal.session_settings() RETURNS jsonb
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT jsonb_build_object('DateStyle', current_setting('DateStyle'),
							  'IntervalStyle', current_setting('IntervalStyle'),
							  'TimeZone', current_setting('TimeZone'))
$fn$;

-- The settings a stored query runs under.
CREATE FUNCTION cxsell_internal.query_settings(search_path text, settings jsonb) RETURNS jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT settings || jsonb_build_object('search_path', search_path)
$fn$;

-- The columns of an analysis's source query as {name: type}, checked as
-- its owner; `required` must each appear exactly once.  Errors name the
-- analysis.
CREATE FUNCTION cxsell_internal.source_query_columns(analysis text, kind text, owner name,
	settings jsonb, query text, required text[], hint text)
	RETURNS jsonb
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	cols jsonb;
	names text[];
	missing text[];
	st text;
	msg text;
	detail text;
	inner_hint text;
BEGIN
	IF query IS NULL OR btrim(query) = '' THEN
		RAISE EXCEPTION 'source query of % "%" must not be empty', kind, analysis
			USING ERRCODE = '22023',
			HINT = 'Pass one SELECT statement.';
	END IF;
	BEGIN
		SELECT jsonb_object_agg(c.name, c.type::text), array_agg(c.name)
		INTO cols, names
		FROM cxsell_internal.source_columns(owner, settings, query) c;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
			detail = PG_EXCEPTION_DETAIL, inner_hint = PG_EXCEPTION_HINT;
		PERFORM cxsell._reraise(jsonb_build_object('sqlstate', st,
			'message', format('invalid source query for %s "%s": %s', kind, analysis, msg),
			'detail', detail,
			'hint', coalesce(nullif(inner_hint, ''),
							 'The source query must be one SELECT statement that the defining role can run.')));
	END;
	SELECT array_agg(r ORDER BY o) INTO missing
	FROM unnest(required) WITH ORDINALITY AS x(r, o)
	WHERE r <> ALL (coalesce(names, '{}'));
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'source query of % "%" must return columns %', kind, analysis,
				array_to_string(required[1:cardinality(required) - 1], ', ')
				|| ' and ' || required[cardinality(required)]
			USING ERRCODE = '42703',
			DETAIL = format('It returns %s.', coalesce(array_to_string(names, ', '), 'no columns')),
			HINT = hint;
	END IF;
	SELECT array_agg(DISTINCT r) INTO missing
	FROM unnest(required) r
	WHERE (SELECT count(*) FROM unnest(names) n WHERE n = r) > 1;
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'source query of % "%" returns column "%" more than once', kind, analysis, missing[1]
			USING ERRCODE = '42702', HINT = hint;
	END IF;
	RETURN cols;
END
$fn$;

-- Definitions ---------------------------------------------------------------------

-- Check an analysis name (and, for a new one, that it is free: names are
-- shared by rule sets and segmentations).
CREATE FUNCTION cxsell_internal.check_name(analysis text, is_new boolean) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF analysis IS NULL OR analysis !~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$' THEN
		RAISE EXCEPTION 'invalid analysis name "%"', analysis
			USING ERRCODE = '22023',
			HINT = 'Use 1 to 63 letters, digits, underscores, dots or hyphens, not starting with a dot or hyphen.';
	END IF;
	IF is_new THEN
		LOCK TABLE cxsell.rule_sets, cxsell.segmentations IN SHARE ROW EXCLUSIVE MODE;
		IF EXISTS (SELECT FROM cxsell.rule_sets r WHERE r.name = analysis)
		   OR EXISTS (SELECT FROM cxsell.segmentations s WHERE s.name = analysis) THEN
			RAISE EXCEPTION 'analysis "%" already exists', analysis
				USING ERRCODE = '42710',
				HINT = 'Choose another name, or change the existing one with cxsell.alter_rule_set or cxsell.alter_segmentation.';
		END IF;
	END IF;
END
$fn$;

-- The kind, stored name and owner of an existing analysis.
CREATE FUNCTION cxsell_internal.analysis(analysis text, OUT kind text, OUT name text,
	OUT owner name)
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	SELECT 'rule set', r.name, r.owner INTO kind, name, owner
	FROM cxsell.rule_sets r WHERE r.name = analysis;
	IF NOT FOUND THEN
		SELECT 'segmentation', s.name, s.owner INTO kind, name, owner
		FROM cxsell.segmentations s WHERE s.name = analysis;
	END IF;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no rule set or segmentation named "%"', analysis
			USING ERRCODE = '42704',
			HINT = 'List the analyses with SELECT kind, name FROM cxsell.analyses.';
	END IF;
END
$fn$;

-- Refuse a caller that may not act as an analysis's owner.
CREATE FUNCTION cxsell_internal.authorize(caller name, owner name, action text, kind text,
	analysis text)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF NOT cxsell_internal.may_act_as(caller, owner) THEN
		RAISE EXCEPTION 'permission denied to % % "%"', action, kind, analysis
			USING ERRCODE = '42501',
			DETAIL = format('It belongs to role %I, and role %I may not act as it.', owner, caller),
			HINT = format('Ask a member of role %I to do it, or have %I granted to %I.', owner, owner, caller);
	END IF;
END
$fn$;

-- Check a rule set's thresholds and source query (as its owner); whether
-- the query has a customer column.
CREATE FUNCTION cxsell_internal.check_rule_set(r cxsell.rule_sets, check_query boolean)
	RETURNS boolean
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	PERFORM cxsell._check_rule_options(r.min_support, r.max_len, r.recommendations,
									   r.rank_by, r.min_confidence, r.min_lift, true);
	IF NOT check_query THEN
		RETURN r.has_customer;
	END IF;
	RETURN cxsell_internal.source_query_columns(r.name, 'rule set', r.owner,
		cxsell_internal.query_settings(r.search_path, r.settings), r.source_query,
		'{basket,item}',
		'Name the columns with AS basket, AS item (and AS customer for per-customer recommendations).')
		? 'customer';
END
$fn$;

-- Check a segmentation's k, options and source query (as its owner).
CREATE FUNCTION cxsell_internal.check_segmentation(s cxsell.segmentations, check_query boolean)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	cols jsonb;
BEGIN
	IF s.k IS NULL OR s.k < 1 THEN
		RAISE EXCEPTION 'k % is out of range', s.k
			USING ERRCODE = '22023', HINT = 'Use a number of segments of 1 or more.';
	END IF;
	-- options get k-means' own checks
	PERFORM cxsell.kmeans(ARRAY[0::float8], 1, s.options);
	IF NOT check_query THEN
		RETURN;
	END IF;
	cols := cxsell_internal.source_query_columns(s.name, 'segmentation', s.owner,
		cxsell_internal.query_settings(s.search_path, s.settings), s.source_query,
		'{customer,features}',
		'Name the columns with AS customer, AS features (a float8[] of usage measures).');
	IF cols->>'features' NOT IN ('double precision[]', 'real[]', 'numeric[]', 'integer[]',
								 'bigint[]', 'smallint[]') THEN
		RAISE EXCEPTION 'features of segmentation "%" must be a numeric array, not %', s.name, cols->>'features'
			USING ERRCODE = '42804',
			HINT = 'Return the usage measures as float8[], for example ARRAY[visits, spend]::float8[].';
	END IF;
END
$fn$;

-- A new query makes its writer the analysis's owner.  When that is another
-- role, the results computed with the old owner's rights are removed (the
-- new owner's readers must not see them) and a notice says so.
CREATE FUNCTION cxsell_internal.change_owner(kind text, analysis text, old_owner name,
	new_owner name)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF old_owner = new_owner THEN
		RETURN;
	END IF;
	IF kind = 'rule set' THEN
		DELETE FROM cxsell.rule_set_patterns t WHERE t.name = analysis;
		DELETE FROM cxsell.rule_set_rules t WHERE t.name = analysis;
		DELETE FROM cxsell.rule_set_pairs t WHERE t.name = analysis;
		DELETE FROM cxsell.rule_set_recommendations t WHERE t.name = analysis;
	ELSE
		DELETE FROM cxsell.segmentation_models t WHERE t.name = analysis;
		DELETE FROM cxsell.segment_assignments t WHERE t.name = analysis;
	END IF;
	RAISE NOTICE '% "%" now runs as role %, the writer of its query (it ran as %)',
		kind, analysis, new_owner, old_owner
		USING DETAIL = 'Its stored results, computed with the rights of the previous owner, were removed.',
		HINT = 'Refresh it to compute new results.';
END
$fn$;

CREATE FUNCTION cxsell_internal.create_rule_set(caller name, caller_path text, name text,
	source_query text, min_support float8, max_len int4, min_confidence float8,
	min_lift float8, recommendations int4, rank_by text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	r cxsell.rule_sets;
BEGIN
	PERFORM cxsell_internal.check_name(create_rule_set.name, false);
	r := ROW(create_rule_set.name, source_query, false, min_support, max_len, min_confidence,
			 min_lift, recommendations, rank_by, caller, caller_path, now(), now(),
			 cxsell_internal.session_settings(), NULL);
	r.has_customer := cxsell_internal.check_rule_set(r, true);
	-- the name is taken, under a lock, only once the query has been checked
	PERFORM cxsell_internal.check_name(create_rule_set.name, true);
	INSERT INTO cxsell.rule_sets SELECT r.*;
END
$fn$;
CREATE FUNCTION cxsell.create_rule_set(name text, source_query text, min_support float8,
	max_len int4 DEFAULT 0, min_confidence float8 DEFAULT 0, min_lift float8 DEFAULT 0,
	recommendations int4 DEFAULT 5, rank_by text DEFAULT 'confidence')
	RETURNS void AS 'MODULE_PATHNAME', 'cxsell_managed_call'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell.create_rule_set(text, text, float8, int4, float8, float8, int4, text) IS
	'define a rule set: a SELECT returning basket, item and optionally customer, and its thresholds; the query runs as the calling role, under its search_path, date style and time zone';

-- The qualified name of the table an analysis is defined on, as a refresh
-- (in another session) will look it up; the columns it names must be given.
CREATE FUNCTION cxsell_internal.analysis_relation(kind text, analysis text, relation regclass,
	columns name[])
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF relation IS NULL OR array_position(columns, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'the table and its columns must not be null'
			USING ERRCODE = '22004',
			HINT = format('Name the table of %s "%s" and its columns.', kind, analysis);
	END IF;
	IF (SELECT c.relpersistence FROM pg_class c WHERE c.oid = relation) = 't' THEN
		RAISE EXCEPTION '% "%" cannot be defined on temporary table %', kind, analysis, relation
			USING ERRCODE = '0A000',
			HINT = 'A refresh runs in another session: define it on a permanent table.';
	END IF;
	RETURN relation::text;
END
$fn$;
COMMENT ON FUNCTION cxsell_internal.analysis_relation(text, text, regclass, name[]) IS
	'the qualified name of the permanent table an analysis is defined on; its columns must be given';

-- A rule set over a table Citus distributes: its source query is written
-- from the relation, columns and filter (and checked as any source query
-- is, as the caller); its refresh mines with cxsell.mine_distributed.
CREATE FUNCTION cxsell_internal.create_distributed_rule_set(caller name, caller_path text,
	name text, relation regclass, basket name, item name, min_support float8,
	customer name, filter text, max_len int4, min_confidence float8, min_lift float8,
	recommendations int4, rank_by text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	r cxsell.rule_sets;
	rel text;
BEGIN
	PERFORM cxsell_internal.check_name(create_distributed_rule_set.name, false);
	rel := cxsell_internal.analysis_relation('rule set', create_distributed_rule_set.name,
											 relation, ARRAY[basket, item]);
	r := ROW(create_distributed_rule_set.name,
			 format('SELECT %I AS basket, %I AS item%s FROM %s%s', basket, item,
					CASE WHEN customer IS NOT NULL THEN format(', %I AS customer', customer) ELSE '' END,
					rel, CASE WHEN filter IS NOT NULL THEN ' WHERE (' || filter || ')' ELSE '' END),
			 false, min_support, max_len, min_confidence, min_lift, recommendations, rank_by,
			 caller, caller_path, now(), now(), cxsell_internal.session_settings(),
			 jsonb_build_object('relation', rel, 'basket', basket, 'item', item,
								'customer', customer, 'filter', filter));
	r.has_customer := cxsell_internal.check_rule_set(r, true);
	PERFORM cxsell_internal.check_name(create_distributed_rule_set.name, true);
	INSERT INTO cxsell.rule_sets SELECT r.*;
END
$fn$;
CREATE FUNCTION cxsell.create_distributed_rule_set(name text, relation regclass, basket name,
	item name, min_support float8, customer name DEFAULT NULL, filter text DEFAULT NULL,
	max_len int4 DEFAULT 0, min_confidence float8 DEFAULT 0, min_lift float8 DEFAULT 0,
	recommendations int4 DEFAULT 5, rank_by text DEFAULT 'confidence')
	RETURNS void AS 'MODULE_PATHNAME', 'cxsell_managed_call'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell.create_distributed_rule_set(text, regclass, name, name, float8, name, text, int4, float8, float8, int4, text) IS
	'define a rule set over a table Citus distributes (by basket, or by customer with baskets inside): its refreshes mine it on the workers with cxsell.mine_distributed, as the calling role; customer, when given, gets recommendations';

CREATE FUNCTION cxsell_internal.alter_rule_set(caller name, caller_path text, name text,
	source_query text, min_support float8, max_len int4, min_confidence float8,
	min_lift float8, recommendations int4, rank_by text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	r cxsell.rule_sets;
BEGIN
	SELECT * INTO r FROM cxsell.rule_sets s WHERE s.name = alter_rule_set.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'rule set "%" does not exist', alter_rule_set.name
			USING ERRCODE = '42704', HINT = 'Define it with cxsell.create_rule_set.';
	END IF;
	PERFORM cxsell_internal.authorize(caller, r.owner, 'alter', 'rule set', r.name);
	IF source_query IS NOT NULL THEN
		-- whoever writes a query owns it: it runs with the writer's rights
		PERFORM cxsell_internal.change_owner('rule set', r.name, r.owner, caller);
		r.source_query := source_query;
		r.owner := caller;
		r.search_path := caller_path;
		r.settings := cxsell_internal.session_settings();
		-- a query of one's own is mined on the coordinator
		r.distributed := NULL;
	END IF;
	r.min_support := coalesce(min_support, r.min_support);
	r.max_len := coalesce(max_len, r.max_len);
	r.min_confidence := coalesce(min_confidence, r.min_confidence);
	r.min_lift := coalesce(min_lift, r.min_lift);
	r.recommendations := coalesce(recommendations, r.recommendations);
	r.rank_by := coalesce(rank_by, r.rank_by);
	-- thresholds alone never run the query
	r.has_customer := cxsell_internal.check_rule_set(r, source_query IS NOT NULL);
	UPDATE cxsell.rule_sets s
	SET source_query = r.source_query, owner = r.owner, search_path = r.search_path,
		settings = r.settings, distributed = r.distributed,
		has_customer = r.has_customer, min_support = r.min_support,
		max_len = r.max_len, min_confidence = r.min_confidence, min_lift = r.min_lift,
		recommendations = r.recommendations, rank_by = r.rank_by, updated_at = now()
	WHERE s.name = r.name;
END
$fn$;
CREATE FUNCTION cxsell.alter_rule_set(name text, source_query text DEFAULT NULL,
	min_support float8 DEFAULT NULL, max_len int4 DEFAULT NULL,
	min_confidence float8 DEFAULT NULL, min_lift float8 DEFAULT NULL,
	recommendations int4 DEFAULT NULL, rank_by text DEFAULT NULL)
	RETURNS void AS 'MODULE_PATHNAME', 'cxsell_managed_call'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell.alter_rule_set(text, text, float8, int4, float8, float8, int4, text) IS
	'change a rule set (NULL keeps a setting); a new source query is checked and makes the caller its owner; thresholds alone never run the query';

CREATE FUNCTION cxsell_internal.drop_rule_set(caller name, caller_path text, name text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	r cxsell.rule_sets;
BEGIN
	SELECT * INTO r FROM cxsell.rule_sets s WHERE s.name = drop_rule_set.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'rule set "%" does not exist', drop_rule_set.name
			USING ERRCODE = '42704', HINT = 'List the analyses with SELECT kind, name FROM cxsell.analyses.';
	END IF;
	PERFORM cxsell_internal.authorize(caller, r.owner, 'drop', 'rule set', r.name);
	DELETE FROM cxsell.rule_sets s WHERE s.name = r.name;
END
$fn$;
CREATE FUNCTION cxsell.drop_rule_set(name text) RETURNS void
	AS 'MODULE_PATHNAME', 'cxsell_managed_call'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell.drop_rule_set(text) IS
	'drop a rule set and its stored results (its refresh log stays)';

CREATE FUNCTION cxsell_internal.create_segmentation(caller name, caller_path text, name text,
	source_query text, k int4, options jsonb)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	s cxsell.segmentations;
BEGIN
	PERFORM cxsell_internal.check_name(create_segmentation.name, false);
	s := ROW(create_segmentation.name, source_query, k, coalesce(options, '{}'),
			 caller, caller_path, now(), now(), cxsell_internal.session_settings(), NULL);
	PERFORM cxsell_internal.check_segmentation(s, true);
	PERFORM cxsell_internal.check_name(create_segmentation.name, true);
	INSERT INTO cxsell.segmentations SELECT s.*;
END
$fn$;
CREATE FUNCTION cxsell.create_segmentation(name text, source_query text, k int4,
	options jsonb DEFAULT '{}')
	RETURNS void AS 'MODULE_PATHNAME', 'cxsell_managed_call'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell.create_segmentation(text, text, int4, jsonb) IS
	'define a segmentation: a SELECT returning customer and features float8[], k and k-means options; the query runs as the calling role, under its search_path, date style and time zone';

-- A segmentation over a table Citus distributes: its source query is
-- written from the relation, columns and filter (and checked as any source
-- query is, as the caller); its refresh fits with cxsell.kmeans_distributed.
CREATE FUNCTION cxsell_internal.create_distributed_segmentation(caller name, caller_path text,
	name text, relation regclass, customer name, features name, k int4, options jsonb,
	filter text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	s cxsell.segmentations;
	rel text;
BEGIN
	PERFORM cxsell_internal.check_name(create_distributed_segmentation.name, false);
	rel := cxsell_internal.analysis_relation('segmentation', create_distributed_segmentation.name,
											 relation, ARRAY[customer, features]);
	s := ROW(create_distributed_segmentation.name,
			 format('SELECT %I AS customer, %I AS features FROM %s%s', customer, features, rel,
					CASE WHEN filter IS NOT NULL THEN ' WHERE (' || filter || ')' ELSE '' END),
			 k, coalesce(options, '{}'), caller, caller_path, now(), now(),
			 cxsell_internal.session_settings(),
			 jsonb_build_object('relation', rel, 'customer', customer, 'features', features,
								'filter', filter));
	PERFORM cxsell_internal.check_segmentation(s, true);
	PERFORM cxsell_internal.check_name(create_distributed_segmentation.name, true);
	INSERT INTO cxsell.segmentations SELECT s.*;
END
$fn$;
CREATE FUNCTION cxsell.create_distributed_segmentation(name text, relation regclass,
	customer name, features name, k int4, options jsonb DEFAULT '{}', filter text DEFAULT NULL)
	RETURNS void AS 'MODULE_PATHNAME', 'cxsell_managed_call'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell.create_distributed_segmentation(text, regclass, name, name, int4, jsonb, text) IS
	'define a segmentation over a table Citus distributes: its refreshes fit it on the workers with cxsell.kmeans_distributed, as the calling role, and assign each customer its segment';

CREATE FUNCTION cxsell_internal.alter_segmentation(caller name, caller_path text, name text,
	source_query text, k int4, options jsonb)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	s cxsell.segmentations;
BEGIN
	SELECT * INTO s FROM cxsell.segmentations g WHERE g.name = alter_segmentation.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'segmentation "%" does not exist', alter_segmentation.name
			USING ERRCODE = '42704', HINT = 'Define it with cxsell.create_segmentation.';
	END IF;
	PERFORM cxsell_internal.authorize(caller, s.owner, 'alter', 'segmentation', s.name);
	IF source_query IS NOT NULL THEN
		PERFORM cxsell_internal.change_owner('segmentation', s.name, s.owner, caller);
		s.source_query := source_query;
		s.owner := caller;
		s.search_path := caller_path;
		s.settings := cxsell_internal.session_settings();
		-- a query of one's own is fitted on the coordinator
		s.distributed := NULL;
	END IF;
	s.k := coalesce(k, s.k);
	s.options := coalesce(options, s.options);
	PERFORM cxsell_internal.check_segmentation(s, source_query IS NOT NULL);
	UPDATE cxsell.segmentations g
	SET source_query = s.source_query, owner = s.owner, search_path = s.search_path,
		settings = s.settings, distributed = s.distributed, k = s.k, options = s.options,
		updated_at = now()
	WHERE g.name = s.name;
END
$fn$;
CREATE FUNCTION cxsell.alter_segmentation(name text, source_query text DEFAULT NULL,
	k int4 DEFAULT NULL, options jsonb DEFAULT NULL)
	RETURNS void AS 'MODULE_PATHNAME', 'cxsell_managed_call'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell.alter_segmentation(text, text, int4, jsonb) IS
	'change a segmentation (NULL keeps a setting); a new source query is checked and makes the caller its owner; k and options alone never run the query';

CREATE FUNCTION cxsell_internal.drop_segmentation(caller name, caller_path text, name text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	s cxsell.segmentations;
BEGIN
	SELECT * INTO s FROM cxsell.segmentations g WHERE g.name = drop_segmentation.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'segmentation "%" does not exist', drop_segmentation.name
			USING ERRCODE = '42704', HINT = 'List the analyses with SELECT kind, name FROM cxsell.analyses.';
	END IF;
	PERFORM cxsell_internal.authorize(caller, s.owner, 'drop', 'segmentation', s.name);
	DELETE FROM cxsell.segmentations g WHERE g.name = s.name;
END
$fn$;
CREATE FUNCTION cxsell.drop_segmentation(name text) RETURNS void
	AS 'MODULE_PATHNAME', 'cxsell_managed_call'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell.drop_segmentation(text) IS
	'drop a segmentation and its stored results (its refresh log stays)';

-- Refreshing -----------------------------------------------------------------------

-- Replace a rule set's results from its source query; the rows written.
CREATE FUNCTION cxsell_internal.refresh_rule_set(r cxsell.rule_sets) RETURNS bigint
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	p cxsell.patterns;
	n bigint;
	total bigint := 0;
BEGIN
	IF to_regclass('pg_temp.cxsell_refresh_source') IS NOT NULL THEN
		DROP TABLE pg_temp.cxsell_refresh_source;
	END IF;
	IF r.distributed IS NULL THEN
		CREATE TEMP TABLE cxsell_refresh_source ON COMMIT DROP AS
		SELECT * FROM cxsell_internal.source_rows(r.owner,
			cxsell_internal.query_settings(r.search_path, r.settings), r.source_query,
			ARRAY['basket', 'item', CASE WHEN r.has_customer THEN 'customer' END],
			'{text,text,text}') AS s(basket text, item text, customer text);
		SELECT cxsell.mine(s.basket, s.item, r.min_support, r.max_len) INTO p
		FROM pg_temp.cxsell_refresh_source s;
	ELSE
		-- mined on the workers, as the owner; the coordinator keeps the
		-- items each customer holds, not the lines
		SELECT s.patterns INTO p
		FROM cxsell_internal.source_rows(r.owner,
			cxsell_internal.query_settings(r.search_path, r.settings),
			format('SELECT cxsell.mine_distributed(%L::pg_catalog.regclass, %L, %L, %L::pg_catalog.float8, %s, %L) AS patterns',
				   r.distributed->>'relation', r.distributed->>'basket', r.distributed->>'item',
				   r.min_support, r.max_len, r.distributed->>'filter'),
			'{patterns}', '{cxsell.patterns}') AS s(patterns cxsell.patterns);
		CREATE TEMP TABLE cxsell_refresh_source (customer text, item text) ON COMMIT DROP;
		IF r.has_customer THEN
			INSERT INTO pg_temp.cxsell_refresh_source
			SELECT s.customer, h.item
			FROM cxsell_internal.source_rows(r.owner,
				cxsell_internal.query_settings(r.search_path, r.settings),
				format('SELECT %I AS customer, pg_catalog.array_agg(DISTINCT %I::pg_catalog.text) AS held FROM %s WHERE %I IS NOT NULL AND %I IS NOT NULL%s GROUP BY 1',
					   r.distributed->>'customer', r.distributed->>'item', r.distributed->>'relation',
					   r.distributed->>'customer', r.distributed->>'item',
					   CASE WHEN r.distributed->>'filter' IS NOT NULL
							THEN ' AND (' || (r.distributed->>'filter') || ')' ELSE '' END),
				'{customer,held}', '{text,text[]}') AS s(customer text, held text[]),
				unnest(s.held) AS h(item);
		END IF;
	END IF;

	DELETE FROM cxsell.rule_set_patterns t WHERE t.name = r.name;
	DELETE FROM cxsell.rule_set_rules t WHERE t.name = r.name;
	DELETE FROM cxsell.rule_set_pairs t WHERE t.name = r.name;
	DELETE FROM cxsell.rule_set_recommendations t WHERE t.name = r.name;

	INSERT INTO cxsell.rule_set_patterns VALUES (r.name, p, now());
	INSERT INTO cxsell.rule_set_rules (name, antecedent, consequent, antecedent_support,
		consequent_support, support, confidence, lift, leverage, conviction, jaccard,
		kulczynski, certainty, zhang, count, p_value, q_value)
	SELECT r.name, x.antecedent, x.consequent, x.antecedent_support, x.consequent_support,
		x.support, x.confidence, x.lift, x.leverage, x.conviction, x.jaccard, x.kulczynski,
		x.certainty, x.zhang, x.count, x.p_value, x.q_value
	FROM cxsell.rules(p, r.min_confidence, r.min_lift) x;
	GET DIAGNOSTICS n = ROW_COUNT;
	total := total + n;
	INSERT INTO cxsell.rule_set_pairs (name, item_a, item_b, count_a, count_b, observed,
		expected, support, lift, p_value, q_value, relation)
	SELECT r.name, x.item_a, x.item_b, x.count_a, x.count_b, x.observed, x.expected,
		x.support, x.lift, x.p_value, x.q_value, x.relation
	FROM cxsell.item_pairs(p) x WHERE p IS NOT NULL;
	GET DIAGNOSTICS n = ROW_COUNT;
	total := total + n;
	IF r.has_customer THEN
		INSERT INTO cxsell.rule_set_recommendations (name, customer, rank, item, score,
			confidence, lift, support, antecedent, source)
		SELECT r.name, c.customer, x.rank, x.item, x.score, x.confidence, x.lift, x.support,
			x.antecedent, x.source
		FROM (SELECT s.customer, array_agg(DISTINCT s.item) AS held
			  FROM pg_temp.cxsell_refresh_source s
			  WHERE s.customer IS NOT NULL AND s.item IS NOT NULL
			  GROUP BY s.customer) c,
			 LATERAL cxsell.recommend(p, c.held, r.recommendations, r.rank_by,
									  r.min_confidence, greatest(r.min_lift, 1)) x;
		GET DIAGNOSTICS n = ROW_COUNT;
		total := total + n;
	END IF;
	DROP TABLE pg_temp.cxsell_refresh_source;
	RETURN total;
END
$fn$;

-- Replace a segmentation's model and assignments; the rows written.
CREATE FUNCTION cxsell_internal.refresh_segmentation(g cxsell.segmentations) RETURNS bigint
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	m cxsell.kmodel;
	n bigint;
	where_sql text;
BEGIN
	IF to_regclass('pg_temp.cxsell_refresh_source') IS NOT NULL THEN
		DROP TABLE pg_temp.cxsell_refresh_source;
	END IF;
	IF g.distributed IS NOT NULL THEN
		-- fitted on the workers, as the owner; then each customer's segment,
		-- computed where the customer's row lies
		where_sql := format('%I IS NOT NULL', g.distributed->>'customer')
			|| CASE WHEN g.distributed->>'filter' IS NOT NULL
					THEN ' AND (' || (g.distributed->>'filter') || ')' ELSE '' END;
		SELECT x.model INTO m
		FROM cxsell_internal.source_rows(g.owner,
			cxsell_internal.query_settings(g.search_path, g.settings),
			format('SELECT cxsell.kmeans_distributed(%L::pg_catalog.regclass, %L, %s, %L::pg_catalog.jsonb, %L) AS model',
				   g.distributed->>'relation', g.distributed->>'features', g.k, g.options, where_sql),
			'{model}', '{cxsell.kmodel}') AS x(model cxsell.kmodel);
		DELETE FROM cxsell.segmentation_models t WHERE t.name = g.name;
		DELETE FROM cxsell.segment_assignments t WHERE t.name = g.name;
		INSERT INTO cxsell.segmentation_models VALUES (g.name, m, now());
		INSERT INTO cxsell.segment_assignments
		SELECT g.name, a.customer, a.segment, a.distance
		FROM cxsell_internal.source_rows(g.owner,
			cxsell_internal.query_settings(g.search_path, g.settings),
			format('SELECT DISTINCT ON (s.c) s.c AS customer, cxsell.cluster(%2$L::cxsell.kmodel, s.f) AS segment,
						   cxsell.cluster_distance(%2$L::cxsell.kmodel, s.f) AS distance
					FROM (SELECT %3$I::pg_catalog.text AS c, %4$I::pg_catalog.float8[] AS f FROM %1$s
						  WHERE %4$I IS NOT NULL AND %5$s) s
					ORDER BY s.c',
				   g.distributed->>'relation', m::text, g.distributed->>'customer',
				   g.distributed->>'features', where_sql),
			'{customer,segment,distance}', '{text,int4,float8}')
			AS a(customer text, segment int4, distance float8)
		WHERE m IS NOT NULL;
		GET DIAGNOSTICS n = ROW_COUNT;
		RETURN n;
	END IF;
	CREATE TEMP TABLE cxsell_refresh_source ON COMMIT DROP AS
	SELECT * FROM cxsell_internal.source_rows(g.owner,
		cxsell_internal.query_settings(g.search_path, g.settings), g.source_query,
		'{customer,features}', '{text,float8[]}') AS s(customer text, features float8[]);
	SELECT cxsell.kmeans(s.features, g.k, g.options) INTO m
	FROM pg_temp.cxsell_refresh_source s WHERE s.customer IS NOT NULL;

	DELETE FROM cxsell.segmentation_models t WHERE t.name = g.name;
	DELETE FROM cxsell.segment_assignments t WHERE t.name = g.name;
	INSERT INTO cxsell.segmentation_models VALUES (g.name, m, now());
	INSERT INTO cxsell.segment_assignments
	SELECT DISTINCT ON (s.customer) g.name, s.customer, cxsell.cluster(m, s.features),
		   cxsell.cluster_distance(m, s.features)
	FROM pg_temp.cxsell_refresh_source s
	WHERE m IS NOT NULL AND s.customer IS NOT NULL AND s.features IS NOT NULL
	ORDER BY s.customer;
	GET DIAGNOSTICS n = ROW_COUNT;
	DROP TABLE pg_temp.cxsell_refresh_source;
	RETURN n;
END
$fn$;

-- Finish a run's log entry: success with the rows written, or the error
-- caught ({sqlstate, message, detail, hint}); the parameters used.
CREATE FUNCTION cxsell_internal.log_finish(run bigint, written bigint, params jsonb,
	outcome jsonb)
	RETURNS void
	LANGUAGE sql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	UPDATE cxsell.refresh_log l
	SET finished_at = clock_timestamp(), duration = clock_timestamp() - l.started_at,
		status = CASE WHEN outcome IS NULL THEN 'success' ELSE 'error' END,
		rows_written = written, parameters = coalesce(params, l.parameters),
		sqlstate = outcome->>'sqlstate', error = left(outcome->>'message', 2000)
	WHERE l.id = run
$fn$;

-- The log entry of a run this backend is running for caller.
CREATE FUNCTION cxsell_internal.own_run(caller name, run bigint) RETURNS cxsell.refresh_log
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	l cxsell.refresh_log;
BEGIN
	SELECT * INTO l FROM cxsell.refresh_log x WHERE x.id = run FOR UPDATE;
	IF NOT FOUND OR l.status <> 'running' OR l.pid IS DISTINCT FROM pg_backend_pid()
	   OR l.run_by <> caller THEN
		RAISE EXCEPTION 'run % is not a refresh this session is running', run
			USING ERRCODE = '42501', HINT = 'Refresh with CALL cxsell.refresh(name).';
	END IF;
	RETURN l;
END
$fn$;

-- Refuse to go on with a run whose analysis changed owner since it started
-- (it was altered by another role, or dropped and defined again): the run
-- would read, and log, what its starter may not see.
CREATE FUNCTION cxsell_internal.same_owner(l cxsell.refresh_log, owner name) RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF l.owner <> owner THEN
		RAISE EXCEPTION '% "%" changed owner since its refresh started', l.kind, l.name
			USING ERRCODE = '42501',
			DETAIL = format('It belonged to role %I and now belongs to role %I.', l.owner, owner),
			HINT = 'Refresh it again.';
	END IF;
END
$fn$;

-- Start a refresh: check the caller, mark the analysis's dead runs as
-- interrupted, log the new run as running and lock it for this backend.
CREATE FUNCTION cxsell_internal._refresh_begin(caller name, caller_path text, analysis text)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	a record;
	run bigint;
	lkey int4;
BEGIN
	SELECT * INTO a FROM cxsell_internal.analysis(analysis);
	PERFORM cxsell_internal.authorize(caller, a.owner, 'refresh', a.kind, a.name);
	UPDATE cxsell.refresh_log l SET status = 'interrupted'
	WHERE l.name = a.name AND l.status = 'running'
	  AND NOT EXISTS (SELECT FROM cxsell_internal.live_runs x
					  WHERE x.pid = l.pid AND x.lock_key = l.lock_key);
	-- a random key nobody holds: the run's lock, which never waits
	LOOP
		lkey := hashtext(gen_random_uuid()::text) & 2147483647;
		EXIT WHEN pg_try_advisory_lock(1668838193, lkey);
	END LOOP;
	INSERT INTO cxsell.refresh_log (kind, name, owner, started_at, status, run_by, pid, lock_key)
	VALUES (a.kind, a.name, a.owner, clock_timestamp(), 'running', caller, pg_backend_pid(), lkey)
	RETURNING id INTO run;
	RETURN run;
END
$fn$;
CREATE FUNCTION cxsell._refresh_begin(analysis text) RETURNS bigint
	AS 'MODULE_PATHNAME', 'cxsell_managed_call'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell._refresh_begin(text) IS
	'internal (cxsell.refresh): log a refresh of an analysis the caller may refresh as running';

-- Do a started run: read the definition once its lock is held, replace the
-- results, and log the outcome with the parameters used.  Returns NULL on
-- success, else the error caught ({sqlstate, message, detail, hint}); the
-- results are then those of before.
CREATE FUNCTION cxsell_internal._refresh_work(caller name, caller_path text, run bigint)
	RETURNS jsonb
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	l cxsell.refresh_log := cxsell_internal.own_run(caller, run);
	r cxsell.rule_sets;
	g cxsell.segmentations;
	params jsonb;
	written bigint;
	outcome jsonb;
	st text;
	msg text;
	detail text;
	hint text;
BEGIN
	-- the run stays alive through this transaction
	PERFORM pg_advisory_xact_lock(1668838194, l.lock_key);
	PERFORM pg_advisory_unlock(1668838193, l.lock_key);
	BEGIN
		-- one refresh of an analysis at a time (the second waits), and the
		-- definition it uses is the one read once its lock is held
		IF l.kind = 'rule set' THEN
			SELECT * INTO r FROM cxsell.rule_sets s WHERE s.name = l.name FOR UPDATE;
			IF NOT FOUND THEN
				RAISE EXCEPTION 'rule set "%" was dropped before its refresh could start', l.name
					USING ERRCODE = '42704';
			END IF;
			PERFORM cxsell_internal.same_owner(l, r.owner);
			PERFORM cxsell_internal.authorize(caller, r.owner, 'refresh', l.kind, l.name);
			params := to_jsonb(r) - 'created_at' - 'updated_at';
			written := cxsell_internal.refresh_rule_set(r);
		ELSE
			SELECT * INTO g FROM cxsell.segmentations s WHERE s.name = l.name FOR UPDATE;
			IF NOT FOUND THEN
				RAISE EXCEPTION 'segmentation "%" was dropped before its refresh could start', l.name
					USING ERRCODE = '42704';
			END IF;
			PERFORM cxsell_internal.same_owner(l, g.owner);
			PERFORM cxsell_internal.authorize(caller, g.owner, 'refresh', l.kind, l.name);
			params := to_jsonb(g) - 'created_at' - 'updated_at';
			written := cxsell_internal.refresh_segmentation(g);
		END IF;
	EXCEPTION WHEN OTHERS OR query_canceled OR assert_failure THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
			detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
		outcome := jsonb_build_object('sqlstate', st, 'message', msg, 'detail', detail, 'hint', hint);
		written := NULL;
	END;
	PERFORM cxsell_internal.log_finish(run, written, params, outcome);
	RETURN outcome;
END
$fn$;
CREATE FUNCTION cxsell._refresh_work(run bigint) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'cxsell_managed_call'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell._refresh_work(bigint) IS
	'internal (cxsell.refresh): do a run this session started; NULL on success, else the error caught';

-- Log a started run as failed with an error caught outside its work.
CREATE FUNCTION cxsell_internal._refresh_fail(caller name, caller_path text, run bigint,
	outcome jsonb)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	l cxsell.refresh_log := cxsell_internal.own_run(caller, run);
BEGIN
	PERFORM pg_advisory_xact_lock(1668838194, l.lock_key);
	IF EXISTS (SELECT FROM pg_locks x
			   WHERE x.locktype = 'advisory' AND x.pid = pg_backend_pid()
				 AND x.classid = 1668838193 AND x.objid = l.lock_key::oid
				 AND x.objsubid = 2) THEN
		PERFORM pg_advisory_unlock(1668838193, l.lock_key);
	END IF;
	PERFORM cxsell_internal.log_finish(run, NULL, NULL,
		coalesce(outcome, '{"sqlstate": "XX000", "message": "unknown error"}'));
END
$fn$;
CREATE FUNCTION cxsell._refresh_fail(run bigint, outcome jsonb) RETURNS void
	AS 'MODULE_PATHNAME', 'cxsell_managed_call'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell._refresh_fail(bigint, jsonb) IS
	'internal (cxsell.refresh): log a run this session started as failed';

-- The analyses the caller may refresh, by name.
CREATE FUNCTION cxsell_internal._refresh_list(caller name, caller_path text) RETURNS text[]
	LANGUAGE sql STABLE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT coalesce(array_agg(a.name ORDER BY a.name), '{}')
	FROM (SELECT r.name, r.owner FROM cxsell.rule_sets r
		  UNION ALL
		  SELECT s.name, s.owner FROM cxsell.segmentations s) a
	WHERE cxsell_internal.may_act_as(caller, a.owner)
$fn$;
CREATE FUNCTION cxsell._refresh_list() RETURNS text[]
	AS 'MODULE_PATHNAME', 'cxsell_managed_call'
	LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell._refresh_list() IS
	'internal (cxsell.refresh_all): the analyses the caller may refresh, by name';

-- Raise one error for the failed runs of refresh_all.
CREATE FUNCTION cxsell._refresh_all_failed(total int4, failures jsonb[]) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF cardinality(failures) = 0 THEN
		RETURN;
	END IF;
	RAISE EXCEPTION 'refresh failed for % of % analyses: %', cardinality(failures), total,
			left((SELECT string_agg(f->>'analysis', ', ') FROM unnest(failures) f), 2000)
		USING ERRCODE = failures[1]->>'sqlstate',
		DETAIL = left((SELECT string_agg(format('%s: %s', f->>'analysis', left(f->>'message', 500)), E'\n')
					   FROM unnest(failures) f), 20000),
		HINT = 'The other analyses were refreshed. Each failure is logged: see cxsell.refresh_status.';
END
$fn$;
COMMENT ON FUNCTION cxsell._refresh_all_failed(int4, jsonb[]) IS
	'internal (cxsell.refresh_all): raise one error naming the analyses whose refresh failed';

-- The refresh procedures run with the caller's rights and, to be allowed to
-- COMMIT, without a SET clause: under the caller's search_path.  So they
-- call only schema-qualified functions, name only schema-qualified types
-- (or types the grammar fixes, such as bigint and boolean) and use no
-- operator.

-- Refresh one analysis; NULL, or the error caught.  Called outside a
-- transaction block, the run's log entry is committed before the work and
-- again after it, so a failed run stays logged.
CREATE PROCEDURE cxsell._refresh_run(analysis text, INOUT outcome jsonb)
	LANGUAGE plpgsql
AS $fn$
DECLARE
	can_commit boolean := cxsell._can_commit();
	run bigint;
	failed boolean := false;
	st pg_catalog.text;
	msg pg_catalog.text;
	detail pg_catalog.text;
	hint pg_catalog.text;
BEGIN
	outcome := NULL;
	-- an analysis dropped or changed meanwhile fails alone, as any other
	BEGIN
		run := cxsell._refresh_begin(analysis);
	EXCEPTION WHEN OTHERS OR query_canceled OR assert_failure THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
			detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
		outcome := pg_catalog.jsonb_build_object('sqlstate', st, 'message', msg,
												  'detail', detail, 'hint', hint);
		RETURN;
	END;
	IF can_commit THEN
		COMMIT;
	END IF;
	BEGIN
		outcome := cxsell._refresh_work(run);
	EXCEPTION WHEN OTHERS OR query_canceled OR assert_failure THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
			detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
		failed := true;
	END;
	IF failed THEN
		outcome := pg_catalog.jsonb_build_object('sqlstate', st, 'message', msg,
												  'detail', detail, 'hint', hint);
		BEGIN
			PERFORM cxsell._refresh_fail(run, outcome);
		EXCEPTION WHEN OTHERS OR query_canceled OR assert_failure THEN
			-- the run could not be logged as failed; its lock tells that it ended
			NULL;
		END;
	END IF;
	IF can_commit THEN
		COMMIT;
	END IF;
END
$fn$;
COMMENT ON PROCEDURE cxsell._refresh_run(text, jsonb) IS
	'internal (cxsell.refresh, cxsell.refresh_all): refresh one analysis; outcome is NULL, or the error caught';

CREATE PROCEDURE cxsell.refresh(name text)
	LANGUAGE plpgsql
AS $fn$
DECLARE
	outcome pg_catalog.jsonb;
BEGIN
	CALL cxsell._refresh_run(name, outcome);
	PERFORM cxsell._reraise(outcome);
END
$fn$;
COMMENT ON PROCEDURE cxsell.refresh(text) IS
	'recompute a rule set or segmentation the caller may refresh and replace its stored results in one transaction; logged in the refresh log';

CREATE PROCEDURE cxsell.refresh_all()
	LANGUAGE plpgsql
AS $fn$
DECLARE
	analyses pg_catalog.text[] := cxsell._refresh_list();
	analysis pg_catalog.text;
	outcome pg_catalog.jsonb;
	failures pg_catalog.jsonb[] := '{}';
BEGIN
	FOREACH analysis IN ARRAY analyses LOOP
		CALL cxsell._refresh_run(analysis, outcome);
		IF outcome IS NOT NULL THEN
			failures := pg_catalog.array_append(failures,
				pg_catalog.jsonb_set(outcome, '{analysis}', pg_catalog.to_jsonb(analysis)));
		END IF;
	END LOOP;
	PERFORM cxsell._refresh_all_failed(pg_catalog.cardinality(analyses), failures);
END
$fn$;
COMMENT ON PROCEDURE cxsell.refresh_all() IS
	'refresh every analysis the caller may refresh, in name order, each in its own transaction when called outside a transaction block; then one error naming those that failed';

-- Views for dashboards -------------------------------------------------------------
--
-- Each shows the analyses whose owner's privileges the reader has (the
-- owner itself, a role granted the owner; every analysis for a superuser):
-- reading an analysis's results needs what reading its source data needs.
-- Every table a view reads is filtered on its own scan by an initplan
-- (see cxsell_internal.reader), and security_barrier keeps a reader's own
-- functions and conditions after that filter: neither their results nor
-- EXPLAIN ANALYZE's row counts can tell anything of a hidden row.

CREATE VIEW cxsell.analyses WITH (security_barrier) AS
SELECT a.*
FROM (SELECT 'rule set'::text AS kind, r.name, r.owner, r.source_query, r.search_path,
			 pg_catalog.jsonb_build_object('min_support', r.min_support, 'max_len', r.max_len,
				 'min_confidence', r.min_confidence, 'min_lift', r.min_lift,
				 'recommendations', r.recommendations, 'rank_by', r.rank_by,
				 'has_customer', r.has_customer)
			   || CASE WHEN r.distributed IS NULL THEN '{}'::pg_catalog.jsonb
					   ELSE pg_catalog.jsonb_build_object('distributed', r.distributed) END AS parameters,
			 r.settings, r.created_at, r.updated_at
	  FROM cxsell.rule_sets r
	  WHERE r.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v))
	  UNION ALL
	  SELECT 'segmentation', g.name, g.owner, g.source_query, g.search_path,
			 pg_catalog.jsonb_build_object('k', g.k, 'options', g.options)
			   || CASE WHEN g.distributed IS NULL THEN '{}'::pg_catalog.jsonb
					   ELSE pg_catalog.jsonb_build_object('distributed', g.distributed) END,
			 g.settings, g.created_at, g.updated_at
	  FROM cxsell.segmentations g
	  WHERE g.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_segmentations v))) a
-- (a UNION ALL alone would let a reader's functions into its branches)
WHERE (SELECT q.superuser FROM cxsell_internal.reader q)
   OR a.owner = ANY ((SELECT q.owners FROM cxsell_internal.reader q)::pg_catalog.name[]);
COMMENT ON VIEW cxsell.analyses IS 'the rule sets and segmentations the current role may read: definition, owner and parameters';

CREATE VIEW cxsell.refresh_history WITH (security_barrier) AS
SELECT l.id, l.kind, l.name, l.owner, l.started_at, l.finished_at, l.duration,
	   CASE WHEN l.status = 'running' AND NOT l.alive THEN 'interrupted' ELSE l.status END AS status,
	   l.rows_written, l.parameters, l.sqlstate,
	   CASE WHEN l.status = 'interrupted' OR (l.status = 'running' AND NOT l.alive)
			THEN 'the run did not finish: its backend exited or its transaction ended first'
			ELSE l.error END AS error,
	   l.run_by, l.pid
FROM (SELECT x.*, EXISTS (SELECT FROM cxsell_internal.live_runs r
						  WHERE r.pid = x.pid AND r.lock_key = x.lock_key) AS alive
	  FROM cxsell.refresh_log x
	  WHERE (SELECT q.superuser FROM cxsell_internal.reader q)
		 OR x.owner = ANY ((SELECT q.owners FROM cxsell_internal.reader q)::pg_catalog.name[])) l;
COMMENT ON VIEW cxsell.refresh_history IS 'every refresh run of the analyses the current role may read; a run whose backend or transaction is gone shows as interrupted';

CREATE OR REPLACE VIEW cxsell.current_rules WITH (security_barrier) AS
SELECT t.name AS rule_set, t.antecedent, t.consequent, t.antecedent_support,
	   t.consequent_support, t.support, t.confidence, t.lift, t.leverage,
	   t.conviction, t.jaccard, t.kulczynski, t.certainty, t.zhang, t.count,
	   t.p_value, p.refreshed_at, t.q_value
FROM cxsell.rule_set_rules t JOIN cxsell.rule_set_patterns p ON p.name = t.name
WHERE t.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v))
  AND p.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v));

CREATE VIEW cxsell.current_itemsets WITH (security_barrier) AS
SELECT p.name AS rule_set, i.items, i.size, i.count, i.support, p.refreshed_at
FROM cxsell.rule_set_patterns p, cxsell.itemsets(p.patterns) i
WHERE p.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v));
DO $restore$
DECLARE
	g record;
BEGIN
	FOR g IN SELECT a.grantee, a.privilege_type, a.is_grantable
			 FROM pg_temp.cxsell_saved_acl s, pg_catalog.aclexplode(s.relacl) a
			 WHERE a.grantee <> 0
			   AND a.grantee <> (SELECT c.relowner FROM pg_catalog.pg_class c
								 WHERE c.oid = 'cxsell.current_itemsets'::pg_catalog.regclass) LOOP
		EXECUTE pg_catalog.format('GRANT %s ON cxsell.current_itemsets TO %I%s', g.privilege_type,
								  pg_catalog.pg_get_userbyid(g.grantee),
								  CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
	END LOOP;
END
$restore$;
DROP TABLE pg_temp.cxsell_saved_acl;
COMMENT ON VIEW cxsell.current_itemsets IS 'the frequent itemsets of each rule set the current role may read, from its last successful refresh';

CREATE OR REPLACE VIEW cxsell.current_item_pairs WITH (security_barrier) AS
SELECT t.name AS rule_set, t.item_a, t.item_b, t.count_a, t.count_b, t.observed,
	   t.expected, t.support, t.lift, t.p_value, t.relation, p.refreshed_at, t.q_value
FROM cxsell.rule_set_pairs t JOIN cxsell.rule_set_patterns p ON p.name = t.name
WHERE t.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v))
  AND p.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v));

CREATE OR REPLACE VIEW cxsell.current_recommendations WITH (security_barrier) AS
SELECT t.name AS rule_set, t.customer, t.rank, t.item, t.score, t.confidence,
	   t.lift, t.support, t.antecedent, t.source, p.refreshed_at
FROM cxsell.rule_set_recommendations t JOIN cxsell.rule_set_patterns p ON p.name = t.name
WHERE t.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v))
  AND p.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v));

CREATE OR REPLACE VIEW cxsell.current_segments WITH (security_barrier) AS
SELECT a.name AS segmentation, a.customer, a.segment, a.distance, m.refreshed_at
FROM cxsell.segment_assignments a JOIN cxsell.segmentation_models m ON m.name = a.name
WHERE a.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_segmentations v))
  AND m.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_segmentations v));

CREATE OR REPLACE VIEW cxsell.current_segment_profiles WITH (security_barrier) AS
SELECT m.name AS segmentation, c.cluster AS segment, c.size, c.centroid, c.within_ss,
	   m.refreshed_at
FROM cxsell.segmentation_models m, cxsell.centroids(m.model) c
WHERE m.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_segmentations v));

CREATE OR REPLACE VIEW cxsell.refresh_status WITH (security_barrier) AS
SELECT a.kind, a.name, s.finished_at AS last_success_at,
	   pg_catalog.now() - s.finished_at AS age,
	   l.started_at AS last_run_at, l.status AS last_status, l.duration AS last_duration,
	   l.rows_written AS last_rows_written,
	   coalesce(e.finished_at, e.started_at) AS last_error_at, e.error AS last_error
FROM cxsell.analyses a
LEFT JOIN LATERAL (SELECT * FROM cxsell.refresh_history x
				   WHERE x.kind = a.kind AND x.name = a.name AND x.owner = a.owner
					 AND x.status = 'success'
				   ORDER BY x.started_at DESC, x.id DESC LIMIT 1) s ON true
LEFT JOIN LATERAL (SELECT * FROM cxsell.refresh_history x
				   WHERE x.kind = a.kind AND x.name = a.name AND x.owner = a.owner
				   ORDER BY x.started_at DESC, x.id DESC LIMIT 1) l ON true
LEFT JOIN LATERAL (SELECT * FROM cxsell.refresh_history x
				   WHERE x.kind = a.kind AND x.name = a.name AND x.owner = a.owner
					 AND x.status IN ('error', 'interrupted')
				   ORDER BY x.started_at DESC, x.id DESC LIMIT 1) e ON true;

REVOKE ALL ON cxsell.analyses, cxsell.refresh_history FROM PUBLIC;

-- Who may call what --------------------------------------------------------------
--
-- Nothing of the managed layer is granted to PUBLIC.  An analyst gets
-- EXECUTE on the schema's routines (every one checks what its caller may
-- do), a dashboard SELECT on the views; see the README.
REVOKE EXECUTE ON FUNCTION
	cxsell.create_rule_set(text, text, float8, int4, float8, float8, int4, text),
	cxsell.create_distributed_rule_set(text, regclass, name, name, float8, name, text, int4,
									   float8, float8, int4, text),
	cxsell.alter_rule_set(text, text, float8, int4, float8, float8, int4, text),
	cxsell.drop_rule_set(text),
	cxsell.create_segmentation(text, text, int4, jsonb),
	cxsell.create_distributed_segmentation(text, regclass, name, name, int4, jsonb, text),
	cxsell.alter_segmentation(text, text, int4, jsonb),
	cxsell.drop_segmentation(text),
	cxsell._refresh_begin(text),
	cxsell._refresh_work(bigint),
	cxsell._refresh_fail(bigint, jsonb),
	cxsell._refresh_list(),
	cxsell._refresh_all_failed(int4, jsonb[]),
	cxsell._reraise(jsonb),
	cxsell._can_commit()
	FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE cxsell.refresh(text), cxsell.refresh_all(),
	cxsell._refresh_run(text, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA cxsell_internal FROM PUBLIC;

-- Mining a distributed table ------------------------------------------------------
--
-- cxsell.mine_distributed mines a table that Citus spreads over shards by the
-- partition algorithm (see src/son.c): every node mines the baskets of its
-- shards, every node counts the union of what they found, and the
-- coordinator builds the result from the counts alone.  The result is the
-- value cxsell.mine gives over the same rows.  On a table that is not
-- distributed it is cxsell.mine.

CREATE FUNCTION cxsell._son_candidates(local cxsell.patterns[]) RETURNS bytea
	AS 'MODULE_PATHNAME', 'son_candidates'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell._son_candidates(cxsell.patterns[]) IS
	'internal (cxsell.mine_distributed): the itemsets of mining results, as candidates to count';
CREATE FUNCTION cxsell._son_union(candidates bytea[]) RETURNS bytea
	AS 'MODULE_PATHNAME', 'son_union'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell._son_union(bytea[]) IS
	'internal (cxsell.mine_distributed): the union of the candidates the nodes found';
CREATE FUNCTION cxsell._son_candidate_items(candidates bytea) RETURNS text[]
	AS 'MODULE_PATHNAME', 'son_candidate_items'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell._son_candidate_items(bytea) IS
	'internal (cxsell.mine_distributed): the names of the candidate items, in candidate order';
CREATE FUNCTION cxsell._son_count_trans(internal, anyelement, anycompatible, bytea)
	RETURNS internal AS 'MODULE_PATHNAME', 'son_count_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell._son_count_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'son_count_final'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE AGGREGATE cxsell._son_count(basket anyelement, item anycompatible, candidates bytea) (
	SFUNC = cxsell._son_count_trans, STYPE = internal,
	FINALFUNC = cxsell._son_count_final
);
COMMENT ON AGGREGATE cxsell._son_count(anyelement, anycompatible, bytea) IS
	'internal (cxsell.mine_distributed): one shard''s baskets and its counts of the candidate items, itemsets and item pairs';
COMMENT ON FUNCTION cxsell._son_count_trans(internal, anyelement, anycompatible, bytea) IS
	'support function of aggregate cxsell._son_count';
COMMENT ON FUNCTION cxsell._son_count_final(internal) IS
	'support function of aggregate cxsell._son_count';
CREATE FUNCTION cxsell._son_patterns(candidates bytea, counts bytea[], min_support float8,
	max_len int4, item_type regtype, item_collation oid) RETURNS cxsell.patterns
	AS 'MODULE_PATHNAME', 'son_patterns'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell._son_patterns(bytea, bytea[], float8, int4, regtype, oid) IS
	'internal (cxsell.mine_distributed): the patterns value of the whole table from the shards'' counts, items ordered as cxsell.mine orders values of that type and collation';

-- Runs `expr` over every node's part of the table (as l(b, i)) on that node,
-- all nodes at once, with Citus's own connections; returns the non-null
-- answers.  Values travel as base64.
CREATE FUNCTION cxsell._son_on_nodes(relation regclass, step text, nodes text[], ports int4[],
	parts text[], expr text) RETURNS bytea[]
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $fn$
DECLARE
	commands text[];
	failure text;
	answers bytea[];
	received bigint;
BEGIN
	SELECT pg_catalog.array_agg(pg_catalog.format(
			'SELECT pg_catalog.encode(%s, ''base64'') FROM (%s) l', expr, p.part) ORDER BY p.o)
	INTO commands
	FROM pg_catalog.unnest(parts) WITH ORDINALITY p(part, o);
	SELECT pg_catalog.string_agg(r.result, '; ') FILTER (WHERE NOT r.success),
		   pg_catalog.array_agg(pg_catalog.decode(r.result, 'base64'))
			 FILTER (WHERE r.success AND r.result OPERATOR(pg_catalog.<>) ''),
		   pg_catalog.sum(pg_catalog.octet_length(r.result))
	INTO failure, answers, received
	FROM pg_catalog.master_run_on_worker(nodes, ports, commands, true) r;
	IF failure IS NOT NULL THEN
		RAISE EXCEPTION 'cxsell.mine_distributed: % on the shards of % failed: %', step, relation, failure
			USING ERRCODE = '58000';
	END IF;
	RAISE DEBUG 'cxsell.mine_distributed: % on % nodes sent % bytes and received % bytes',
		step, pg_catalog.cardinality(nodes),
		(SELECT pg_catalog.sum(pg_catalog.octet_length(c)) FROM pg_catalog.unnest(commands) c), received;
	RETURN answers;
END
$fn$;
COMMENT ON FUNCTION cxsell._son_on_nodes(regclass, text, text[], int4[], text[], text) IS
	'internal (cxsell.mine_distributed): one step of the plan, run on every node at once';

-- Runs the caller's own filter with the caller's rights; everything else in
-- it is schema-qualified, operators included.
CREATE FUNCTION cxsell.mine_distributed(relation regclass, basket name, item name,
	min_support float8, max_len int4 DEFAULT 0, filter text DEFAULT NULL)
	RETURNS cxsell.patterns
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $fn$
DECLARE
	basket_type oid;
	item_type oid;
	item_collation oid;
	dist_column name;
	where_sql text := '';
	part_sql text;
	nodes text[];
	ports int4[];
	node_parts text[];
	candidates bytea;
	counts bytea[];
	baskets bigint;
	result cxsell.patterns;
BEGIN
	IF relation IS NULL OR basket IS NULL OR item IS NULL THEN
		RAISE EXCEPTION 'relation, basket and item must not be null'
			USING ERRCODE = '22004',
			HINT = 'Name the table and its basket and item columns.';
	END IF;
	PERFORM cxsell._check_rule_options(min_support, max_len, 1, 'confidence', 0, 0, true);
	SELECT a.atttypid INTO basket_type FROM pg_catalog.pg_attribute a
	WHERE a.attrelid OPERATOR(pg_catalog.=) relation AND a.attname OPERATOR(pg_catalog.=) basket
	  AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
	SELECT a.atttypid, a.attcollation INTO item_type, item_collation FROM pg_catalog.pg_attribute a
	WHERE a.attrelid OPERATOR(pg_catalog.=) relation AND a.attname OPERATOR(pg_catalog.=) item
	  AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
	IF basket_type IS NULL OR item_type IS NULL THEN
		RAISE EXCEPTION 'relation % has no column %', relation,
				pg_catalog.quote_ident(CASE WHEN basket_type IS NULL THEN basket ELSE item END)
			USING ERRCODE = '42703',
			HINT = 'Name the basket and item columns of the table.';
	END IF;
	IF filter IS NOT NULL THEN
		where_sql := ' WHERE (' OPERATOR(pg_catalog.||) filter OPERATOR(pg_catalog.||) ')';
	END IF;

	IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
		EXECUTE 'SELECT pg_catalog.column_to_column_name(p.logicalrelid, p.partkey)
				 FROM pg_catalog.pg_dist_partition p
				 WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1
				   AND p.partmethod OPERATOR(pg_catalog.=) ''h'''
			INTO dist_column USING relation;
	END IF;
	IF dist_column IS NULL THEN
		EXECUTE pg_catalog.format('SELECT cxsell.mine(%I, %I, $1, $2) FROM %s%s',
								  basket, item, relation, where_sql)
			INTO result USING min_support, max_len;
		RETURN result;
	END IF;

	-- the shards, one placement each, grouped by the node that holds them:
	-- each node's shards are one part of the table, read by one query
	part_sql := pg_catalog.format('SELECT %I AS b, %I AS i FROM @@shard@@%s', basket, item, where_sql);
	EXECUTE 'SELECT pg_catalog.array_agg(g.nodename ORDER BY g.nodename, g.nodeport),
					pg_catalog.array_agg(g.nodeport ORDER BY g.nodename, g.nodeport),
					pg_catalog.array_agg(g.part ORDER BY g.nodename, g.nodeport)
			 FROM (SELECT x.nodename, x.nodeport,
						  pg_catalog.string_agg(pg_catalog.replace($2, ''@@shard@@'', x.shard),
												'' UNION ALL '' ORDER BY x.shardid) AS part
				   FROM (SELECT DISTINCT ON (s.shardid) s.shardid, n.nodename, n.nodeport,
								pg_catalog.shard_name(s.logicalrelid, s.shardid)::pg_catalog.text AS shard
						 FROM pg_catalog.pg_dist_shard s
						 JOIN pg_catalog.pg_dist_placement p ON p.shardid OPERATOR(pg_catalog.=) s.shardid
						 JOIN pg_catalog.pg_dist_node n ON n.groupid OPERATOR(pg_catalog.=) p.groupid
						 WHERE s.logicalrelid OPERATOR(pg_catalog.=) $1
						 ORDER BY s.shardid, n.nodename, n.nodeport) x
				   GROUP BY x.nodename, x.nodeport) g'
		INTO nodes, ports, node_parts USING relation, part_sql;

	-- pass 1: every node mines its baskets at (a hair under) the same
	-- relative support and returns what it found as candidates
	candidates := cxsell._son_union(cxsell._son_on_nodes(relation, 'pass 1', nodes, ports, node_parts,
		pg_catalog.format('cxsell._son_candidates(ARRAY[cxsell.mine(l.b, l.i, %L::pg_catalog.float8, %s)])',
						  (min_support OPERATOR(pg_catalog.*) 0.999999999999::pg_catalog.float8)::pg_catalog.text, max_len)));

	-- pass 2: every node counts the candidates
	counts := cxsell._son_on_nodes(relation, 'pass 2', nodes, ports, node_parts,
		pg_catalog.format('cxsell._son_count(l.b, l.i, pg_catalog.decode(%L, ''base64''))',
						  pg_catalog.encode(candidates, 'base64')));
	IF counts IS NULL THEN
		RETURN NULL;
	END IF;

	result := cxsell._son_patterns(candidates, counts, min_support, max_len, item_type, item_collation);

	-- baskets must not straddle shards: on a table distributed by another
	-- column, the shards' baskets must add up to the table's
	IF dist_column OPERATOR(pg_catalog.<>) basket AND result IS NOT NULL THEN
		EXECUTE pg_catalog.format('SELECT pg_catalog.count(DISTINCT %I) FROM %s WHERE %I IS NOT NULL AND %I IS NOT NULL%s',
								  basket, relation, basket, item,
								  CASE WHEN filter IS NULL THEN ''
									   ELSE ' AND (' OPERATOR(pg_catalog.||) filter OPERATOR(pg_catalog.||) ')' END)
			INTO baskets;
		IF baskets OPERATOR(pg_catalog.<>) (cxsell.summary(result)).baskets THEN
			RAISE EXCEPTION 'baskets of % lie on more than one shard', relation
				USING ERRCODE = '22023',
				DETAIL = pg_catalog.format('The table is distributed by %I; the shards hold %s baskets between them, the table %s.',
										   dist_column, (cxsell.summary(result)).baskets, baskets),
				HINT = 'Distribute the table by the basket column, or by a column that keeps each basket''s lines together (such as the customer).';
		END IF;
	END IF;
	RETURN result;
END
$fn$;
COMMENT ON FUNCTION cxsell.mine_distributed(regclass, name, name, float8, int4, text) IS
	'cxsell.mine over a table Citus distributes by basket (or by a column that keeps baskets together): shards mine and count on their workers, the coordinator receives counts; the same value as cxsell.mine';

-- k-means over a distributed table ----------------------------------------------
--
-- Every pass over the rows is an aggregate (or a filter) that Citus runs on
-- the workers; the coordinator combines vectors of k x (d + 2) numbers.
-- Seeding is k-means|| (Bahmani et al., 2012): a first point, then five
-- rounds that keep each point with probability 2k x its cost / the total
-- cost; the candidates, weighted by the points nearest to them, are
-- reclustered into k centres once per restart (weighted k-means++ and
-- Lloyd), and Lloyd iterations then update every restart's centres in the
-- same passes over the rows.

CREATE FUNCTION cxsell._km_params(k int4, options jsonb, OUT seed int8, OUT restarts int4,
	OUT max_iter int4, OUT tol float8, OUT standardize boolean)
	AS 'MODULE_PATHNAME', 'km_params'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell._km_moments_trans(float8[], float8[]) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'km_moments_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell._km_moments_combine(float8[], float8[]) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'km_moments_combine'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE AGGREGATE cxsell._km_moments(features float8[]) (
	SFUNC = cxsell._km_moments_trans, STYPE = float8[],
	COMBINEFUNC = cxsell._km_moments_combine, PARALLEL = SAFE);
CREATE FUNCTION cxsell._km_step_trans(float8[], float8[], float8[], float8[], int4) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'km_step_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell._km_add(float8[], float8[]) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'km_add'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE AGGREGATE cxsell._km_step(features float8[], centres float8[], space float8[], k int4) (
	SFUNC = cxsell._km_step_trans, STYPE = float8[],
	COMBINEFUNC = cxsell._km_add, PARALLEL = SAFE);
CREATE FUNCTION cxsell._km_space(moments float8[], standardize boolean) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'km_space' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell._km_tolerance(moments float8[], space float8[], tol float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'km_tolerance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell._km_standardize(points float8[], space float8[]) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'km_standardize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell._km_uniform(features float8[], row_id tid, seed int8, round int4) RETURNS float8
	AS 'MODULE_PATHNAME', 'km_uniform' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell._km_cost(features float8[], centres float8[], space float8[]) RETURNS float8
	AS 'MODULE_PATHNAME', 'km_cost' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell._km_pick(features float8[], centres float8[], space float8[],
	factor float8, row_id tid, seed int8, round int4) RETURNS boolean
	AS 'MODULE_PATHNAME', 'km_pick' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell._km_recluster(candidates float8[], step float8[], k int4, seed int8,
	restarts int4) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'km_recluster' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell._km_next(centres float8[], step float8[], k int4) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'km_next' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell._km_converged(old float8[], new float8[], sets int4, tolerance float8)
	RETURNS boolean
	AS 'MODULE_PATHNAME', 'km_converged' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell._km_model(centres float8[], step float8[], space float8[], k int4,
	options jsonb, iterations int4, converged boolean) RETURNS cxsell.kmodel
	AS 'MODULE_PATHNAME', 'km_model' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell._km_params(int4, jsonb) IS
	'internal (cxsell.kmeans_distributed): k and the k-means options checked as cxsell.kmeans checks them, and their values';
COMMENT ON FUNCTION cxsell._km_moments_trans(float8[], float8[]) IS
	'support function of aggregate cxsell._km_moments';
COMMENT ON FUNCTION cxsell._km_moments_combine(float8[], float8[]) IS
	'support function of aggregate cxsell._km_moments';
COMMENT ON AGGREGATE cxsell._km_moments(float8[]) IS
	'internal (cxsell.kmeans_distributed): count, means and squared deviations of the features; Citus computes it on the workers';
COMMENT ON FUNCTION cxsell._km_step_trans(float8[], float8[], float8[], float8[], int4) IS
	'support function of aggregate cxsell._km_step';
COMMENT ON FUNCTION cxsell._km_add(float8[], float8[]) IS
	'support function of aggregate cxsell._km_step: the sum of two states';
COMMENT ON AGGREGATE cxsell._km_step(float8[], float8[], float8[], int4) IS
	'internal (cxsell.kmeans_distributed): per centre, the sum, count and squared distances of the points nearest to it; Citus computes it on the workers';
COMMENT ON FUNCTION cxsell._km_space(float8[], boolean) IS
	'internal (cxsell.kmeans_distributed): the means and scales of the space clustered';
COMMENT ON FUNCTION cxsell._km_tolerance(float8[], float8[], float8) IS
	'internal (cxsell.kmeans_distributed): tol times the mean feature variance in the space clustered';
COMMENT ON FUNCTION cxsell._km_standardize(float8[], float8[]) IS
	'internal (cxsell.kmeans_distributed): points in the space clustered';
COMMENT ON FUNCTION cxsell._km_uniform(float8[], tid, int8, int4) IS
	'internal (cxsell.kmeans_distributed): a uniform draw in [0, 1) from a row (its values and place), a seed and a round';
COMMENT ON FUNCTION cxsell._km_cost(float8[], float8[], float8[]) IS
	'internal (cxsell.kmeans_distributed): the squared distance from a point to its nearest centre';
COMMENT ON FUNCTION cxsell._km_pick(float8[], float8[], float8[], float8, tid, int8, int4) IS
	'internal (cxsell.kmeans_distributed): whether a k-means|| round keeps the point';
COMMENT ON FUNCTION cxsell._km_recluster(float8[], float8[], int4, int8, int4) IS
	'internal (cxsell.kmeans_distributed): k centres per restart from the weighted k-means|| candidates';
COMMENT ON FUNCTION cxsell._km_next(float8[], float8[], int4) IS
	'internal (cxsell.kmeans_distributed): the Lloyd update of every restart''s centres';
COMMENT ON FUNCTION cxsell._km_converged(float8[], float8[], int4, float8) IS
	'internal (cxsell.kmeans_distributed): whether every restart''s centres moved by at most the tolerance';
COMMENT ON FUNCTION cxsell._km_model(float8[], float8[], float8[], int4, jsonb, int4, boolean) IS
	'internal (cxsell.kmeans_distributed): the best restart as a cxsell.kmodel';

CREATE FUNCTION cxsell.kmeans_distributed(relation regclass, features name, k int4,
	options jsonb DEFAULT '{}', filter text DEFAULT NULL)
	RETURNS cxsell.kmodel
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $fn$
DECLARE
	p record;
	feature_type regtype;
	distributed boolean := false;
	src text;
	f text;
	moments float8[];
	n bigint;
	d int4;
	space float8[];
	centres float8[];
	picked float8[];
	step float8[];
	next_centres float8[];
	phi float8;
	tolerance float8;
	iterations int4 := 0;
	converged boolean := false;
	result cxsell.kmodel;
BEGIN
	IF relation IS NULL OR features IS NULL THEN
		RAISE EXCEPTION 'relation and features must not be null'
			USING ERRCODE = '22004',
			HINT = 'Name the table and its column of features.';
	END IF;
	p := cxsell._km_params(k, options);
	SELECT a.atttypid INTO feature_type FROM pg_catalog.pg_attribute a
	WHERE a.attrelid OPERATOR(pg_catalog.=) relation AND a.attname OPERATOR(pg_catalog.=) features
	  AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
	IF feature_type IS NULL THEN
		RAISE EXCEPTION 'relation % has no column %', relation, pg_catalog.quote_ident(features)
			USING ERRCODE = '42703', HINT = 'Name the column of features of the table.';
	END IF;
	f := pg_catalog.format('%I::pg_catalog.float8[]', features);
	src := pg_catalog.format(' FROM %s WHERE %I IS NOT NULL', relation, features);
	IF filter IS NOT NULL THEN
		src := src OPERATOR(pg_catalog.||) ' AND (' OPERATOR(pg_catalog.||) filter OPERATOR(pg_catalog.||) ')';
	END IF;
	IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
		EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p
				 WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1
				   AND p.partmethod OPERATOR(pg_catalog.<>) ''n'')'
			INTO distributed USING relation;
	END IF;
	IF NOT distributed THEN
		EXECUTE pg_catalog.format('SELECT cxsell.kmeans(%s, $1, $2)%s', f, src)
			INTO result USING k, options;
		RETURN result;
	END IF;

	EXECUTE pg_catalog.format('SELECT cxsell._km_moments(%s)%s', f, src) INTO moments;
	IF moments IS NULL THEN
		RETURN NULL;
	END IF;
	n := moments[1]::bigint;
	d := (pg_catalog.cardinality(moments) OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog./) 2;
	IF k OPERATOR(pg_catalog.>) n THEN
		RAISE EXCEPTION 'k % exceeds the number of points (%)', k, n
			USING ERRCODE = '22023', HINT = 'Use a k of at most the number of rows with features.';
	END IF;
	space := cxsell._km_space(moments, p.standardize);
	tolerance := cxsell._km_tolerance(moments, space, p.tol);

	-- k-means||: a first point, then rounds that keep points by their cost
	EXECUTE pg_catalog.format('SELECT %s%s ORDER BY cxsell._km_uniform(%s, ctid, $1, 0), 1 LIMIT 1', f, src, f)
		INTO picked USING p.seed;
	centres := cxsell._km_standardize(picked, space);
	FOR round IN 1..5 LOOP
		EXECUTE pg_catalog.format('SELECT pg_catalog.sum(cxsell._km_cost(%s, $1, $2))%s', f, src)
			INTO phi USING centres, space;
		EXIT WHEN phi IS NULL OR phi OPERATOR(pg_catalog.<=) 0;
		EXECUTE pg_catalog.format('SELECT pg_catalog.array_agg(%s)%s AND cxsell._km_pick(%s, $1, $2, $3, ctid, $4, $5)',
								  f, src, f)
			INTO picked USING centres, space, 2.0 OPERATOR(pg_catalog.*) k OPERATOR(pg_catalog./) phi, p.seed, round;
		IF picked IS NOT NULL THEN
			centres := centres OPERATOR(pg_catalog.||) cxsell._km_standardize(picked, space);
		END IF;
	END LOOP;
	-- too few candidates (points of few distinct values): more drawn points
	IF pg_catalog.cardinality(centres) OPERATOR(pg_catalog.<) (k OPERATOR(pg_catalog.*) d) THEN
		EXECUTE pg_catalog.format('SELECT pg_catalog.array_agg(x) FROM (SELECT %s AS x%s
								   ORDER BY cxsell._km_uniform(%s, ctid, $1, 6), 1 LIMIT $2) s', f, src, f)
			INTO picked USING p.seed, k;
		centres := centres OPERATOR(pg_catalog.||) cxsell._km_standardize(picked, space);
	END IF;
	-- the candidates weighted by their points, reclustered once per restart
	EXECUTE pg_catalog.format('SELECT cxsell._km_step(%s, $1, $2, $3)%s', f, src)
		INTO step USING centres, space,
			 pg_catalog.cardinality(centres) OPERATOR(pg_catalog./) d;
	centres := cxsell._km_recluster(centres, step, k, p.seed, p.restarts);

	-- Lloyd: every restart's centres updated in the same pass
	LOOP
		EXECUTE pg_catalog.format('SELECT cxsell._km_step(%s, $1, $2, $3)%s', f, src)
			INTO step USING centres, space, k;
		next_centres := cxsell._km_next(centres, step, k);
		iterations := iterations OPERATOR(pg_catalog.+) 1;
		converged := cxsell._km_converged(centres, next_centres, p.restarts, tolerance);
		centres := next_centres;
		EXIT WHEN converged OR iterations OPERATOR(pg_catalog.>=) p.max_iter;
	END LOOP;
	EXECUTE pg_catalog.format('SELECT cxsell._km_step(%s, $1, $2, $3)%s', f, src)
		INTO step USING centres, space, k;
	RETURN cxsell._km_model(centres, step, space, k, options, iterations, converged);
END
$fn$;
COMMENT ON FUNCTION cxsell.kmeans_distributed(regclass, name, int4, jsonb, text) IS
	'cxsell.kmeans over a table Citus distributes: k-means|| seeding and Lloyd iterations whose passes the workers aggregate; the coordinator receives k x (features + 2) numbers per worker and pass';

-- Comments for BI tools and \d+: the schema, every column of every table
-- and view, and the support functions -----------------------------------------

COMMENT ON SCHEMA cxsell IS
	'cxsell: cross-sell mining (association rules, recommendations, k-means segments, campaign statistics) and managed analyses';

-- A column's comment by its name, for every table and view of the extension
-- that has it, unless the list after it names the relation.
DO $comments$
DECLARE
	c record;
BEGIN
	FOR c IN
		WITH by_column(col, note) AS (VALUES
			('rule_set', 'the managed rule set the row belongs to'),
			('segmentation', 'the managed segmentation the row belongs to'),
			('antecedent', 'the items of the rule''s if-part, sorted'),
			('consequent', 'the items of the rule''s then-part, sorted'),
			('antecedent_support', 'the fraction of baskets holding the antecedent'),
			('consequent_support', 'the fraction of baskets holding the consequent'),
			('support', 'the fraction of baskets holding the antecedent and the consequent together'),
			('confidence', 'support / antecedent_support: how often the consequent comes with the antecedent'),
			('lift', 'confidence / consequent_support: above 1 the items go together more often than chance, below 1 less'),
			('leverage', 'support - antecedent_support x consequent_support: the excess of baskets over chance, as a fraction'),
			('conviction', '(1 - consequent_support) / (1 - confidence); Infinity when the rule never fails'),
			('jaccard', 'baskets with antecedent and consequent / baskets with either'),
			('kulczynski', 'the mean of the confidences of the rule and of its reverse'),
			('certainty', 'certainty factor: the gain in the consequent''s probability given the antecedent, from -1 to 1'),
			('zhang', 'Zhang''s measure of association, from -1 (never together) to 1 (always together)'),
			('count', 'the number of baskets holding the antecedent and the consequent'),
			('p_value', 'the one-sided Fisher exact p-value of a positive association (rule more often true than chance)'),
			('q_value', 'p_value adjusted for the number of rules tested together (Benjamini-Hochberg): the false discovery rate at which the rule is significant'),
			('refreshed_at', 'when the analysis was last refreshed successfully'),
			('item_a', 'the first item of the pair (the smaller name)'),
			('item_b', 'the second item of the pair'),
			('count_a', 'the number of baskets holding item_a'),
			('count_b', 'the number of baskets holding item_b'),
			('observed', 'the number of baskets holding both items'),
			('expected', 'the number of baskets expected to hold both if the items were independent: count_a x count_b / baskets'),
			('relation', 'complement (together more than chance), substitute (less) or independent, decided on q_value < 0.05'),
			('customer', 'the customer, as text'),
			('rank', 'the position of the recommendation for the customer, 1 = best'),
			('item', 'the recommended item'),
			('score', 'the ranking measure: the rule''s confidence (or lift, by the rule set''s rank_by); the item''s support for popularity rows'),
			('source', 'rule: recommended by a rule whose antecedent the customer holds; popularity: a frequent item filling the list'),
			('items', 'the items of the frequent itemset, sorted'),
			('size', 'the number of items in the itemset'),
			('segment', 'the segment (cluster) number, 1 = the largest'),
			('distance', 'the customer''s distance to the segment''s centre, in the space the model clustered in'),
			('centroid', 'the segment''s centre, in the features'' original units'),
			('within_ss', 'the sum of squared distances of the segment''s customers to its centre (clustering space)'),
			('kind', 'rule set or segmentation'),
			('name', 'the analysis''s name'),
			('owner', 'the role the source query runs as: the role that last wrote it'),
			('source_query', 'the stored query the analysis reads its rows from'),
			('search_path', 'the search_path the source query runs under, saved when it was written'),
			('settings', 'other settings the source query runs under, saved when it was written'),
			('parameters', 'the thresholds (rule set) or k and options (segmentation), as JSON'),
			('created_at', 'when the analysis was defined'),
			('updated_at', 'when the analysis was last changed'),
			('id', 'the run''s number'),
			('started_at', 'when the run started'),
			('finished_at', 'when the run ended (NULL while it runs or when it was interrupted)'),
			('duration', 'finished_at - started_at'),
			('status', 'running, success, error or interrupted (its backend or transaction is gone)'),
			('rows_written', 'the result rows the run wrote'),
			('sqlstate', 'the SQLSTATE of a failed run'),
			('error', 'the error of a failed run'),
			('run_by', 'the role that started the run'),
			('pid', 'the backend that ran the refresh'),
			('lock_key', 'the random key of the advisory lock the run''s backend holds while the run is alive'),
			('last_success_at', 'when the last successful refresh finished'),
			('age', 'how long ago the last successful refresh finished'),
			('last_run_at', 'when the last refresh started, whatever its outcome'),
			('last_status', 'the outcome of the last refresh'),
			('last_duration', 'how long the last refresh took'),
			('last_rows_written', 'the result rows the last refresh wrote'),
			('last_error_at', 'when the last failed refresh happened'),
			('last_error', 'the error of the last failed refresh'),
			('has_customer', 'whether the source query has a customer column, so that recommendations are made'),
			('min_support', 'the smallest fraction of baskets a frequent itemset must appear in'),
			('max_len', 'the largest itemset size mined (0: no limit)'),
			('min_confidence', 'the smallest confidence of the rules kept and of the rules that recommend'),
			('min_lift', 'the smallest lift of the rules kept (recommendations use rules with lift >= max(1, min_lift))'),
			('recommendations', 'how many items to recommend to each customer'),
			('rank_by', 'how recommendations are ranked: confidence, lift or popularity'),
			('k', 'the number of segments'),
			('options', 'the k-means options (seed, restarts, max_iter, tol, standardize), as JSON'),
			('patterns', 'the mined frequent itemsets and counts (read with cxsell.itemsets, cxsell.rules, cxsell.summary)'),
			('model', 'the fitted k-means model (read with cxsell.centroids, cxsell.summary, cxsell.cluster)'),
			('superuser', 'whether the current role is a superuser (sees every analysis)'),
			('owners', 'the roles whose analyses the current role may read')),
		by_relation(rel, col, note) AS (VALUES
			('cxsell.rule_set_rules', 'name', 'the rule set (cxsell.rule_sets.name)'),
			('cxsell.rule_set_pairs', 'name', 'the rule set (cxsell.rule_sets.name)'),
			('cxsell.rule_set_patterns', 'name', 'the rule set (cxsell.rule_sets.name)'),
			('cxsell.rule_set_recommendations', 'name', 'the rule set (cxsell.rule_sets.name)'),
			('cxsell.segmentation_models', 'name', 'the segmentation (cxsell.segmentations.name)'),
			('cxsell.segment_assignments', 'name', 'the segmentation (cxsell.segmentations.name)'),
			('cxsell.refresh_log', 'name', 'the analysis refreshed'),
			('cxsell.refresh_history', 'name', 'the analysis refreshed'),
			('cxsell_internal.visible_rule_sets', 'name', 'a rule set the current role may read'),
			('cxsell_internal.visible_segmentations', 'name', 'a segmentation the current role may read'),
			('cxsell.refresh_log', 'owner', 'the owner of the analysis when it ran: roles with its privileges may read the entry'),
			('cxsell.refresh_history', 'owner', 'the owner of the analysis when it ran'),
			('cxsell.refresh_log', 'parameters', 'the thresholds or options the run used, read once it held the analysis''s lock'),
			('cxsell.refresh_history', 'parameters', 'the thresholds or options the run used'),
			('cxsell.current_itemsets', 'support', 'the fraction of baskets holding the itemset'),
			('cxsell.current_itemsets', 'count', 'the number of baskets holding the itemset'),
			('cxsell.rule_set_pairs', 'support', 'the fraction of baskets holding both items'),
			('cxsell.current_item_pairs', 'support', 'the fraction of baskets holding both items'),
			('cxsell.rule_set_pairs', 'lift', 'observed / expected: above 1 the items go together more often than chance'),
			('cxsell.current_item_pairs', 'lift', 'observed / expected: above 1 the items go together more often than chance'),
			('cxsell.rule_set_pairs', 'p_value', 'the two-sided Fisher exact p-value of the items'' independence'),
			('cxsell.current_item_pairs', 'p_value', 'the two-sided Fisher exact p-value of the items'' independence'),
			('cxsell.rule_set_pairs', 'q_value', 'p_value adjusted for every pair tested (Benjamini-Hochberg)'),
			('cxsell.current_item_pairs', 'q_value', 'p_value adjusted for every pair tested (Benjamini-Hochberg)'),
			('cxsell.rule_set_recommendations', 'support', 'the support of the recommending rule (of the item, for popularity rows)'),
			('cxsell.current_recommendations', 'support', 'the support of the recommending rule (of the item, for popularity rows)'),
			('cxsell.rule_set_recommendations', 'confidence', 'the confidence of the recommending rule (the item''s support, for popularity rows)'),
			('cxsell.current_recommendations', 'confidence', 'the confidence of the recommending rule (the item''s support, for popularity rows)'),
			('cxsell.rule_set_recommendations', 'lift', 'the lift of the recommending rule (1 for popularity rows)'),
			('cxsell.current_recommendations', 'lift', 'the lift of the recommending rule (1 for popularity rows)'),
			('cxsell.rule_set_recommendations', 'antecedent', 'the items held that fire the rule (empty for popularity rows)'),
			('cxsell.current_recommendations', 'antecedent', 'the items held that fire the rule (empty for popularity rows)'),
			('cxsell.current_segment_profiles', 'size', 'the number of customers in the segment'),
			('cxsell_internal.live_runs', 'pid', 'the backend holding a run''s lock'),
			('cxsell_internal.live_runs', 'lock_key', 'the key of the run''s advisory lock'),
			('cxsell.gains_bucket', 'bucket', 'the bucket number, 1 = the highest scores'),
			('cxsell.gains_bucket', 'customers', 'the customers in the bucket'),
			('cxsell.gains_bucket', 'responders', 'the responders in the bucket'),
			('cxsell.gains_bucket', 'response_rate', 'responders / customers in the bucket'),
			('cxsell.gains_bucket', 'cumulative_customers_pct', 'the percentage of all customers in this and the better buckets'),
			('cxsell.gains_bucket', 'cumulative_responders_pct', 'the percentage of all responders in this and the better buckets (the gain)'),
			('cxsell.gains_bucket', 'lift', 'the bucket''s response rate / the overall response rate'),
			('cxsell.gains_bucket', 'cumulative_lift', 'the response rate of this and the better buckets / the overall response rate'),
			('cxsell.kmeans_sweep', 'k', 'the number of clusters fitted'),
			('cxsell.kmeans_sweep', 'inertia', 'the sum of squared distances to the nearest centre (lower is tighter)'),
			('cxsell.kmeans_sweep', 'silhouette', 'the mean silhouette (from -1 to 1, higher is better separated), on a seeded sample of at most 10,000 points'),
			('cxsell.kmeans_sweep', 'iterations', 'the iterations of the best restart'),
			('cxsell.kmeans_sweep', 'converged', 'whether the best restart converged'),
			('cxsell.chi_square_result', 'statistic', 'Pearson''s chi-square statistic'),
			('cxsell.chi_square_result', 'df', 'the degrees of freedom: (rows - 1) x (columns - 1)'),
			('cxsell.chi_square_result', 'p_value', 'the p-value of the statistic (NULL when df is 0)'),
			('cxsell.chi_square_result', 'rows', 'the distinct row labels'),
			('cxsell.chi_square_result', 'columns', 'the distinct column labels'),
			('cxsell.chi_square_result', 'n', 'the observations'))
		SELECT format('%I.%I', n.nspname, r.relname) AS rel, a.attname AS col,
			   coalesce(o.note, g.note) AS note
		FROM pg_catalog.pg_class r
		JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace
		JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
		LEFT JOIN by_relation o ON o.rel = format('%I.%I', n.nspname, r.relname) AND o.col = a.attname
		LEFT JOIN by_column g ON g.col = a.attname
		WHERE n.nspname IN ('cxsell', 'cxsell_internal') AND r.relkind IN ('r', 'v', 'c')
		  AND coalesce(o.note, g.note) IS NOT NULL
	LOOP
		EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', c.rel, c.col, c.note);
	END LOOP;
END
$comments$;

-- The support functions of the aggregates and types, and the helpers.
DO $comments$
DECLARE
	f record;
BEGIN
	FOR f IN
		SELECT p.oid::pg_catalog.regprocedure AS fn,
			   CASE WHEN p.proname ~ '^(mine|kmeans|kmeans_sweep|gains|chisq_table)_'
					THEN format('support function of aggregate cxsell.%s',
								CASE split_part(p.proname, '_', 1)
									WHEN 'chisq' THEN 'chi_square'
									ELSE regexp_replace(p.proname, '_(row_|array_)?(trans|final|combine|serialize|deserialize)$', '') END)
					WHEN p.proname = 'auc_final' THEN 'support function of aggregate cxsell.auc'
					WHEN p.proname ~ '^(patterns|kmodel)_(in|out|recv|send)$'
					THEN format('text and binary input/output of type cxsell.%s', split_part(p.proname, '_', 1))
			   END AS note
		FROM pg_catalog.pg_proc p
		WHERE p.pronamespace = 'cxsell'::regnamespace
		  AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NULL
	LOOP
		IF f.note IS NOT NULL THEN
			EXECUTE format('COMMENT ON FUNCTION %s IS %L', f.fn, f.note);
		END IF;
	END LOOP;
END
$comments$;
COMMENT ON FUNCTION cxsell._check_rule_options(float8, int4, int4, text, float8, float8, boolean) IS
	'internal (cxsell.backtest): check mining and recommendation thresholds with the messages of cxsell.mine and cxsell.recommend';
COMMENT ON FUNCTION cxsell._can_commit() IS
	'internal (cxsell.refresh_all): whether the calling procedure may commit';

-- The bodies of the managed functions, and their helpers.
DO $comments$
DECLARE
	f record;
BEGIN
	FOR f IN
		SELECT p.oid::pg_catalog.regprocedure AS fn, p.proname
		FROM pg_catalog.pg_proc p
		WHERE p.pronamespace = 'cxsell_internal'::regnamespace
		  AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NULL
		  AND EXISTS (SELECT FROM pg_catalog.pg_proc g
					  WHERE g.pronamespace = 'cxsell'::regnamespace AND g.proname = p.proname)
	LOOP
		EXECUTE format('COMMENT ON FUNCTION %s IS %L', f.fn,
					   format('body of cxsell.%s, called by that gate as the extension''s owner with the calling role', f.proname));
	END LOOP;
END
$comments$;
COMMENT ON FUNCTION cxsell_internal.authorize(name, name, text, text, text) IS
	'raise an error unless the caller may act for the owner of an analysis';
COMMENT ON FUNCTION cxsell_internal.check_rule_set(cxsell.rule_sets, boolean) IS
	'check a rule set''s thresholds and, when asked, its source query (as its owner)';
COMMENT ON FUNCTION cxsell_internal.check_segmentation(cxsell.segmentations, boolean) IS
	'check a segmentation''s k and options and, when asked, its source query (as its owner)';
COMMENT ON FUNCTION cxsell_internal.check_name(text, boolean) IS
	'check an analysis name and, for a new one, that it is free';
COMMENT ON FUNCTION cxsell_internal.analysis(text) IS
	'the kind, stored name and owner of an analysis, or an error naming it';
COMMENT ON FUNCTION cxsell_internal.change_owner(text, text, name, name) IS
	'record that a new role wrote an analysis''s query: it becomes the owner and the previous owner''s results go';
COMMENT ON FUNCTION cxsell_internal.refresh_rule_set(cxsell.rule_sets) IS
	'replace a rule set''s results from its source query; the rows written';
COMMENT ON FUNCTION cxsell_internal.refresh_segmentation(cxsell.segmentations) IS
	'replace a segmentation''s model and assignments from its source query; the rows written';
COMMENT ON FUNCTION cxsell_internal.log_finish(bigint, bigint, jsonb, jsonb) IS
	'record the end of a refresh run: success with its rows, or the error';
COMMENT ON FUNCTION cxsell_internal.session_settings() IS
	'the settings of the calling session that a source query keeps (besides search_path)';
COMMENT ON FUNCTION cxsell_internal.query_settings(text, jsonb) IS
	'the settings a stored source query runs under: its search_path and other saved settings';
COMMENT ON FUNCTION cxsell_internal.source_query_columns(text, text, name, jsonb, text, text[], text) IS
	'the columns of an analysis''s source query, checked as its owner; errors name the analysis';
COMMENT ON FUNCTION cxsell_internal.own_run(name, bigint) IS
	'the run log entry of a run this backend started for the caller, or an error';
COMMENT ON FUNCTION cxsell_internal.same_owner(cxsell.refresh_log, name) IS
	'raise an error when an analysis changed owner since its run started';
