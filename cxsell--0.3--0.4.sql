/* cxsell--0.3--0.4.sql: closed and maximal itemsets, bundles, non-redundant rules */

\echo Use "ALTER EXTENSION cxsell UPDATE TO '0.4'" to load this file. \quit

-- itemsets(patterns) stays as it is: views read it.  The kind of itemsets is
-- an overload of its own.
CREATE FUNCTION cxsell.itemsets(patterns cxsell.patterns, kind text,
	OUT items text[], OUT size int4, OUT count bigint, OUT support float8)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'patterns_itemsets'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION cxsell.itemsets(cxsell.patterns, text) IS
	'frequent itemsets of one kind: all, closed (no superset with the same count) or maximal (no frequent superset), by size, then count descending';

CREATE FUNCTION cxsell.bundles(patterns cxsell.patterns, min_size int4 DEFAULT 2,
	max_bundles bigint DEFAULT 0,
	OUT items text[], OUT size int4, OUT count bigint, OUT support float8,
	OUT lift float8)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'patterns_bundles'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION cxsell.bundles(cxsell.patterns, int4, bigint) IS
	'closed itemsets of at least min_size items ranked by lift over independence (support over the product of the items'' supports), then count';

-- rules() gains redundant; the refresh of rule sets calls it by name and
-- position, so it may be replaced
DROP FUNCTION cxsell.rules(cxsell.patterns, float8, float8, int4, int4, text[], text[], bigint, text, text);
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
	redundant boolean DEFAULT true,
	OUT antecedent text[], OUT consequent text[],
	OUT antecedent_support float8, OUT consequent_support float8,
	OUT support float8, OUT confidence float8, OUT lift float8,
	OUT leverage float8, OUT conviction float8, OUT jaccard float8,
	OUT kulczynski float8, OUT certainty float8, OUT zhang float8,
	OUT count bigint, OUT p_value float8, OUT q_value float8)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'patterns_rules'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION cxsell.rules(cxsell.patterns, float8, float8, int4, int4, text[], text[], bigint, text, text, boolean) IS
	'association rules with support, confidence, lift, leverage, conviction, jaccard, kulczynski, certainty, zhang, count, one-sided Fisher p-value and its q-value over the rules returned; redundant => false drops a rule when one with a smaller antecedent and the same consequent has at least its confidence';
