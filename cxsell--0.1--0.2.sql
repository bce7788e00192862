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

-- Check the thresholds of mining and recommending with the checks and
-- messages of the functions they feed (cxsell.mine, cxsell.recommend).
CREATE FUNCTION cxsell._check_rule_options(min_support float8, max_len int4, n int4,
	rank_by text, min_confidence float8, min_lift float8, fallback boolean)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	PERFORM cxsell.mine(v.x, v.x, min_support, max_len) FROM (VALUES (1)) AS v(x);
	PERFORM cxsell.recommend(NULL::cxsell.patterns, NULL::text[], n, rank_by,
							 min_confidence, min_lift, fallback);
END
$fn$;

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
	PERFORM cxsell._check_rule_options(min_support, max_len, n, rank_by,
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

-- Managed analyses --------------------------------------------------------------
--
-- Named rule sets and segmentations, defined once and refreshed by
-- CALL cxsell.refresh(name).  Definitions and results live in the tables
-- below (dumped with the database); dashboards read the views.  No object
-- here is SECURITY DEFINER: every function runs with its caller's rights,
-- and a stored source query runs as the role that wrote it (see
-- cxsell._run_source).

CREATE TABLE cxsell.rule_sets (
	name text PRIMARY KEY,
	source_query text NOT NULL,
	has_customer boolean NOT NULL,
	min_support float8 NOT NULL,
	max_len int4 NOT NULL DEFAULT 0,
	min_confidence float8 NOT NULL DEFAULT 0,
	min_lift float8 NOT NULL DEFAULT 0,
	recommendations int4 NOT NULL DEFAULT 5,
	rank_by text NOT NULL DEFAULT 'confidence',
	owner name NOT NULL,
	search_path text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at timestamptz NOT NULL DEFAULT pg_catalog.now());
COMMENT ON TABLE cxsell.rule_sets IS
	'managed rule sets: source query (basket, item [, customer]), thresholds, and the role the query runs as';

CREATE TABLE cxsell.segmentations (
	name text PRIMARY KEY,
	source_query text NOT NULL,
	k int4 NOT NULL,
	options jsonb NOT NULL DEFAULT '{}',
	owner name NOT NULL,
	search_path text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at timestamptz NOT NULL DEFAULT pg_catalog.now());
COMMENT ON TABLE cxsell.segmentations IS
	'managed segmentations: source query (customer, features float8[]), k, k-means options, and the role the query runs as';

CREATE TABLE cxsell.rule_set_patterns (
	name text PRIMARY KEY REFERENCES cxsell.rule_sets ON DELETE CASCADE,
	patterns cxsell.patterns,
	refreshed_at timestamptz NOT NULL);
COMMENT ON TABLE cxsell.rule_set_patterns IS 'the mined patterns of each rule set, from its last successful refresh';

CREATE TABLE cxsell.rule_set_rules (
	name text NOT NULL REFERENCES cxsell.rule_sets ON DELETE CASCADE,
	antecedent text[] NOT NULL, consequent text[] NOT NULL,
	antecedent_support float8, consequent_support float8, support float8,
	confidence float8, lift float8, leverage float8, conviction float8,
	jaccard float8, kulczynski float8, certainty float8, zhang float8,
	count bigint, p_value float8);
CREATE INDEX ON cxsell.rule_set_rules (name);
COMMENT ON TABLE cxsell.rule_set_rules IS 'the rules of each rule set, from its last successful refresh';

CREATE TABLE cxsell.rule_set_pairs (
	name text NOT NULL REFERENCES cxsell.rule_sets ON DELETE CASCADE,
	item_a text NOT NULL, item_b text NOT NULL, count_a bigint, count_b bigint,
	observed bigint, expected float8, support float8, lift float8,
	p_value float8, relation text);
CREATE INDEX ON cxsell.rule_set_pairs (name);
COMMENT ON TABLE cxsell.rule_set_pairs IS 'the item pairs (association matrix) of each rule set, from its last successful refresh';

CREATE TABLE cxsell.rule_set_recommendations (
	name text NOT NULL REFERENCES cxsell.rule_sets ON DELETE CASCADE,
	customer text NOT NULL, rank int4 NOT NULL, item text NOT NULL,
	score float8, confidence float8, lift float8, support float8,
	antecedent text[], source text,
	PRIMARY KEY (name, customer, rank));
COMMENT ON TABLE cxsell.rule_set_recommendations IS 'per-customer recommendations of each rule set with a customer column, from its last successful refresh';

CREATE TABLE cxsell.segmentation_models (
	name text PRIMARY KEY REFERENCES cxsell.segmentations ON DELETE CASCADE,
	model cxsell.kmodel,
	refreshed_at timestamptz NOT NULL);
COMMENT ON TABLE cxsell.segmentation_models IS 'the fitted k-means model of each segmentation, from its last successful refresh';

CREATE TABLE cxsell.segment_assignments (
	name text NOT NULL REFERENCES cxsell.segmentations ON DELETE CASCADE,
	customer text NOT NULL, segment int4 NOT NULL, distance float8,
	PRIMARY KEY (name, customer));
COMMENT ON TABLE cxsell.segment_assignments IS 'each customer''s segment in each segmentation, from its last successful refresh';

CREATE TABLE cxsell.refresh_log (
	id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	kind text NOT NULL,
	name text NOT NULL,
	started_at timestamptz NOT NULL,
	finished_at timestamptz,
	duration interval,
	status text NOT NULL CHECK (status IN ('running', 'success', 'error')),
	rows_written bigint,
	parameters jsonb NOT NULL,
	error text,
	run_by name NOT NULL);
CREATE INDEX ON cxsell.refresh_log (name, started_at);
COMMENT ON TABLE cxsell.refresh_log IS 'one row per refresh: start, end, duration, rows written, parameters, error';

-- definitions, results and the log are user data: dumped with the database
SELECT pg_catalog.pg_extension_config_dump('cxsell.rule_sets', '');
SELECT pg_catalog.pg_extension_config_dump('cxsell.segmentations', '');
SELECT pg_catalog.pg_extension_config_dump('cxsell.rule_set_patterns', '');
SELECT pg_catalog.pg_extension_config_dump('cxsell.rule_set_rules', '');
SELECT pg_catalog.pg_extension_config_dump('cxsell.rule_set_pairs', '');
SELECT pg_catalog.pg_extension_config_dump('cxsell.rule_set_recommendations', '');
SELECT pg_catalog.pg_extension_config_dump('cxsell.segmentation_models', '');
SELECT pg_catalog.pg_extension_config_dump('cxsell.segment_assignments', '');
SELECT pg_catalog.pg_extension_config_dump('cxsell.refresh_log', '');
SELECT pg_catalog.pg_extension_config_dump('cxsell.refresh_log_id_seq', '');

REVOKE ALL ON cxsell.rule_sets, cxsell.segmentations, cxsell.rule_set_patterns,
	cxsell.rule_set_rules, cxsell.rule_set_pairs, cxsell.rule_set_recommendations,
	cxsell.segmentation_models, cxsell.segment_assignments, cxsell.refresh_log
	FROM PUBLIC;
REVOKE ALL ON SEQUENCE cxsell.refresh_log_id_seq FROM PUBLIC;

-- The role a stored source query runs as is always the role that wrote the
-- query: whoever inserts a definition, or changes its query, search_path or
-- owner, becomes its owner.  Only a superuser may name another owner (as a
-- restore does when it reloads the definitions).
CREATE FUNCTION cxsell._set_owner() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	super boolean;
BEGIN
	SELECT r.rolsuper INTO super FROM pg_roles r WHERE r.rolname = current_user;
	IF super AND NEW.owner IS NOT NULL
	   AND (TG_OP = 'INSERT' OR NEW.owner IS DISTINCT FROM OLD.owner) THEN
		RETURN NEW;
	END IF;
	IF TG_OP = 'INSERT' OR NEW.source_query IS DISTINCT FROM OLD.source_query
	   OR NEW.search_path IS DISTINCT FROM OLD.search_path
	   OR NEW.owner IS DISTINCT FROM OLD.owner THEN
		NEW.owner := current_user;
	END IF;
	RETURN NEW;
END
$fn$;
CREATE TRIGGER set_owner BEFORE INSERT OR UPDATE ON cxsell.rule_sets
	FOR EACH ROW EXECUTE FUNCTION cxsell._set_owner();
CREATE TRIGGER set_owner BEFORE INSERT OR UPDATE ON cxsell.segmentations
	FOR EACH ROW EXECUTE FUNCTION cxsell._set_owner();

-- The columns a source query returns, as {name: type} (it must parse and
-- plan under the given search_path); errors name the analysis.
CREATE FUNCTION cxsell._source_columns(analysis text, query text, path text) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	cols jsonb;
	st text;
	msg text;
BEGIN
	IF query IS NULL OR btrim(query) = '' THEN
		RAISE EXCEPTION 'source query of "%" must not be empty', analysis
			USING ERRCODE = '22023',
			HINT = 'Pass a SELECT statement, without a trailing semicolon.';
	END IF;
	BEGIN
		PERFORM set_config('search_path', path, true);
		EXECUTE format('CREATE TEMP VIEW cxsell_source_probe AS SELECT * FROM (%s) AS q', query);
		PERFORM set_config('search_path', 'pg_catalog, pg_temp', true);
		-- runs nothing, but checks the privileges the query needs
		PERFORM FROM pg_temp.cxsell_source_probe LIMIT 0;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
		RAISE EXCEPTION 'invalid source query for "%": %', analysis, msg
			USING ERRCODE = st,
			HINT = 'The source query must be a SELECT statement (no trailing semicolon) that the defining role can run.';
	END;
	SELECT jsonb_object_agg(a.attname, format_type(a.atttypid, a.atttypmod)) INTO cols
	FROM pg_attribute a
	WHERE a.attrelid = 'pg_temp.cxsell_source_probe'::regclass AND a.attnum > 0 AND NOT a.attisdropped;
	DROP VIEW pg_temp.cxsell_source_probe;
	RETURN cols;
END
$fn$;

CREATE FUNCTION cxsell._check_name(analysis text, is_new boolean) RETURNS void
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
		-- names are shared by rule sets and segmentations: refresh(name) finds either
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

CREATE FUNCTION cxsell._check_rule_set(r cxsell.rule_sets) RETURNS boolean
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	cols jsonb;
BEGIN
	PERFORM cxsell._check_rule_options(r.min_support, r.max_len, r.recommendations,
									   r.rank_by, r.min_confidence, r.min_lift, true);
	cols := cxsell._source_columns(r.name, r.source_query, r.search_path);
	IF NOT cols ?& ARRAY['basket', 'item'] THEN
		RAISE EXCEPTION 'source query of rule set "%" must return columns basket and item', r.name
			USING ERRCODE = '42703',
			DETAIL = format('It returns %s.', (SELECT string_agg(k, ', ') FROM jsonb_object_keys(cols) k)),
			HINT = 'Name the columns with AS basket, AS item (and AS customer for per-customer recommendations).';
	END IF;
	RETURN cols ? 'customer';
END
$fn$;

CREATE FUNCTION cxsell._check_segmentation(s cxsell.segmentations) RETURNS void
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
	cols := cxsell._source_columns(s.name, s.source_query, s.search_path);
	IF NOT cols ?& ARRAY['customer', 'features'] THEN
		RAISE EXCEPTION 'source query of segmentation "%" must return columns customer and features', s.name
			USING ERRCODE = '42703',
			DETAIL = format('It returns %s.', (SELECT string_agg(k, ', ') FROM jsonb_object_keys(cols) k)),
			HINT = 'Name the columns with AS customer, AS features (a float8[] of usage measures).';
	END IF;
	IF cols->>'features' NOT IN ('double precision[]', 'real[]', 'numeric[]', 'integer[]',
								 'bigint[]', 'smallint[]') THEN
		RAISE EXCEPTION 'features of segmentation "%" must be a numeric array, not %', s.name, cols->>'features'
			USING ERRCODE = '42804',
			HINT = 'Return the usage measures as float8[], for example ARRAY[visits, spend]::float8[].';
	END IF;
END
$fn$;

CREATE FUNCTION cxsell._create_rule_set(name text, source_query text, min_support float8,
	max_len int4, min_confidence float8, min_lift float8,
	recommendations int4, rank_by text, path text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	r cxsell.rule_sets;
BEGIN
	PERFORM cxsell._check_name(_create_rule_set.name, true);
	r := ROW(_create_rule_set.name, source_query, false, min_support, max_len, min_confidence,
			 min_lift, recommendations, rank_by, current_user, path, now(), now());
	r.has_customer := cxsell._check_rule_set(r);
	INSERT INTO cxsell.rule_sets SELECT r.*;
END
$fn$;
-- The public definition functions pass the caller's search_path, under
-- which the source query is checked now and run at every refresh.
CREATE FUNCTION cxsell.create_rule_set(name text, source_query text, min_support float8,
	max_len int4 DEFAULT 0, min_confidence float8 DEFAULT 0, min_lift float8 DEFAULT 0,
	recommendations int4 DEFAULT 5, rank_by text DEFAULT 'confidence')
	RETURNS void
	LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $fn$
	SELECT cxsell._create_rule_set(name, source_query, min_support, max_len, min_confidence,
								   min_lift, recommendations, rank_by,
								   pg_catalog.current_setting('search_path'))
$fn$;
COMMENT ON FUNCTION cxsell.create_rule_set(text, text, float8, int4, float8, float8, int4, text) IS
	'define a rule set: a source query returning basket, item and optionally customer, and its thresholds; the query runs as the defining role';

CREATE FUNCTION cxsell._alter_rule_set(name text, source_query text,
	min_support float8, max_len int4, min_confidence float8, min_lift float8,
	recommendations int4, rank_by text, path text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	r cxsell.rule_sets;
BEGIN
	SELECT * INTO r FROM cxsell.rule_sets s WHERE s.name = _alter_rule_set.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'rule set "%" does not exist', _alter_rule_set.name
			USING ERRCODE = '42704', HINT = 'Define it with cxsell.create_rule_set.';
	END IF;
	IF source_query IS NOT NULL THEN
		r.source_query := source_query;
		r.search_path := path;
	END IF;
	r.min_support := coalesce(min_support, r.min_support);
	r.max_len := coalesce(max_len, r.max_len);
	r.min_confidence := coalesce(min_confidence, r.min_confidence);
	r.min_lift := coalesce(min_lift, r.min_lift);
	r.recommendations := coalesce(recommendations, r.recommendations);
	r.rank_by := coalesce(rank_by, r.rank_by);
	r.has_customer := cxsell._check_rule_set(r);
	UPDATE cxsell.rule_sets s
	SET source_query = r.source_query, search_path = r.search_path,
		has_customer = r.has_customer, min_support = r.min_support, max_len = r.max_len,
		min_confidence = r.min_confidence, min_lift = r.min_lift,
		recommendations = r.recommendations, rank_by = r.rank_by, updated_at = now()
	WHERE s.name = _alter_rule_set.name;
END
$fn$;
CREATE FUNCTION cxsell.alter_rule_set(name text, source_query text DEFAULT NULL,
	min_support float8 DEFAULT NULL, max_len int4 DEFAULT NULL,
	min_confidence float8 DEFAULT NULL, min_lift float8 DEFAULT NULL,
	recommendations int4 DEFAULT NULL, rank_by text DEFAULT NULL)
	RETURNS void
	LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $fn$
	SELECT cxsell._alter_rule_set(name, source_query, min_support, max_len, min_confidence,
								  min_lift, recommendations, rank_by,
								  pg_catalog.current_setting('search_path'))
$fn$;
COMMENT ON FUNCTION cxsell.alter_rule_set(text, text, float8, int4, float8, float8, int4, text) IS
	'change a rule set (NULL keeps a setting); a new source query makes the caller its owner';

CREATE FUNCTION cxsell.drop_rule_set(name text) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	DELETE FROM cxsell.rule_sets s WHERE s.name = drop_rule_set.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'rule set "%" does not exist', drop_rule_set.name
			USING ERRCODE = '42704', HINT = 'List the rule sets with SELECT name FROM cxsell.rule_sets.';
	END IF;
END
$fn$;
COMMENT ON FUNCTION cxsell.drop_rule_set(text) IS
	'drop a rule set and its stored results (its refresh log stays)';

CREATE FUNCTION cxsell._create_segmentation(name text, source_query text, k int4,
	options jsonb, path text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	s cxsell.segmentations;
BEGIN
	PERFORM cxsell._check_name(_create_segmentation.name, true);
	s := ROW(_create_segmentation.name, source_query, k, coalesce(options, '{}'),
			 current_user, path, now(), now());
	PERFORM cxsell._check_segmentation(s);
	INSERT INTO cxsell.segmentations SELECT s.*;
END
$fn$;
CREATE FUNCTION cxsell.create_segmentation(name text, source_query text, k int4,
	options jsonb DEFAULT '{}')
	RETURNS void
	LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $fn$
	SELECT cxsell._create_segmentation(name, source_query, k, options,
									   pg_catalog.current_setting('search_path'))
$fn$;
COMMENT ON FUNCTION cxsell.create_segmentation(text, text, int4, jsonb) IS
	'define a segmentation: a source query returning customer and features float8[], k and k-means options; the query runs as the defining role';

CREATE FUNCTION cxsell._alter_segmentation(name text, source_query text,
	k int4, options jsonb, path text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	s cxsell.segmentations;
BEGIN
	SELECT * INTO s FROM cxsell.segmentations g WHERE g.name = _alter_segmentation.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'segmentation "%" does not exist', _alter_segmentation.name
			USING ERRCODE = '42704', HINT = 'Define it with cxsell.create_segmentation.';
	END IF;
	IF source_query IS NOT NULL THEN
		s.source_query := source_query;
		s.search_path := path;
	END IF;
	s.k := coalesce(k, s.k);
	s.options := coalesce(options, s.options);
	PERFORM cxsell._check_segmentation(s);
	UPDATE cxsell.segmentations g
	SET source_query = s.source_query, search_path = s.search_path, k = s.k,
		options = s.options, updated_at = now()
	WHERE g.name = _alter_segmentation.name;
END
$fn$;
CREATE FUNCTION cxsell.alter_segmentation(name text, source_query text DEFAULT NULL,
	k int4 DEFAULT NULL, options jsonb DEFAULT NULL)
	RETURNS void
	LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $fn$
	SELECT cxsell._alter_segmentation(name, source_query, k, options,
									  pg_catalog.current_setting('search_path'))
$fn$;
COMMENT ON FUNCTION cxsell.alter_segmentation(text, text, int4, jsonb) IS
	'change a segmentation (NULL keeps a setting); a new source query makes the caller its owner';

CREATE FUNCTION cxsell.drop_segmentation(name text) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	DELETE FROM cxsell.segmentations g WHERE g.name = drop_segmentation.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'segmentation "%" does not exist', drop_segmentation.name
			USING ERRCODE = '42704', HINT = 'List the segmentations with SELECT name FROM cxsell.segmentations.';
	END IF;
END
$fn$;
COMMENT ON FUNCTION cxsell.drop_segmentation(text) IS
	'drop a segmentation and its stored results (its refresh log stays)';

-- Run a stored source query as its owner, with the search_path it was
-- defined under, into the temporary table pg_temp.cxsell_refresh_source.
-- The caller must be the owner, a member of it, or a superuser: refreshing
-- never runs a query with the rights of whoever calls the refresh.
CREATE FUNCTION cxsell._run_source(kind text, analysis text, owner name, path text, columns text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	caller_role text := current_setting('role');
BEGIN
	IF NOT pg_has_role(current_user, owner, 'MEMBER') THEN
		RAISE EXCEPTION 'permission denied to refresh % "%"', kind, analysis
			USING ERRCODE = '42501',
			DETAIL = format('Its source query runs as role %I, and role %I is not a member of it.', owner, current_user),
			HINT = format('Refresh it as %I, or grant %I to the role that refreshes it.', owner, owner);
	END IF;
	IF to_regclass('pg_temp.cxsell_refresh_source') IS NOT NULL THEN
		DROP TABLE pg_temp.cxsell_refresh_source;
	END IF;
	PERFORM set_config('role', owner, true);
	PERFORM set_config('search_path', path, true);
	EXECUTE 'CREATE TEMP TABLE cxsell_refresh_source AS ' || columns;
	PERFORM set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM set_config('role', caller_role, true);
END
$fn$;

CREATE FUNCTION cxsell._refresh_rule_set(analysis text) RETURNS bigint
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	r cxsell.rule_sets;
	p cxsell.patterns;
	n bigint;
	total bigint := 0;
BEGIN
	-- one refresh of a set at a time: the second waits for the first
	SELECT * INTO r FROM cxsell.rule_sets s WHERE s.name = analysis FOR UPDATE;
	PERFORM cxsell._run_source('rule set', r.name, r.owner, r.search_path, format(
		'SELECT q.basket::pg_catalog.text AS basket, q.item::pg_catalog.text AS item, %s AS customer FROM (%s) AS q',
		CASE WHEN r.has_customer THEN 'q.customer::pg_catalog.text' ELSE 'NULL::pg_catalog.text' END,
		r.source_query));
	SELECT cxsell.mine(s.basket, s.item, r.min_support, r.max_len) INTO p
	FROM pg_temp.cxsell_refresh_source s;

	DELETE FROM cxsell.rule_set_patterns t WHERE t.name = r.name;
	DELETE FROM cxsell.rule_set_rules t WHERE t.name = r.name;
	DELETE FROM cxsell.rule_set_pairs t WHERE t.name = r.name;
	DELETE FROM cxsell.rule_set_recommendations t WHERE t.name = r.name;

	INSERT INTO cxsell.rule_set_patterns VALUES (r.name, p, now());
	INSERT INTO cxsell.rule_set_rules
	SELECT r.name, x.* FROM cxsell.rules(p, r.min_confidence, r.min_lift) x;
	GET DIAGNOSTICS n = ROW_COUNT;
	total := total + n;
	INSERT INTO cxsell.rule_set_pairs SELECT r.name, x.* FROM cxsell.item_pairs(p) x WHERE p IS NOT NULL;
	GET DIAGNOSTICS n = ROW_COUNT;
	total := total + n;
	IF r.has_customer THEN
		INSERT INTO cxsell.rule_set_recommendations
		SELECT r.name, c.customer, x.*
		FROM (SELECT s.customer, array_agg(DISTINCT s.item) AS held
			  FROM pg_temp.cxsell_refresh_source s
			  WHERE s.customer IS NOT NULL AND s.item IS NOT NULL
			  GROUP BY s.customer) c,
			 LATERAL cxsell.recommend(p, c.held, r.recommendations, r.rank_by,
									  r.min_confidence, r.min_lift) x;
		GET DIAGNOSTICS n = ROW_COUNT;
		total := total + n;
	END IF;
	DROP TABLE pg_temp.cxsell_refresh_source;
	RETURN total;
END
$fn$;

CREATE FUNCTION cxsell._refresh_segmentation(analysis text) RETURNS bigint
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	g cxsell.segmentations;
	m cxsell.kmodel;
	n bigint;
BEGIN
	SELECT * INTO g FROM cxsell.segmentations s WHERE s.name = analysis FOR UPDATE;
	PERFORM cxsell._run_source('segmentation', g.name, g.owner, g.search_path, format(
		'SELECT q.customer::pg_catalog.text AS customer, q.features::pg_catalog.float8[] AS features FROM (%s) AS q',
		g.source_query));
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

CREATE FUNCTION cxsell._refresh(kind text, analysis text) RETURNS bigint
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF kind = 'rule set' THEN
		RETURN cxsell._refresh_rule_set(analysis);
	END IF;
	RETURN cxsell._refresh_segmentation(analysis);
END
$fn$;

CREATE FUNCTION cxsell._analysis_kind(analysis text) RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF EXISTS (SELECT FROM cxsell.rule_sets r WHERE r.name = analysis) THEN
		RETURN 'rule set';
	ELSIF EXISTS (SELECT FROM cxsell.segmentations s WHERE s.name = analysis) THEN
		RETURN 'segmentation';
	END IF;
	RAISE EXCEPTION 'no rule set or segmentation named "%"', analysis
		USING ERRCODE = '42704',
		HINT = 'Define it with cxsell.create_rule_set or cxsell.create_segmentation.';
END
$fn$;

CREATE FUNCTION cxsell._log_start(kind text, analysis text) RETURNS bigint
	LANGUAGE sql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	INSERT INTO cxsell.refresh_log (kind, name, started_at, status, parameters, run_by)
	SELECT kind, analysis, clock_timestamp(), 'running',
		   coalesce((SELECT to_jsonb(r) - 'created_at' - 'updated_at' FROM cxsell.rule_sets r WHERE r.name = analysis),
					(SELECT to_jsonb(s) - 'created_at' - 'updated_at' FROM cxsell.segmentations s WHERE s.name = analysis)),
		   current_user
	RETURNING id
$fn$;

CREATE FUNCTION cxsell._log_finish(run bigint, outcome text, written bigint, message text)
	RETURNS void
	LANGUAGE sql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	UPDATE cxsell.refresh_log l
	SET finished_at = clock_timestamp(), duration = clock_timestamp() - l.started_at,
		status = outcome, rows_written = written, error = message
	WHERE l.id = run
$fn$;

-- Raise an error again as it was caught (empty detail and hint left out).
CREATE FUNCTION cxsell._reraise(st text, msg text, detail text, hint text) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF coalesce(detail, '') = '' AND coalesce(hint, '') = '' THEN
		RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg;
	ELSIF coalesce(hint, '') = '' THEN
		RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg, DETAIL = detail;
	ELSIF coalesce(detail, '') = '' THEN
		RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg, HINT = hint;
	END IF;
	RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg, DETAIL = detail, HINT = hint;
END
$fn$;

CREATE FUNCTION cxsell._can_commit() RETURNS boolean
	AS 'MODULE_PATHNAME', 'cxsell_can_commit'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- No SET clause and no SECURITY DEFINER here: either would forbid the
-- COMMITs; the body calls only schema-qualified functions and uses no
-- operator.
CREATE PROCEDURE cxsell.refresh(name text)
	LANGUAGE plpgsql
AS $fn$
DECLARE
	can_commit boolean := cxsell._can_commit();
	kind text;
	run bigint;
	written bigint;
	failed boolean := false;
	st text;
	msg text;
	detail text;
	hint text;
BEGIN
	kind := cxsell._analysis_kind(name);
	run := cxsell._log_start(kind, name);
	IF can_commit THEN
		COMMIT;		-- the run is logged even if the work fails
	END IF;
	BEGIN
		written := cxsell._refresh(kind, name);
		PERFORM cxsell._log_finish(run, 'success', written, NULL);
	EXCEPTION WHEN OTHERS THEN
		-- everything the refresh wrote is rolled back: the previous result stays
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
			detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
		failed := true;
	END;
	IF failed THEN
		PERFORM cxsell._log_finish(run, 'error', NULL, msg);
		IF can_commit THEN
			COMMIT;
		END IF;
		PERFORM cxsell._reraise(st, msg, detail, hint);
	END IF;
END
$fn$;
COMMENT ON PROCEDURE cxsell.refresh(text) IS
	'recompute a rule set or segmentation and replace its stored results in one transaction; logged in cxsell.refresh_log';

CREATE PROCEDURE cxsell.refresh_all()
	LANGUAGE plpgsql
AS $fn$
DECLARE
	analysis text;
BEGIN
	FOR analysis IN
		SELECT r.name FROM cxsell.rule_sets r
		UNION ALL
		SELECT s.name FROM cxsell.segmentations s
		ORDER BY 1
	LOOP
		CALL cxsell.refresh(analysis);
	END LOOP;
END
$fn$;
COMMENT ON PROCEDURE cxsell.refresh_all() IS
	'refresh every rule set and segmentation in name order, each in its own transaction when called outside a transaction block; stops at the first failure';

-- Views for dashboards ---------------------------------------------------------

CREATE VIEW cxsell.current_rules AS
SELECT t.name AS rule_set, t.antecedent, t.consequent, t.antecedent_support,
	   t.consequent_support, t.support, t.confidence, t.lift, t.leverage,
	   t.conviction, t.jaccard, t.kulczynski, t.certainty, t.zhang, t.count,
	   t.p_value, p.refreshed_at
FROM cxsell.rule_set_rules t JOIN cxsell.rule_set_patterns p ON p.name = t.name;
COMMENT ON VIEW cxsell.current_rules IS 'the rules of every rule set, as of its last successful refresh';

CREATE VIEW cxsell.current_itemsets AS
SELECT p.name AS rule_set, i.items, i.size, i.count, i.support, p.refreshed_at
FROM cxsell.rule_set_patterns p, cxsell.itemsets(p.patterns) i;
COMMENT ON VIEW cxsell.current_itemsets IS 'the frequent itemsets of every rule set, as of its last successful refresh';

CREATE VIEW cxsell.current_item_pairs AS
SELECT t.name AS rule_set, t.item_a, t.item_b, t.count_a, t.count_b, t.observed,
	   t.expected, t.support, t.lift, t.p_value, t.relation, p.refreshed_at
FROM cxsell.rule_set_pairs t JOIN cxsell.rule_set_patterns p ON p.name = t.name;
COMMENT ON VIEW cxsell.current_item_pairs IS 'the association matrix (every pair of frequent items) of every rule set';

CREATE VIEW cxsell.current_recommendations AS
SELECT t.name AS rule_set, t.customer, t.rank, t.item, t.score, t.confidence,
	   t.lift, t.support, t.antecedent, t.source, p.refreshed_at
FROM cxsell.rule_set_recommendations t JOIN cxsell.rule_set_patterns p ON p.name = t.name;
COMMENT ON VIEW cxsell.current_recommendations IS 'per-customer recommendations of every rule set with a customer column';

CREATE VIEW cxsell.current_segments AS
SELECT a.name AS segmentation, a.customer, a.segment, a.distance, m.refreshed_at
FROM cxsell.segment_assignments a JOIN cxsell.segmentation_models m ON m.name = a.name;
COMMENT ON VIEW cxsell.current_segments IS 'each customer''s segment and distance to its centre, per segmentation';

CREATE VIEW cxsell.current_segment_profiles AS
SELECT m.name AS segmentation, c.cluster AS segment, c.size, c.centroid, c.within_ss,
	   m.refreshed_at
FROM cxsell.segmentation_models m, cxsell.centroids(m.model) c;
COMMENT ON VIEW cxsell.current_segment_profiles IS 'per segmentation and segment: size, centre in original units and within-segment sum of squares';

CREATE VIEW cxsell.refresh_status AS
SELECT a.kind, a.name, s.finished_at AS last_success_at,
	   pg_catalog.now() - s.finished_at AS age,
	   l.started_at AS last_run_at, l.status AS last_status, l.duration AS last_duration,
	   l.rows_written AS last_rows_written,
	   e.finished_at AS last_error_at, e.error AS last_error
FROM (SELECT 'rule set'::text AS kind, r.name FROM cxsell.rule_sets r
	  UNION ALL
	  SELECT 'segmentation', g.name FROM cxsell.segmentations g) a
LEFT JOIN LATERAL (SELECT * FROM cxsell.refresh_log x
				   WHERE x.name = a.name AND x.status = 'success'
				   ORDER BY x.started_at DESC, x.id DESC LIMIT 1) s ON true
LEFT JOIN LATERAL (SELECT * FROM cxsell.refresh_log x
				   WHERE x.name = a.name
				   ORDER BY x.started_at DESC, x.id DESC LIMIT 1) l ON true
LEFT JOIN LATERAL (SELECT * FROM cxsell.refresh_log x
				   WHERE x.name = a.name AND x.status = 'error'
				   ORDER BY x.started_at DESC, x.id DESC LIMIT 1) e ON true;
COMMENT ON VIEW cxsell.refresh_status IS 'per analysis: last success and its age, the last run and its status, the last error';

REVOKE ALL ON cxsell.current_rules, cxsell.current_itemsets, cxsell.current_item_pairs,
	cxsell.current_recommendations, cxsell.current_segments,
	cxsell.current_segment_profiles, cxsell.refresh_status FROM PUBLIC;
