/* cxsell--0.1.sql: cross-sell mining inside PostgreSQL */

\echo Use "CREATE EXTENSION cxsell" to load this file. \quit

-- The result of a mining run ------------------------------------------------

CREATE TYPE cxsell.patterns;

CREATE FUNCTION cxsell.patterns_in(cstring) RETURNS cxsell.patterns
	AS 'MODULE_PATHNAME', 'patterns_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.patterns_out(cxsell.patterns) RETURNS cstring
	AS 'MODULE_PATHNAME', 'patterns_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.patterns_recv(internal) RETURNS cxsell.patterns
	AS 'MODULE_PATHNAME', 'patterns_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.patterns_send(cxsell.patterns) RETURNS bytea
	AS 'MODULE_PATHNAME', 'patterns_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE cxsell.patterns (
	INPUT = cxsell.patterns_in,
	OUTPUT = cxsell.patterns_out,
	RECEIVE = cxsell.patterns_recv,
	SEND = cxsell.patterns_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);

COMMENT ON TYPE cxsell.patterns IS
	'result of cxsell.mine: basket count, frequent items and itemsets with counts, and co-occurrence counts of all frequent item pairs';

-- Mining aggregates ----------------------------------------------------------

CREATE FUNCTION cxsell.mine_row_trans(internal, anyelement, anycompatible, float8)
	RETURNS internal AS 'MODULE_PATHNAME', 'mine_row_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.mine_row_trans(internal, anyelement, anycompatible, float8, int4)
	RETURNS internal AS 'MODULE_PATHNAME', 'mine_row_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.mine_array_trans(internal, anyarray, float8)
	RETURNS internal AS 'MODULE_PATHNAME', 'mine_array_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.mine_array_trans(internal, anyarray, float8, int4)
	RETURNS internal AS 'MODULE_PATHNAME', 'mine_array_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.mine_final(internal) RETURNS cxsell.patterns
	AS 'MODULE_PATHNAME', 'mine_final'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.mine_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'mine_combine'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.mine_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'mine_serialize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.mine_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'mine_deserialize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE cxsell.mine(basket anyelement, item anycompatible, min_support float8) (
	SFUNC = cxsell.mine_row_trans, STYPE = internal,
	FINALFUNC = cxsell.mine_final,
	COMBINEFUNC = cxsell.mine_combine,
	SERIALFUNC = cxsell.mine_serialize, DESERIALFUNC = cxsell.mine_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE cxsell.mine(basket anyelement, item anycompatible, min_support float8, max_len int4) (
	SFUNC = cxsell.mine_row_trans, STYPE = internal,
	FINALFUNC = cxsell.mine_final,
	COMBINEFUNC = cxsell.mine_combine,
	SERIALFUNC = cxsell.mine_serialize, DESERIALFUNC = cxsell.mine_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE cxsell.mine(items anyarray, min_support float8) (
	SFUNC = cxsell.mine_array_trans, STYPE = internal,
	FINALFUNC = cxsell.mine_final,
	COMBINEFUNC = cxsell.mine_combine,
	SERIALFUNC = cxsell.mine_serialize, DESERIALFUNC = cxsell.mine_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE cxsell.mine(items anyarray, min_support float8, max_len int4) (
	SFUNC = cxsell.mine_array_trans, STYPE = internal,
	FINALFUNC = cxsell.mine_final,
	COMBINEFUNC = cxsell.mine_combine,
	SERIALFUNC = cxsell.mine_serialize, DESERIALFUNC = cxsell.mine_deserialize,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE cxsell.mine(anyelement, anycompatible, float8) IS
	'mine frequent itemsets from one row per (basket, item) at a minimum support fraction';
COMMENT ON AGGREGATE cxsell.mine(anyelement, anycompatible, float8, int4) IS
	'mine frequent itemsets of at most max_len items (0 = no limit) from one row per (basket, item)';
COMMENT ON AGGREGATE cxsell.mine(anyarray, float8) IS
	'mine frequent itemsets from one row per basket holding an array of items';
COMMENT ON AGGREGATE cxsell.mine(anyarray, float8, int4) IS
	'mine frequent itemsets of at most max_len items (0 = no limit) from one row per basket holding an array of items';

-- Reading a mining result -----------------------------------------------------

CREATE FUNCTION cxsell.summary(p cxsell.patterns,
	OUT baskets bigint, OUT min_support float8, OUT min_count bigint,
	OUT max_len int4, OUT items int4, OUT itemsets bigint,
	OUT max_itemset_size int4, OUT co_occurring_pairs bigint)
	RETURNS record AS 'MODULE_PATHNAME', 'patterns_summary'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell.summary(cxsell.patterns) IS
	'basket count, thresholds and sizes of a mining result';

CREATE FUNCTION cxsell.itemsets(p cxsell.patterns,
	OUT items text[], OUT size int4, OUT count bigint, OUT support float8)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'patterns_itemsets'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION cxsell.itemsets(cxsell.patterns) IS
	'frequent itemsets with their basket counts and supports, by size, then count descending';

CREATE FUNCTION cxsell.rules(p cxsell.patterns,
	min_confidence float8 DEFAULT 0,
	min_lift float8 DEFAULT 0,
	max_antecedent int4 DEFAULT 0,
	max_consequent int4 DEFAULT 0,
	antecedents text[] DEFAULT NULL,
	consequents text[] DEFAULT NULL,
	max_rules bigint DEFAULT 0,
	order_by text DEFAULT 'confidence',
	OUT antecedent text[], OUT consequent text[],
	OUT antecedent_support float8, OUT consequent_support float8,
	OUT support float8, OUT confidence float8, OUT lift float8,
	OUT leverage float8, OUT conviction float8, OUT jaccard float8,
	OUT kulczynski float8, OUT certainty float8, OUT zhang float8,
	OUT count bigint, OUT p_value float8)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'patterns_rules'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION cxsell.rules(cxsell.patterns, float8, float8, int4, int4, text[], text[], bigint, text) IS
	'association rules with support, confidence, lift, leverage, conviction, jaccard, kulczynski, certainty, zhang, count and one-sided Fisher p-value';

CREATE FUNCTION cxsell.item_pairs(p cxsell.patterns, alpha float8 DEFAULT 0.05,
	OUT item_a text, OUT item_b text, OUT count_a bigint, OUT count_b bigint,
	OUT observed bigint, OUT expected float8, OUT support float8,
	OUT lift float8, OUT p_value float8, OUT relation text)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'patterns_item_pairs'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION cxsell.item_pairs(cxsell.patterns, float8) IS
	'every pair of frequent items with observed and expected co-occurrence, lift, two-sided Fisher p-value and complement/substitute/independent relation';

-- Measures from raw counts ---------------------------------------------------

CREATE FUNCTION cxsell.support(n_ac bigint, n_a bigint, n_c bigint, n bigint) RETURNS float8
	AS 'MODULE_PATHNAME', 'measure_support' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.confidence(n_ac bigint, n_a bigint, n_c bigint, n bigint) RETURNS float8
	AS 'MODULE_PATHNAME', 'measure_confidence' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.lift(n_ac bigint, n_a bigint, n_c bigint, n bigint) RETURNS float8
	AS 'MODULE_PATHNAME', 'measure_lift' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.leverage(n_ac bigint, n_a bigint, n_c bigint, n bigint) RETURNS float8
	AS 'MODULE_PATHNAME', 'measure_leverage' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.conviction(n_ac bigint, n_a bigint, n_c bigint, n bigint) RETURNS float8
	AS 'MODULE_PATHNAME', 'measure_conviction' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.jaccard(n_ac bigint, n_a bigint, n_c bigint, n bigint) RETURNS float8
	AS 'MODULE_PATHNAME', 'measure_jaccard' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.kulczynski(n_ac bigint, n_a bigint, n_c bigint, n bigint) RETURNS float8
	AS 'MODULE_PATHNAME', 'measure_kulczynski' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.certainty(n_ac bigint, n_a bigint, n_c bigint, n bigint) RETURNS float8
	AS 'MODULE_PATHNAME', 'measure_certainty' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.zhang(n_ac bigint, n_a bigint, n_c bigint, n bigint) RETURNS float8
	AS 'MODULE_PATHNAME', 'measure_zhang' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.p_value(n_ac bigint, n_a bigint, n_c bigint, n bigint) RETURNS float8
	AS 'MODULE_PATHNAME', 'measure_p_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.p_value_two_sided(n_ac bigint, n_a bigint, n_c bigint, n bigint) RETURNS float8
	AS 'MODULE_PATHNAME', 'measure_p_value_two_sided' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION cxsell.support(bigint, bigint, bigint, bigint) IS 'support of A -> C: n_ac / n';
COMMENT ON FUNCTION cxsell.confidence(bigint, bigint, bigint, bigint) IS 'confidence of A -> C: n_ac / n_a';
COMMENT ON FUNCTION cxsell.lift(bigint, bigint, bigint, bigint) IS 'lift of A -> C: confidence / s(C)';
COMMENT ON FUNCTION cxsell.leverage(bigint, bigint, bigint, bigint) IS 'leverage of A -> C: s(AC) - s(A) s(C)';
COMMENT ON FUNCTION cxsell.conviction(bigint, bigint, bigint, bigint) IS 'conviction of A -> C: (1 - s(C)) / (1 - confidence), Infinity when confidence = 1';
COMMENT ON FUNCTION cxsell.jaccard(bigint, bigint, bigint, bigint) IS 'Jaccard coefficient of A and C: s(AC) / (s(A) + s(C) - s(AC))';
COMMENT ON FUNCTION cxsell.kulczynski(bigint, bigint, bigint, bigint) IS 'Kulczynski measure: mean of confidence(A -> C) and confidence(C -> A)';
COMMENT ON FUNCTION cxsell.certainty(bigint, bigint, bigint, bigint) IS 'certainty factor of A -> C: (confidence - s(C)) / (1 - s(C)), 0 when s(C) = 1';
COMMENT ON FUNCTION cxsell.zhang(bigint, bigint, bigint, bigint) IS 'Zhang''s metric of A -> C, 0 when its denominator is 0';
COMMENT ON FUNCTION cxsell.p_value(bigint, bigint, bigint, bigint) IS 'one-sided Fisher exact p-value that A and C co-occur more than chance';
COMMENT ON FUNCTION cxsell.p_value_two_sided(bigint, bigint, bigint, bigint) IS 'two-sided Fisher exact p-value of the independence of A and C';

-- Segmentation: k-means ----------------------------------------------------------

CREATE TYPE cxsell.kmodel;

CREATE FUNCTION cxsell.kmodel_in(cstring) RETURNS cxsell.kmodel
	AS 'MODULE_PATHNAME', 'kmodel_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.kmodel_out(cxsell.kmodel) RETURNS cstring
	AS 'MODULE_PATHNAME', 'kmodel_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.kmodel_recv(internal) RETURNS cxsell.kmodel
	AS 'MODULE_PATHNAME', 'kmodel_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.kmodel_send(cxsell.kmodel) RETURNS bytea
	AS 'MODULE_PATHNAME', 'kmodel_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE cxsell.kmodel (
	INPUT = cxsell.kmodel_in,
	OUTPUT = cxsell.kmodel_out,
	RECEIVE = cxsell.kmodel_recv,
	SEND = cxsell.kmodel_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE cxsell.kmodel IS
	'a fitted k-means model: centroids, cluster sizes, inertia, standardisation; text form is JSON';

CREATE FUNCTION cxsell.kmeans_trans(internal, float8[], int4)
	RETURNS internal AS 'MODULE_PATHNAME', 'kmeans_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.kmeans_trans(internal, float8[], int4, jsonb)
	RETURNS internal AS 'MODULE_PATHNAME', 'kmeans_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.kmeans_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'kmeans_combine'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.kmeans_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'kmeans_serialize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.kmeans_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'kmeans_deserialize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.kmeans_final(internal) RETURNS cxsell.kmodel
	AS 'MODULE_PATHNAME', 'kmeans_final'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

CREATE AGGREGATE cxsell.kmeans(features float8[], k int4) (
	SFUNC = cxsell.kmeans_trans, STYPE = internal,
	FINALFUNC = cxsell.kmeans_final,
	COMBINEFUNC = cxsell.kmeans_combine,
	SERIALFUNC = cxsell.kmeans_serialize, DESERIALFUNC = cxsell.kmeans_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE cxsell.kmeans(features float8[], k int4, options jsonb) (
	SFUNC = cxsell.kmeans_trans, STYPE = internal,
	FINALFUNC = cxsell.kmeans_final,
	COMBINEFUNC = cxsell.kmeans_combine,
	SERIALFUNC = cxsell.kmeans_serialize, DESERIALFUNC = cxsell.kmeans_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE cxsell.kmeans(float8[], int4) IS
	'fit a k-means model (k-means++ seeding, 10 restarts, seed 0) to one feature vector per row';
COMMENT ON AGGREGATE cxsell.kmeans(float8[], int4, jsonb) IS
	'fit a k-means model; options: seed, restarts, max_iter, tol, standardize';

CREATE FUNCTION cxsell.cluster(model cxsell.kmodel, features float8[]) RETURNS int4
	AS 'MODULE_PATHNAME', 'kmodel_cluster'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell.cluster(cxsell.kmodel, float8[]) IS
	'number (1..k) of the cluster whose centre is nearest to the features';
CREATE FUNCTION cxsell.cluster_distance(model cxsell.kmodel, features float8[]) RETURNS float8
	AS 'MODULE_PATHNAME', 'kmodel_cluster_distance'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell.cluster_distance(cxsell.kmodel, float8[]) IS
	'Euclidean distance from the features to the nearest cluster centre, in the space the model clustered in';
CREATE FUNCTION cxsell.centroids(model cxsell.kmodel,
	OUT cluster int4, OUT size bigint, OUT centroid float8[], OUT within_ss float8)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'kmodel_centroids'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION cxsell.centroids(cxsell.kmodel) IS
	'one row per cluster: size, centre in original units, within-cluster sum of squares';
CREATE FUNCTION cxsell.summary(model cxsell.kmodel,
	OUT k int4, OUT features int4, OUT points bigint, OUT inertia float8,
	OUT iterations int4, OUT converged boolean, OUT standardized boolean,
	OUT seed bigint, OUT restarts int4)
	RETURNS record AS 'MODULE_PATHNAME', 'kmodel_summary'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell.summary(cxsell.kmodel) IS
	'size, fit and parameters of a k-means model';

CREATE TYPE cxsell.kmeans_sweep AS (k int4, inertia float8, silhouette float8,
	iterations int4, converged boolean);
COMMENT ON TYPE cxsell.kmeans_sweep IS
	'one k of a k-means sweep: inertia, mean silhouette (NULL for k = 1), iterations, converged';

CREATE FUNCTION cxsell.kmeans_sweep_trans(internal, float8[], int4, int4)
	RETURNS internal AS 'MODULE_PATHNAME', 'kmeans_sweep_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.kmeans_sweep_trans(internal, float8[], int4, int4, jsonb)
	RETURNS internal AS 'MODULE_PATHNAME', 'kmeans_sweep_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.kmeans_sweep_final(internal) RETURNS cxsell.kmeans_sweep[]
	AS 'MODULE_PATHNAME', 'kmeans_sweep_final'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

CREATE AGGREGATE cxsell.kmeans_sweep(features float8[], k_min int4, k_max int4) (
	SFUNC = cxsell.kmeans_sweep_trans, STYPE = internal,
	FINALFUNC = cxsell.kmeans_sweep_final,
	COMBINEFUNC = cxsell.kmeans_combine,
	SERIALFUNC = cxsell.kmeans_serialize, DESERIALFUNC = cxsell.kmeans_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE cxsell.kmeans_sweep(features float8[], k_min int4, k_max int4, options jsonb) (
	SFUNC = cxsell.kmeans_sweep_trans, STYPE = internal,
	FINALFUNC = cxsell.kmeans_sweep_final,
	COMBINEFUNC = cxsell.kmeans_combine,
	SERIALFUNC = cxsell.kmeans_serialize, DESERIALFUNC = cxsell.kmeans_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE cxsell.kmeans_sweep(float8[], int4, int4) IS
	'fit k-means for every k in [k_min, k_max]: inertia and silhouette per k, to choose k';
COMMENT ON AGGREGATE cxsell.kmeans_sweep(float8[], int4, int4, jsonb) IS
	'fit k-means for every k in [k_min, k_max] with the options of cxsell.kmeans';

CREATE FUNCTION cxsell.standardize(model cxsell.kmodel, features float8[]) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'kmodel_standardize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell.standardize(cxsell.kmodel, float8[]) IS
	'the features in the space the model clustered in (its z-scores, or unchanged)';

-- Rates and segment profiles ---------------------------------------------------

CREATE FUNCTION cxsell.wilson_interval(successes bigint, n bigint, confidence float8 DEFAULT 0.95,
	OUT rate float8, OUT lower float8, OUT upper float8)
	RETURNS record AS 'MODULE_PATHNAME', 'rate_wilson_interval'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell.wilson_interval(bigint, bigint, float8) IS
	'the rate successes / n and its Wilson score interval at the given confidence level';

-- The two functions below run the caller's own queries (with the caller's
-- privileges and search_path); everything else in them is schema-qualified,
-- operators included, so that search_path cannot redirect it.
CREATE FUNCTION cxsell.segment_profiles(segments text, holdings text, alpha float8 DEFAULT 0.05,
	OUT segment text, OUT product text, OUT customers bigint, OUT holders bigint,
	OUT adoption_rate float8, OUT overall_rate float8, OUT index float8,
	OUT p_value float8, OUT direction text)
	RETURNS SETOF record
	LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
AS $fn$
BEGIN
	IF alpha IS NULL OR NOT (alpha OPERATOR(pg_catalog.>) 0
							 AND alpha OPERATOR(pg_catalog.<) 1) THEN
		RAISE EXCEPTION 'alpha % is out of range', alpha
			USING ERRCODE = '22023',
			HINT = 'Use a significance level greater than 0 and less than 1, such as 0.05.';
	END IF;
	IF segments IS NULL OR holdings IS NULL THEN
		RAISE EXCEPTION 'segments and holdings queries must not be null'
			USING ERRCODE = '22004',
			HINT = 'Pass a query returning (customer, segment) and one returning (customer, product).';
	END IF;
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
			            AND hs.product OPERATOR(pg_catalog.=) ph.product)
		SELECT g.segment, g.product, g.customers, g.holders, g.rate, g.overall,
		       g.rate OPERATOR(pg_catalog./) g.overall, p.p,
		       CASE WHEN p.p OPERATOR(pg_catalog.>=) $1 THEN 'none'
		            WHEN g.rate OPERATOR(pg_catalog.>) g.overall THEN 'over'
		            WHEN g.rate OPERATOR(pg_catalog.<) g.overall THEN 'under'
		            ELSE 'none' END
		FROM grid g,
		     LATERAL (SELECT cxsell.p_value_two_sided(g.holders, g.customers,
		                                              g.product_holders, g.all_customers) AS p) p
		ORDER BY g.segment, g.product
	$q$, segments, holdings) USING alpha;
END
$fn$;
COMMENT ON FUNCTION cxsell.segment_profiles(text, text, float8) IS
	'per segment and product: customers, holders, adoption rate, overall rate, index (lift), two-sided Fisher p-value and over/under/none';

CREATE FUNCTION cxsell.segment_propensity(segments text, holdings text, product text,
	OUT customer text, OUT segment text, OUT holds boolean, OUT propensity float8)
	RETURNS SETOF record
	LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
AS $fn$
BEGIN
	IF segments IS NULL OR holdings IS NULL OR product IS NULL THEN
		RAISE EXCEPTION 'segments, holdings and product must not be null'
			USING ERRCODE = '22004',
			HINT = 'Pass a query returning (customer, segment), one returning (customer, product), and a product.';
	END IF;
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

-- Campaigns: gains / lift and AUC ---------------------------------------------------

CREATE TYPE cxsell.gains_bucket AS (bucket int4, customers bigint, responders bigint,
	response_rate float8, cumulative_customers_pct float8, cumulative_responders_pct float8,
	lift float8, cumulative_lift float8);
COMMENT ON TYPE cxsell.gains_bucket IS
	'one bucket of a gains table: customers, responders, rate, cumulative % of customers and of responders (gain), lift, cumulative lift';

CREATE FUNCTION cxsell.gains_trans(internal, float8, boolean)
	RETURNS internal AS 'MODULE_PATHNAME', 'gains_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.gains_trans(internal, float8, boolean, int4)
	RETURNS internal AS 'MODULE_PATHNAME', 'gains_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.gains_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'gains_combine'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.gains_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'gains_serialize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.gains_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'gains_deserialize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.gains_final(internal) RETURNS cxsell.gains_bucket[]
	AS 'MODULE_PATHNAME', 'gains_final'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.auc_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME', 'auc_final'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

CREATE AGGREGATE cxsell.gains(score float8, responded boolean) (
	SFUNC = cxsell.gains_trans, STYPE = internal,
	FINALFUNC = cxsell.gains_final,
	COMBINEFUNC = cxsell.gains_combine,
	SERIALFUNC = cxsell.gains_serialize, DESERIALFUNC = cxsell.gains_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE cxsell.gains(score float8, responded boolean, buckets int4) (
	SFUNC = cxsell.gains_trans, STYPE = internal,
	FINALFUNC = cxsell.gains_final,
	COMBINEFUNC = cxsell.gains_combine,
	SERIALFUNC = cxsell.gains_serialize, DESERIALFUNC = cxsell.gains_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE cxsell.auc(score float8, responded boolean) (
	SFUNC = cxsell.gains_trans, STYPE = internal,
	FINALFUNC = cxsell.auc_final,
	COMBINEFUNC = cxsell.gains_combine,
	SERIALFUNC = cxsell.gains_serialize, DESERIALFUNC = cxsell.gains_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE cxsell.gains(float8, boolean) IS
	'gains table by decile of score: one cxsell.gains_bucket per bucket';
COMMENT ON AGGREGATE cxsell.gains(float8, boolean, int4) IS
	'gains table with the given number of buckets: one cxsell.gains_bucket per bucket';
COMMENT ON AGGREGATE cxsell.auc(float8, boolean) IS
	'area under the ROC curve of a score for a yes/no outcome (ties count one half)';

CREATE FUNCTION cxsell.two_proportion_test(x_a bigint, n_a bigint, x_b bigint, n_b bigint,
	OUT rate_a float8, OUT rate_b float8, OUT difference float8, OUT z float8, OUT p_value float8)
	RETURNS record AS 'MODULE_PATHNAME', 'rate_two_proportion_test'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell.two_proportion_test(bigint, bigint, bigint, bigint) IS
	'pooled two-proportion z test of x_a/n_a against x_b/n_b: rates, difference, z and two-sided p-value';

CREATE TYPE cxsell.chi_square_result AS (statistic float8, df bigint, p_value float8,
	rows int4, columns int4, n bigint);
COMMENT ON TYPE cxsell.chi_square_result IS
	'Pearson chi-square test of independence: statistic, degrees of freedom, p-value, table size';
CREATE FUNCTION cxsell.chisq_trans(internal, anyelement, anycompatible)
	RETURNS internal AS 'MODULE_PATHNAME', 'chisq_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.chisq_final(internal) RETURNS cxsell.chi_square_result
	AS 'MODULE_PATHNAME', 'chisq_final'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE AGGREGATE cxsell.chi_square(row_label anyelement, column_label anycompatible) (
	SFUNC = cxsell.chisq_trans, STYPE = internal,
	FINALFUNC = cxsell.chisq_final,
	COMBINEFUNC = cxsell.mine_combine,
	SERIALFUNC = cxsell.mine_serialize, DESERIALFUNC = cxsell.mine_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE cxsell.chi_square(anyelement, anycompatible) IS
	'Pearson chi-square test of independence of two labels (e.g. channel x responded), one row per observation';

CREATE FUNCTION cxsell.channel_report(contacts_query text, confidence float8 DEFAULT 0.95,
	OUT channel text, OUT contacts bigint, OUT responses bigint, OUT rate float8,
	OUT lower float8, OUT upper float8, OUT best boolean, OUT p_value_vs_best float8)
	RETURNS SETOF record
	LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
AS $fn$
BEGIN
	IF confidence IS NULL OR NOT (confidence OPERATOR(pg_catalog.>) 0
								  AND confidence OPERATOR(pg_catalog.<) 1) THEN
		RAISE EXCEPTION 'confidence level % is out of range', confidence
			USING ERRCODE = '22023',
			HINT = 'Use a level greater than 0 and less than 1, such as 0.95.';
	END IF;
	IF contacts_query IS NULL THEN
		RAISE EXCEPTION 'contacts query must not be null'
			USING ERRCODE = '22004',
			HINT = 'Pass a query returning (channel, responded boolean), one row per contact.';
	END IF;
	RETURN QUERY EXECUTE pg_catalog.format($q$
		WITH c AS (
			SELECT q.ch::pg_catalog.text AS channel, pg_catalog.count(*) AS contacts,
			       pg_catalog.count(*) FILTER (WHERE q.r) AS responses
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
	$q$, contacts_query) USING confidence;
END
$fn$;
COMMENT ON FUNCTION cxsell.channel_report(text, float8) IS
	'per channel: contacts, responses, response rate with its Wilson interval, and the two-proportion z-test p-value against the best channel';
