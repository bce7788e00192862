/* cxsell--0.1--0.2.sql: recommendations and their backtest */

\echo Use "ALTER EXTENSION cxsell UPDATE TO '0.2'" to load this file. \quit

-- Recommendations ------------------------------------------------------------

CREATE FUNCTION cxsell.recommend(p cxsell.patterns, held text[], n int4,
	rank_by text DEFAULT 'confidence',
	min_confidence float8 DEFAULT 0,
	min_lift float8 DEFAULT 0,
	fallback boolean DEFAULT true,
	OUT rank int4, OUT item text, OUT score float8, OUT confidence float8,
	OUT lift float8, OUT support float8, OUT antecedent text[], OUT source text)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'patterns_recommend'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 5;
COMMENT ON FUNCTION cxsell.recommend(cxsell.patterns, text[], int4, text, float8, float8, boolean) IS
	'the n best items not held: per item the best rule whose antecedent is held (by confidence, or lift), topped up by popularity when fallback is on';

-- Backtest of recommendations ------------------------------------------------
-- Runs the caller's own query (with the caller's privileges and search_path);
-- everything else in it is schema-qualified, operators included.
CREATE FUNCTION cxsell.backtest(baskets text, min_support float8, n int4 DEFAULT 5,
	holdout float8 DEFAULT 0.2,
	seed int8 DEFAULT 0,
	rank_by text DEFAULT 'confidence',
	min_confidence float8 DEFAULT 0,
	min_lift float8 DEFAULT 0,
	fallback boolean DEFAULT true,
	max_len int4 DEFAULT 0,
	OUT method text, OUT train_baskets bigint, OUT test_baskets bigint,
	OUT hits bigint, OUT hit_rate float8, OUT hit_rate_lower float8,
	OUT hit_rate_upper float8, OUT coverage float8, OUT items_recommended bigint)
	RETURNS SETOF record
	LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
AS $fn$
BEGIN
	IF baskets IS NULL THEN
		RAISE EXCEPTION 'baskets query must not be null'
			USING ERRCODE = '22004',
			HINT = 'Pass a query returning (basket, item), one row per basket line.';
	END IF;
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
	-- the thresholds get the checks and messages of the functions they feed
	PERFORM cxsell.mine(v.x, v.x, min_support, max_len) FROM (VALUES (1)) AS v(x);
	PERFORM cxsell.recommend(NULL::cxsell.patterns, NULL::text[], n, rank_by,
							 min_confidence, min_lift, fallback);

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
