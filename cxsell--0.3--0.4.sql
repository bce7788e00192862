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

-- rules() gains redundant and basis; the refresh of rule sets calls it by name and
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
	basis boolean DEFAULT false,
	OUT antecedent text[], OUT consequent text[],
	OUT antecedent_support float8, OUT consequent_support float8,
	OUT support float8, OUT confidence float8, OUT lift float8,
	OUT leverage float8, OUT conviction float8, OUT jaccard float8,
	OUT kulczynski float8, OUT certainty float8, OUT zhang float8,
	OUT count bigint, OUT p_value float8, OUT q_value float8)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'patterns_rules'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION cxsell.rules(cxsell.patterns, float8, float8, int4, int4, text[], text[], bigint, text, text, boolean, boolean) IS
	'association rules with support, confidence, lift, leverage, conviction, jaccard, kulczynski, certainty, zhang, count, one-sided Fisher p-value and its q-value over the rules returned; redundant => false drops a rule when one with a smaller antecedent and the same consequent has at least its confidence; basis => true keeps the min-max basis (a generator antecedent, a closed itemset in all)';

-- Rule sets choose whether their rules keep the redundant ones, or are the basis
--
-- The definitions gain two columns, set by a routine of their own: the
-- routines that define and alter rule sets keep their arguments, and so the
-- privileges roles hold on them.  Their bodies build the new row in full.
ALTER TABLE cxsell.rule_sets ADD COLUMN redundant boolean NOT NULL DEFAULT true;
COMMENT ON COLUMN cxsell.rule_sets.redundant IS
	'whether the stored rules keep the redundant ones (see cxsell.rules, redundant)';
ALTER TABLE cxsell.rule_sets ADD COLUMN basis boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN cxsell.rule_sets.basis IS
	'whether the stored rules are only the min-max basis (see cxsell.rules, basis)';

CREATE OR REPLACE FUNCTION cxsell_internal.create_rule_set(caller name, caller_path text, name text,
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
			 cxsell_internal.session_settings(), NULL, true, false);
	r.has_customer := cxsell_internal.check_rule_set(r, true);
	-- the name is taken, under a lock, only once the query has been checked
	PERFORM cxsell_internal.check_name(create_rule_set.name, true);
	INSERT INTO cxsell.rule_sets SELECT r.*;
END
$fn$;

CREATE OR REPLACE FUNCTION cxsell_internal.create_distributed_rule_set(caller name, caller_path text,
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
								'customer', customer, 'filter', filter),
			 true, false);
	r.has_customer := cxsell_internal.check_rule_set(r, true);
	PERFORM cxsell_internal.check_name(create_distributed_rule_set.name, true);
	INSERT INTO cxsell.rule_sets SELECT r.*;
END
$fn$;

CREATE FUNCTION cxsell_internal.set_rule_set_rules(caller name, caller_path text, name text,
	redundant boolean, basis boolean)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	r cxsell.rule_sets;
BEGIN
	SELECT * INTO r FROM cxsell.rule_sets s WHERE s.name = set_rule_set_rules.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'rule set "%" does not exist', set_rule_set_rules.name
			USING ERRCODE = '42704', HINT = 'Define it with cxsell.create_rule_set.';
	END IF;
	PERFORM cxsell_internal.authorize(caller, r.owner, 'alter', 'rule set', r.name);
	-- never runs the query: the next refresh stores the rules so chosen
	UPDATE cxsell.rule_sets s
	SET redundant = coalesce(set_rule_set_rules.redundant, r.redundant),
		basis = coalesce(set_rule_set_rules.basis, r.basis), updated_at = now()
	WHERE s.name = r.name;
END
$fn$;
COMMENT ON FUNCTION cxsell_internal.set_rule_set_rules(name, text, text, boolean, boolean) IS
	'body of cxsell.set_rule_set_rules, called by that gate as the extension''s owner with the calling role';
CREATE FUNCTION cxsell.set_rule_set_rules(name text, redundant boolean DEFAULT NULL,
	basis boolean DEFAULT NULL)
	RETURNS void AS 'MODULE_PATHNAME', 'cxsell_managed_call'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell.set_rule_set_rules(text, boolean, boolean) IS
	'choose which rules a rule set stores from its next refresh: redundant => false only the non-redundant ones, basis => true only the min-max basis (NULL keeps a setting)';

-- nothing of the managed layer is granted to PUBLIC
REVOKE EXECUTE ON FUNCTION cxsell.set_rule_set_rules(text, boolean, boolean) FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA cxsell_internal FROM PUBLIC;

-- The definitions a role may read show the new setting among the parameters.
CREATE OR REPLACE VIEW cxsell.analyses WITH (security_barrier) AS
SELECT a.*
FROM (SELECT 'rule set'::text AS kind, r.name, r.owner, r.source_query, r.search_path,
			 pg_catalog.jsonb_build_object('min_support', r.min_support, 'max_len', r.max_len,
				 'min_confidence', r.min_confidence, 'min_lift', r.min_lift,
				 'recommendations', r.recommendations, 'rank_by', r.rank_by,
				 'has_customer', r.has_customer, 'redundant', r.redundant, 'basis', r.basis)
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

-- Refreshing reads the new setting -------------------------------------------------

-- Replace a rule set's results from its source query; the rows written.  Its
-- rules keep the redundant ones or not, or are the basis, as the rule set says.
CREATE OR REPLACE FUNCTION cxsell_internal.refresh_rule_set(r cxsell.rule_sets) RETURNS bigint
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
	FROM cxsell.rules(p, r.min_confidence, r.min_lift, redundant => r.redundant,
					  basis => r.basis) x;
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

-- Bundles of each rule set ------------------------------------------------------------

CREATE VIEW cxsell.current_bundles WITH (security_barrier) AS
SELECT p.name AS rule_set, b.items, b.size, b.count, b.support, b.lift, p.refreshed_at
FROM cxsell.rule_set_patterns p, cxsell.bundles(p.patterns) b
WHERE p.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v));
REVOKE ALL ON cxsell.current_bundles FROM PUBLIC;
COMMENT ON VIEW cxsell.current_bundles IS
	'the bundles of each rule set the current role may read (closed itemsets of two or more items by lift), from its last successful refresh';
COMMENT ON COLUMN cxsell.current_bundles.rule_set IS 'the rule set';
COMMENT ON COLUMN cxsell.current_bundles.items IS 'the items of the bundle, sorted: a closed itemset (no item joins it without losing baskets)';
COMMENT ON COLUMN cxsell.current_bundles.size IS 'the number of items in the bundle';
COMMENT ON COLUMN cxsell.current_bundles.count IS 'the number of baskets holding the bundle';
COMMENT ON COLUMN cxsell.current_bundles.support IS 'the fraction of baskets holding the bundle';
COMMENT ON COLUMN cxsell.current_bundles.lift IS 'support over the product of the items'' supports: above 1 the items come together more often than if bought independently';
COMMENT ON COLUMN cxsell.current_bundles.refreshed_at IS 'when the rule set''s results were computed';
