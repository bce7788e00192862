/* cxsell--0.4--0.5.sql: item hierarchies (generalised rules) and weighted support */

\echo Use "ALTER EXTENSION cxsell UPDATE TO '0.5'" to load this file. \quit

-- Mining with a hierarchy, with weights, or both ------------------------------------

CREATE FUNCTION cxsell.mine_row_trans(internal, anyelement, anycompatible, float8, int4,
	anycompatiblearray)
	RETURNS internal AS 'MODULE_PATHNAME', 'mine_row_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.mine_row_trans(internal, anyelement, anycompatible, float8, int4,
	float8)
	RETURNS internal AS 'MODULE_PATHNAME', 'mine_row_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.mine_row_trans(internal, anyelement, anycompatible, float8, int4,
	anycompatiblearray, float8)
	RETURNS internal AS 'MODULE_PATHNAME', 'mine_row_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.mine_array_trans(internal, anyarray, float8, int4, float8)
	RETURNS internal AS 'MODULE_PATHNAME', 'mine_array_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

COMMENT ON FUNCTION cxsell.mine_row_trans(internal, anyelement, anycompatible, float8, int4, anycompatiblearray) IS
	'transition function of cxsell.mine with a hierarchy';
COMMENT ON FUNCTION cxsell.mine_row_trans(internal, anyelement, anycompatible, float8, int4, float8) IS
	'transition function of cxsell.mine with weights';
COMMENT ON FUNCTION cxsell.mine_row_trans(internal, anyelement, anycompatible, float8, int4, anycompatiblearray, float8) IS
	'transition function of cxsell.mine with a hierarchy and weights';
COMMENT ON FUNCTION cxsell.mine_array_trans(internal, anyarray, float8, int4, float8) IS
	'transition function of cxsell.mine over arrays with weights';

CREATE AGGREGATE cxsell.mine(basket anyelement, item anycompatible, min_support float8,
	max_len int4, ancestors anycompatiblearray) (
	SFUNC = cxsell.mine_row_trans, STYPE = internal,
	FINALFUNC = cxsell.mine_final,
	COMBINEFUNC = cxsell.mine_combine,
	SERIALFUNC = cxsell.mine_serialize, DESERIALFUNC = cxsell.mine_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE cxsell.mine(basket anyelement, item anycompatible, min_support float8,
	max_len int4, weight float8) (
	SFUNC = cxsell.mine_row_trans, STYPE = internal,
	FINALFUNC = cxsell.mine_final,
	COMBINEFUNC = cxsell.mine_combine,
	SERIALFUNC = cxsell.mine_serialize, DESERIALFUNC = cxsell.mine_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE cxsell.mine(basket anyelement, item anycompatible, min_support float8,
	max_len int4, ancestors anycompatiblearray, weight float8) (
	SFUNC = cxsell.mine_row_trans, STYPE = internal,
	FINALFUNC = cxsell.mine_final,
	COMBINEFUNC = cxsell.mine_combine,
	SERIALFUNC = cxsell.mine_serialize, DESERIALFUNC = cxsell.mine_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE cxsell.mine(items anyarray, min_support float8, max_len int4,
	weight float8) (
	SFUNC = cxsell.mine_array_trans, STYPE = internal,
	FINALFUNC = cxsell.mine_final,
	COMBINEFUNC = cxsell.mine_combine,
	SERIALFUNC = cxsell.mine_serialize, DESERIALFUNC = cxsell.mine_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE cxsell.mine(anyelement, anycompatible, float8, int4, anycompatiblearray) IS
	'mine frequent itemsets over an item hierarchy: each row names its item''s ancestors, nearest first; itemsets may hold items of any level, never an item and its ancestor';
COMMENT ON AGGREGATE cxsell.mine(anyelement, anycompatible, float8, int4, float8) IS
	'mine frequent itemsets with weighted support: a basket weighs the sum of its rows'' weights (revenue, margin, quantity)';
COMMENT ON AGGREGATE cxsell.mine(anyelement, anycompatible, float8, int4, anycompatiblearray, float8) IS
	'mine frequent itemsets over an item hierarchy, with weighted support';
COMMENT ON AGGREGATE cxsell.mine(anyarray, float8, int4, float8) IS
	'mine frequent itemsets from one row per basket holding an array of items and the basket''s weight';

CREATE FUNCTION cxsell.hierarchy(patterns cxsell.patterns,
	OUT item text, OUT parent text, OUT item_count bigint, OUT parent_count bigint)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'patterns_hierarchy'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION cxsell.hierarchy(cxsell.patterns) IS
	'the links item -> parent of the hierarchy a value was mined over, between its frequent items, with both items'' basket counts';

-- Readers: rules keep those interesting against their ancestors; pairs of one level

-- the refresh of rule sets calls rules() and item_pairs() by name and position,
-- so they may be replaced
DROP FUNCTION cxsell.rules(cxsell.patterns, float8, float8, int4, int4, text[], text[], bigint,
	text, text, boolean, boolean);
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
	basis boolean DEFAULT false,
	ancestor_interest float8 DEFAULT 0,
	OUT antecedent text[], OUT consequent text[],
	OUT antecedent_support float8, OUT consequent_support float8,
	OUT support float8, OUT confidence float8, OUT lift float8,
	OUT leverage float8, OUT conviction float8, OUT jaccard float8,
	OUT kulczynski float8, OUT certainty float8, OUT zhang float8,
	OUT count bigint, OUT p_value float8, OUT q_value float8)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'patterns_rules'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION cxsell.rules(cxsell.patterns, float8, float8, int4, int4, text[], text[], bigint, text, text, boolean, boolean, float8) IS
	'association rules with support, confidence, lift, leverage, conviction, jaccard, kulczynski, certainty, zhang (from weighted supports when the value is weighted), count, one-sided Fisher p-value and its q-value over the rules returned; redundant => false drops a rule when one with a smaller antecedent and the same consequent has at least its confidence; basis => true keeps the min-max basis; ancestor_interest => R keeps, under a hierarchy, the rules whose support or confidence is at least R times the one expected from each close ancestor rule';

DROP FUNCTION cxsell.item_pairs(cxsell.patterns, float8, text);
CREATE FUNCTION cxsell.item_pairs(patterns cxsell.patterns, alpha float8 DEFAULT 0.05,
	adjust text DEFAULT 'bh', depth int4 DEFAULT NULL,
	OUT item_a text, OUT item_b text, OUT count_a bigint, OUT count_b bigint,
	OUT observed bigint, OUT expected float8, OUT support float8,
	OUT lift float8, OUT p_value float8, OUT q_value float8, OUT relation text)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'patterns_item_pairs'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION cxsell.item_pairs(cxsell.patterns, float8, text, int4) IS
	'every pair of frequent items (never an item and its ancestor) with observed and expected co-occurrence, lift, two-sided Fisher p-value, its q-value over all pairs returned, and complement/substitute/independent decided on the q-value; depth keeps the items of one level of the hierarchy (0: the top)';

-- the weight (revenue, when the weights are revenue) of any frequent itemset
CREATE FUNCTION cxsell.itemset_weight(patterns cxsell.patterns, items text[]) RETURNS float8
	AS 'MODULE_PATHNAME', 'patterns_itemset_weight'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell.itemset_weight(cxsell.patterns, text[]) IS
	'the weight of the baskets holding the itemset (its revenue, when the weights are revenue); NULL when the value has no weights or the itemset is not frequent';

-- Rule drift between two periods -------------------------------------------------

CREATE FUNCTION cxsell.itemset_count(patterns cxsell.patterns, items text[]) RETURNS bigint
	AS 'MODULE_PATHNAME', 'patterns_itemset_count'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell.itemset_count(cxsell.patterns, text[]) IS
	'the number of baskets holding the itemset; NULL when it is not one of the value''s frequent itemsets';

CREATE FUNCTION cxsell.adjust_p_values(p_values float8[], adjust text DEFAULT 'bh') RETURNS float8[]
	AS 'MODULE_PATHNAME', 'measure_adjust_p_values'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell.adjust_p_values(float8[], text) IS
	'p-values adjusted for being tested together, in the same order: bh (Benjamini-Hochberg q-values), holm, or none';

CREATE FUNCTION cxsell.rule_drift(before cxsell.patterns, after cxsell.patterns,
	min_confidence float8 DEFAULT 0, min_lift float8 DEFAULT 0,
	max_antecedent int4 DEFAULT 0, max_consequent int4 DEFAULT 0,
	alpha float8 DEFAULT 0.05, adjust text DEFAULT 'bh',
	OUT antecedent text[], OUT consequent text[],
	OUT count_before bigint, OUT count_after bigint,
	OUT support_before float8, OUT support_after float8,
	OUT confidence_before float8, OUT confidence_after float8,
	OUT lift_before float8, OUT lift_after float8,
	OUT confidence_change float8, OUT p_value float8, OUT q_value float8, OUT status text)
	RETURNS SETOF record
	LANGUAGE plpgsql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF alpha IS NULL OR NOT (alpha > 0 AND alpha < 1) THEN
		RAISE EXCEPTION 'alpha % is out of range', alpha
			USING ERRCODE = '22023',
			HINT = 'Use a significance level greater than 0 and less than 1, such as 0.05.';
	END IF;
	IF adjust IS NULL THEN
		RAISE EXCEPTION 'adjust must not be null'
			USING ERRCODE = '22004',
			HINT = 'Use bh (Benjamini-Hochberg q-values), holm, or none for the p-values as they are.';
	END IF;
	-- the thresholds are checked as rules() checks them
	PERFORM r.count FROM cxsell.rules(NULL::cxsell.patterns, min_confidence, min_lift,
									  max_antecedent, max_consequent) r;
	RETURN QUERY
	WITH k AS (
		-- the rules either period holds; the thresholds apply to their
		-- counts below (a weighted value's rules() would apply them to
		-- weights)
		SELECT r.antecedent, r.consequent
		FROM cxsell.rules(before, 0, 0, max_antecedent, max_consequent, adjust => 'none') r
		UNION
		SELECT r.antecedent, r.consequent
		FROM cxsell.rules(after, 0, 0, max_antecedent, max_consequent, adjust => 'none') r),
	n AS (
		SELECT (SELECT s.baskets FROM cxsell.summary(before) s) AS n_b,
			   (SELECT s.baskets FROM cxsell.summary(after) s) AS n_a),
	c AS (
		-- the counts of A u C, A and C in each period (NULL where not frequent)
		SELECT k.antecedent, k.consequent, n.n_b, n.n_a,
			   cxsell.itemset_count(before, k.antecedent || k.consequent) AS ac_b,
			   cxsell.itemset_count(before, k.antecedent) AS a_b,
			   cxsell.itemset_count(before, k.consequent) AS c_b,
			   cxsell.itemset_count(after, k.antecedent || k.consequent) AS ac_a,
			   cxsell.itemset_count(after, k.antecedent) AS a_a,
			   cxsell.itemset_count(after, k.consequent) AS c_a
		FROM k, n),
	f AS (
		-- the rules that pass the filters in either period, by their counts
		SELECT c.* FROM c
		WHERE (cxsell.confidence(c.ac_b, c.a_b, c.c_b, c.n_b) >= min_confidence
			   AND cxsell.lift(c.ac_b, c.a_b, c.c_b, c.n_b) >= min_lift)
		   OR (cxsell.confidence(c.ac_a, c.a_a, c.c_a, c.n_a) >= min_confidence
			   AND cxsell.lift(c.ac_a, c.a_a, c.c_a, c.n_a) >= min_lift)),
	t AS (
		-- the confidence in both periods: two-sided Fisher exact test of
		-- the 2 x 2 table (period x consequent) of the antecedent's baskets
		SELECT c.*, cxsell.p_value_two_sided(c.ac_b, c.a_b, c.ac_b + c.ac_a, c.a_b + c.a_a) AS p,
			   row_number() OVER (ORDER BY c.antecedent, c.consequent) AS i
		FROM f c),
	q AS (
		SELECT u.i, u.q
		FROM (SELECT array_agg(t.i ORDER BY t.i) AS ids, array_agg(t.p ORDER BY t.i) AS ps
			  FROM t WHERE t.p IS NOT NULL) x,
			 unnest(x.ids, cxsell.adjust_p_values(x.ps, adjust)) AS u(i, q))
	SELECT t.antecedent, t.consequent, t.ac_b, t.ac_a,
		   cxsell.support(t.ac_b, t.a_b, t.c_b, t.n_b), cxsell.support(t.ac_a, t.a_a, t.c_a, t.n_a),
		   cxsell.confidence(t.ac_b, t.a_b, t.c_b, t.n_b), cxsell.confidence(t.ac_a, t.a_a, t.c_a, t.n_a),
		   cxsell.lift(t.ac_b, t.a_b, t.c_b, t.n_b), cxsell.lift(t.ac_a, t.a_a, t.c_a, t.n_a),
		   cxsell.confidence(t.ac_a, t.a_a, t.c_a, t.n_a) - cxsell.confidence(t.ac_b, t.a_b, t.c_b, t.n_b),
		   t.p, q.q,
		   CASE WHEN t.ac_b IS NULL THEN 'emerging'
				WHEN t.ac_a IS NULL THEN 'vanishing'
				WHEN q.q < alpha AND t.ac_a::float8 / t.a_a > t.ac_b::float8 / t.a_b THEN 'strengthened'
				WHEN q.q < alpha AND t.ac_a::float8 / t.a_a < t.ac_b::float8 / t.a_b THEN 'weakened'
				ELSE 'stable' END
	FROM t LEFT JOIN q ON q.i = t.i
	ORDER BY t.p NULLS LAST, t.antecedent, t.consequent;
END
$fn$;
COMMENT ON FUNCTION cxsell.rule_drift(cxsell.patterns, cxsell.patterns, float8, float8, int4, int4, float8, text) IS
	'the rules of two mining results (before, after) that pass the filters in either: counts, support, confidence and lift in both, the change of confidence, a two-sided Fisher exact p-value of it, its q-value over the rules tested, and emerging / vanishing / strengthened / weakened / stable';

-- Rule sets: hierarchy and weights from the source query, R-interesting rules ----------
--
-- A rule set's source query may return, beside basket and item (and customer),
-- a column ancestors (the item's ancestors, nearest first, as text[]) and a
-- column weight (the row's weight): each refresh mines with what the query
-- returns.  The factor R of interesting rules is a setting of its own, set by
-- a routine of its own, so that the routines that define and alter rule sets
-- keep their arguments and their grants.  NULL keeps every rule.
ALTER TABLE cxsell.rule_sets ADD COLUMN ancestor_interest float8;

-- A rule set defined before 0.5 goes on mining as it did: a column of its
-- query that happens to be named ancestors or weight is not used until the
-- query is rewritten.
ALTER TABLE cxsell.rule_sets ADD COLUMN query_before_0_5 boolean;
UPDATE cxsell.rule_sets SET query_before_0_5 = true;
COMMENT ON COLUMN cxsell.rule_sets.query_before_0_5 IS
	'true for a rule set whose source query was written before 0.5: its refreshes ignore columns named ancestors and weight until the query is rewritten';
CREATE FUNCTION cxsell_internal.rule_set_query_changed() RETURNS trigger
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF NEW.source_query IS DISTINCT FROM OLD.source_query THEN
		NEW.query_before_0_5 := NULL;
	END IF;
	RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION cxsell_internal.rule_set_query_changed() IS
	'trigger: a rule set''s rewritten source query is one of 0.5 or later, whose ancestors and weight columns are used';
CREATE TRIGGER query_changed BEFORE UPDATE ON cxsell.rule_sets
	FOR EACH ROW EXECUTE FUNCTION cxsell_internal.rule_set_query_changed();
COMMENT ON COLUMN cxsell.rule_sets.ancestor_interest IS
	'under a hierarchy, keep only the rules at least this interesting against their close ancestors (see cxsell.rules, ancestor_interest); NULL keeps every rule';

CREATE FUNCTION cxsell_internal.set_rule_set_interest(caller name, caller_path text, name text,
	ancestor_interest float8)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	r cxsell.rule_sets;
BEGIN
	SELECT * INTO r FROM cxsell.rule_sets s WHERE s.name = set_rule_set_interest.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'rule set "%" does not exist', set_rule_set_interest.name
			USING ERRCODE = '42704', HINT = 'Define it with cxsell.create_rule_set.';
	END IF;
	PERFORM cxsell_internal.authorize(caller, r.owner, 'alter', 'rule set', r.name);
	IF NOT (ancestor_interest >= 0 AND ancestor_interest <= 1e6) THEN
		RAISE EXCEPTION 'ancestor_interest % is out of range', ancestor_interest
			USING ERRCODE = '22023',
			HINT = 'Use a factor such as 1.1, or NULL to keep every rule.';
	END IF;
	-- never runs the query: the next refresh stores the rules so chosen
	UPDATE cxsell.rule_sets s
	SET ancestor_interest = set_rule_set_interest.ancestor_interest, updated_at = now()
	WHERE s.name = r.name;
END
$fn$;
COMMENT ON FUNCTION cxsell_internal.set_rule_set_interest(name, text, text, float8) IS
	'body of cxsell.set_rule_set_interest, called by that gate as the extension''s owner with the calling role';
CREATE FUNCTION cxsell.set_rule_set_interest(name text, ancestor_interest float8)
	RETURNS void AS 'MODULE_PATHNAME', 'cxsell_managed_call'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell.set_rule_set_interest(text, float8) IS
	'under a hierarchy, keep from the next refresh only the rules of a rule set at least ancestor_interest times as supported or confident as their close ancestor rules lead to expect (NULL keeps every rule)';

-- nothing of the managed layer is granted to PUBLIC
REVOKE EXECUTE ON FUNCTION cxsell.set_rule_set_interest(text, float8) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION cxsell_internal.rule_set_query_changed() FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA cxsell_internal FROM PUBLIC;

-- The definitions a role may read show the new setting among the parameters.
CREATE OR REPLACE VIEW cxsell.analyses WITH (security_barrier) AS
SELECT a.*
FROM (SELECT 'rule set'::text AS kind, r.name, r.owner, r.source_query, r.search_path,
			 pg_catalog.jsonb_build_object('min_support', r.min_support, 'max_len', r.max_len,
				 'min_confidence', r.min_confidence, 'min_lift', r.min_lift,
				 'recommendations', r.recommendations, 'rank_by', r.rank_by,
				 'has_customer', r.has_customer, 'redundant', r.redundant, 'basis', r.basis,
				 'ancestor_interest', r.ancestor_interest)
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

-- Check a rule set's thresholds and source query (as its owner); whether
-- the query has a customer column.  (Its hint names the optional columns.)
CREATE OR REPLACE FUNCTION cxsell_internal.check_rule_set(r cxsell.rule_sets, check_query boolean)
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
		'Name the columns with AS basket, AS item (and AS customer for per-customer recommendations, AS ancestors for the items'' categories, AS weight for weighted support).')
		? 'customer';
END
$fn$;

-- A rule set keeps the patterns of its refresh before the last, for the drift
-- between the two.
ALTER TABLE cxsell.rule_set_patterns ADD COLUMN previous_patterns cxsell.patterns;
ALTER TABLE cxsell.rule_set_patterns ADD COLUMN previous_refreshed_at timestamptz;
COMMENT ON COLUMN cxsell.rule_set_patterns.previous_patterns IS
	'the mined patterns of the successful refresh before the last one (NULL before a second refresh)';
COMMENT ON COLUMN cxsell.rule_set_patterns.previous_refreshed_at IS
	'when the previous patterns were computed';

-- Replace a rule set's results from its source query; the rows written.  The
-- query's ancestors and weight columns, when it has them, go to the mining;
-- the patterns it replaces are kept as the previous ones.
CREATE OR REPLACE FUNCTION cxsell_internal.refresh_rule_set(r cxsell.rule_sets) RETURNS bigint
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	p cxsell.patterns;
	n bigint;
	total bigint := 0;
	cols text[];
	previous cxsell.patterns;
	previous_at timestamptz;
	has_ancestors boolean := false;
	has_weight boolean := false;
BEGIN
	IF to_regclass('pg_temp.cxsell_refresh_source') IS NOT NULL THEN
		DROP TABLE pg_temp.cxsell_refresh_source;
	END IF;
	IF r.distributed IS NULL THEN
		SELECT pg_catalog.array_agg(c.name) INTO cols
		FROM cxsell_internal.source_columns(r.owner,
			cxsell_internal.query_settings(r.search_path, r.settings), r.source_query) c;
		has_ancestors := 'ancestors' = ANY (cols) AND r.query_before_0_5 IS NOT TRUE;
		has_weight := 'weight' = ANY (cols) AND r.query_before_0_5 IS NOT TRUE;
		CREATE TEMP TABLE cxsell_refresh_source ON COMMIT DROP AS
		SELECT * FROM cxsell_internal.source_rows(r.owner,
			cxsell_internal.query_settings(r.search_path, r.settings), r.source_query,
			ARRAY['basket', 'item', CASE WHEN r.has_customer THEN 'customer' END,
				  CASE WHEN has_ancestors THEN 'ancestors' END,
				  CASE WHEN has_weight THEN 'weight' END],
			'{text,text,text,text[],float8}')
			AS s(basket text, item text, customer text, ancestors text[], weight float8);
		IF has_ancestors AND has_weight THEN
			SELECT cxsell.mine(s.basket, s.item, r.min_support, r.max_len, s.ancestors, s.weight)
			INTO p FROM pg_temp.cxsell_refresh_source s;
		ELSIF has_ancestors THEN
			SELECT cxsell.mine(s.basket, s.item, r.min_support, r.max_len, s.ancestors)
			INTO p FROM pg_temp.cxsell_refresh_source s;
		ELSIF has_weight THEN
			SELECT cxsell.mine(s.basket, s.item, r.min_support, r.max_len, s.weight)
			INTO p FROM pg_temp.cxsell_refresh_source s;
		ELSE
			SELECT cxsell.mine(s.basket, s.item, r.min_support, r.max_len)
			INTO p FROM pg_temp.cxsell_refresh_source s;
		END IF;
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

	SELECT t.patterns, t.refreshed_at INTO previous, previous_at
	FROM cxsell.rule_set_patterns t WHERE t.name = r.name;
	DELETE FROM cxsell.rule_set_patterns t WHERE t.name = r.name;
	DELETE FROM cxsell.rule_set_rules t WHERE t.name = r.name;
	DELETE FROM cxsell.rule_set_pairs t WHERE t.name = r.name;
	DELETE FROM cxsell.rule_set_recommendations t WHERE t.name = r.name;

	INSERT INTO cxsell.rule_set_patterns (name, patterns, refreshed_at, previous_patterns,
		previous_refreshed_at)
	VALUES (r.name, p, now(), previous, previous_at);
	INSERT INTO cxsell.rule_set_rules (name, antecedent, consequent, antecedent_support,
		consequent_support, support, confidence, lift, leverage, conviction, jaccard,
		kulczynski, certainty, zhang, count, p_value, q_value)
	SELECT r.name, x.antecedent, x.consequent, x.antecedent_support, x.consequent_support,
		x.support, x.confidence, x.lift, x.leverage, x.conviction, x.jaccard, x.kulczynski,
		x.certainty, x.zhang, x.count, x.p_value, x.q_value
	FROM cxsell.rules(p, r.min_confidence, r.min_lift, redundant => r.redundant,
					  basis => r.basis,
					  ancestor_interest => coalesce(r.ancestor_interest, 0)) x;
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

-- Bundles of each rule set, with their weight --------------------------------------

-- (replaced, not dropped: the privileges granted on the view stay)
CREATE OR REPLACE VIEW cxsell.current_bundles WITH (security_barrier) AS
SELECT p.name AS rule_set, b.items, b.size, b.count, b.support, b.lift, p.refreshed_at,
	   cxsell.itemset_weight(p.patterns, b.items) AS weight
FROM cxsell.rule_set_patterns p, cxsell.bundles(p.patterns) b
WHERE p.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v));
COMMENT ON COLUMN cxsell.current_bundles.support IS 'the share of baskets holding the bundle: of their number, or of their weight when the source query has a weight column';
COMMENT ON COLUMN cxsell.current_bundles.weight IS 'the weight of the baskets holding the bundle (their revenue, when the weights are revenue); NULL without a weight column';

-- The drift of each rule set's rules since its previous refresh ------------------------

CREATE VIEW cxsell.current_rule_drift WITH (security_barrier) AS
SELECT p.name AS rule_set, d.antecedent, d.consequent, d.count_before, d.count_after,
	   d.support_before, d.support_after, d.confidence_before, d.confidence_after,
	   d.lift_before, d.lift_after, d.confidence_change, d.p_value, d.q_value, d.status,
	   p.previous_refreshed_at, p.refreshed_at
FROM cxsell.rule_set_patterns p JOIN cxsell.rule_sets r ON r.name = p.name,
	 cxsell.rule_drift(p.previous_patterns, p.patterns, r.min_confidence, r.min_lift) d
WHERE p.previous_patterns IS NOT NULL
  AND p.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v))
  AND r.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v));
REVOKE ALL ON cxsell.current_rule_drift FROM PUBLIC;
COMMENT ON VIEW cxsell.current_rule_drift IS
	'how the rules of each rule set the current role may read changed between its last two successful refreshes (see cxsell.rule_drift), at the rule set''s min_confidence and min_lift';
COMMENT ON COLUMN cxsell.current_rule_drift.rule_set IS 'the rule set';
COMMENT ON COLUMN cxsell.current_rule_drift.antecedent IS 'the items of the rule''s if-part, sorted';
COMMENT ON COLUMN cxsell.current_rule_drift.consequent IS 'the items of the rule''s then-part, sorted';
COMMENT ON COLUMN cxsell.current_rule_drift.count_before IS 'baskets holding antecedent and consequent at the previous refresh (NULL: not frequent then)';
COMMENT ON COLUMN cxsell.current_rule_drift.count_after IS 'baskets holding antecedent and consequent at the last refresh (NULL: not frequent now)';
COMMENT ON COLUMN cxsell.current_rule_drift.support_before IS 'the rule''s support at the previous refresh (share of baskets)';
COMMENT ON COLUMN cxsell.current_rule_drift.support_after IS 'the rule''s support at the last refresh (share of baskets)';
COMMENT ON COLUMN cxsell.current_rule_drift.confidence_before IS 'the rule''s confidence at the previous refresh';
COMMENT ON COLUMN cxsell.current_rule_drift.confidence_after IS 'the rule''s confidence at the last refresh';
COMMENT ON COLUMN cxsell.current_rule_drift.lift_before IS 'the rule''s lift at the previous refresh';
COMMENT ON COLUMN cxsell.current_rule_drift.lift_after IS 'the rule''s lift at the last refresh';
COMMENT ON COLUMN cxsell.current_rule_drift.confidence_change IS 'confidence_after - confidence_before';
COMMENT ON COLUMN cxsell.current_rule_drift.p_value IS 'the two-sided Fisher exact p-value of the change of confidence (NULL unless frequent at both refreshes)';
COMMENT ON COLUMN cxsell.current_rule_drift.q_value IS 'p_value adjusted for the rules tested together (Benjamini-Hochberg)';
COMMENT ON COLUMN cxsell.current_rule_drift.status IS 'emerging (not frequent before), vanishing (not frequent now), strengthened or weakened (q_value below 0.05), or stable';
COMMENT ON COLUMN cxsell.current_rule_drift.previous_refreshed_at IS 'when the previous results were computed';
COMMENT ON COLUMN cxsell.current_rule_drift.refreshed_at IS 'when the last results were computed';

-- The hierarchy of each rule set ------------------------------------------------------

CREATE VIEW cxsell.current_hierarchy WITH (security_barrier) AS
SELECT p.name AS rule_set, h.item, h.parent, h.item_count, h.parent_count, p.refreshed_at
FROM cxsell.rule_set_patterns p, cxsell.hierarchy(p.patterns) h
WHERE p.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v));
REVOKE ALL ON cxsell.current_hierarchy FROM PUBLIC;
COMMENT ON VIEW cxsell.current_hierarchy IS
	'the item hierarchy each rule set the current role may read was mined over (its source query''s ancestors column), between frequent items, from its last successful refresh';
COMMENT ON COLUMN cxsell.current_hierarchy.rule_set IS 'the rule set';
COMMENT ON COLUMN cxsell.current_hierarchy.item IS 'an item or category';
COMMENT ON COLUMN cxsell.current_hierarchy.parent IS 'a category it belongs to';
COMMENT ON COLUMN cxsell.current_hierarchy.item_count IS 'the number of baskets holding the item';
COMMENT ON COLUMN cxsell.current_hierarchy.parent_count IS 'the number of baskets holding the category (any of its items)';
COMMENT ON COLUMN cxsell.current_hierarchy.refreshed_at IS 'when the rule set''s results were computed';

-- Supports are shares of the baskets' weight when a rule set's source query
-- has a weight column (item pairs stay counts of baskets: they test
-- independence on counts).
COMMENT ON COLUMN cxsell.rule_set_rules.antecedent_support IS
	'the share of baskets holding the antecedent: of their number, or of their weight when the source query has a weight column';
COMMENT ON COLUMN cxsell.current_rules.antecedent_support IS
	'the share of baskets holding the antecedent: of their number, or of their weight when the source query has a weight column';
COMMENT ON COLUMN cxsell.rule_set_rules.consequent_support IS
	'the share of baskets holding the consequent: of their number, or of their weight when the source query has a weight column';
COMMENT ON COLUMN cxsell.current_rules.consequent_support IS
	'the share of baskets holding the consequent: of their number, or of their weight when the source query has a weight column';
COMMENT ON COLUMN cxsell.rule_set_rules.support IS
	'the share of baskets holding the antecedent and the consequent together: of their number, or of their weight when the source query has a weight column';
COMMENT ON COLUMN cxsell.current_rules.support IS
	'the share of baskets holding the antecedent and the consequent together: of their number, or of their weight when the source query has a weight column';
COMMENT ON COLUMN cxsell.current_itemsets.support IS
	'the share of baskets holding the itemset: of their number, or of their weight when the source query has a weight column';
COMMENT ON COLUMN cxsell.rule_set_recommendations.support IS
	'the support of the recommending rule (of the item, for popularity rows), weighted as the rule set''s rules are';
COMMENT ON COLUMN cxsell.current_recommendations.support IS
	'the support of the recommending rule (of the item, for popularity rows), weighted as the rule set''s rules are';
