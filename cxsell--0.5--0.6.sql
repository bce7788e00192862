/* cxsell--0.5--0.6.sql: next-product rules from customers' histories (sequential patterns) */

\echo Use "ALTER EXTENSION cxsell UPDATE TO '0.6'" to load this file. \quit

-- The result type ---------------------------------------------------------------------

CREATE TYPE cxsell.sequences;

CREATE FUNCTION cxsell.sequences_in(cstring) RETURNS cxsell.sequences
	AS 'MODULE_PATHNAME', 'sequences_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.sequences_out(cxsell.sequences) RETURNS cstring
	AS 'MODULE_PATHNAME', 'sequences_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.sequences_recv(internal) RETURNS cxsell.sequences
	AS 'MODULE_PATHNAME', 'sequences_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cxsell.sequences_send(cxsell.sequences) RETURNS bytea
	AS 'MODULE_PATHNAME', 'sequences_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE cxsell.sequences (
	INPUT = cxsell.sequences_in,
	OUTPUT = cxsell.sequences_out,
	RECEIVE = cxsell.sequences_recv,
	SEND = cxsell.sequences_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);
COMMENT ON TYPE cxsell.sequences IS
	'result of cxsell.mine_sequences: customer count, window, frequent items with their follow-on counts, and the frequent sequences with counts and median gaps';
COMMENT ON FUNCTION cxsell.sequences_in(cstring) IS 'text input of cxsell.sequences (hex digits, validated)';
COMMENT ON FUNCTION cxsell.sequences_out(cxsell.sequences) IS 'text output of cxsell.sequences (hex digits)';
COMMENT ON FUNCTION cxsell.sequences_recv(internal) IS 'binary input of cxsell.sequences (validated)';
COMMENT ON FUNCTION cxsell.sequences_send(cxsell.sequences) IS 'binary output of cxsell.sequences';

-- The mining aggregate ----------------------------------------------------------------

CREATE FUNCTION cxsell.mine_sequences_trans(internal, anyelement, timestamptz, anycompatible,
	float8, int4, interval)
	RETURNS internal AS 'MODULE_PATHNAME', 'mine_sequences_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.mine_sequences_trans(internal, anyelement, timestamp, anycompatible,
	float8, int4, interval)
	RETURNS internal AS 'MODULE_PATHNAME', 'mine_sequences_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.mine_sequences_trans(internal, anyelement, date, anycompatible,
	float8, int4, interval)
	RETURNS internal AS 'MODULE_PATHNAME', 'mine_sequences_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.mine_sequences_trans(internal, anyelement, int8, anycompatible,
	float8, int4, int8)
	RETURNS internal AS 'MODULE_PATHNAME', 'mine_sequences_trans'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION cxsell.mine_sequences_final(internal) RETURNS cxsell.sequences
	AS 'MODULE_PATHNAME', 'mine_sequences_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION cxsell.mine_sequences_trans(internal, anyelement, timestamptz, anycompatible, float8, int4, interval) IS
	'transition function of cxsell.mine_sequences over timestamptz';
COMMENT ON FUNCTION cxsell.mine_sequences_trans(internal, anyelement, timestamp, anycompatible, float8, int4, interval) IS
	'transition function of cxsell.mine_sequences over timestamp';
COMMENT ON FUNCTION cxsell.mine_sequences_trans(internal, anyelement, date, anycompatible, float8, int4, interval) IS
	'transition function of cxsell.mine_sequences over date';
COMMENT ON FUNCTION cxsell.mine_sequences_trans(internal, anyelement, int8, anycompatible, float8, int4, int8) IS
	'transition function of cxsell.mine_sequences over integer times';
COMMENT ON FUNCTION cxsell.mine_sequences_final(internal) IS
	'final function of cxsell.mine_sequences: mines the collected histories';

CREATE AGGREGATE cxsell.mine_sequences(customer anyelement, at timestamptz, item anycompatible,
	min_support float8, max_len int4, within interval) (
	SFUNC = cxsell.mine_sequences_trans, STYPE = internal,
	FINALFUNC = cxsell.mine_sequences_final,
	COMBINEFUNC = cxsell.mine_combine,
	SERIALFUNC = cxsell.mine_serialize, DESERIALFUNC = cxsell.mine_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE cxsell.mine_sequences(customer anyelement, at timestamp, item anycompatible,
	min_support float8, max_len int4, within interval) (
	SFUNC = cxsell.mine_sequences_trans, STYPE = internal,
	FINALFUNC = cxsell.mine_sequences_final,
	COMBINEFUNC = cxsell.mine_combine,
	SERIALFUNC = cxsell.mine_serialize, DESERIALFUNC = cxsell.mine_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE cxsell.mine_sequences(customer anyelement, at date, item anycompatible,
	min_support float8, max_len int4, within interval) (
	SFUNC = cxsell.mine_sequences_trans, STYPE = internal,
	FINALFUNC = cxsell.mine_sequences_final,
	COMBINEFUNC = cxsell.mine_combine,
	SERIALFUNC = cxsell.mine_serialize, DESERIALFUNC = cxsell.mine_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE cxsell.mine_sequences(customer anyelement, at int8, item anycompatible,
	min_support float8, max_len int4, within int8) (
	SFUNC = cxsell.mine_sequences_trans, STYPE = internal,
	FINALFUNC = cxsell.mine_sequences_final,
	COMBINEFUNC = cxsell.mine_combine,
	SERIALFUNC = cxsell.mine_serialize, DESERIALFUNC = cxsell.mine_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE cxsell.mine_sequences(anyelement, timestamptz, anycompatible, float8, int4, interval) IS
	'mine the sequences of items customers take one after another, the last within a window of the first: rows (customer, time, item); min_support a fraction of customers; max_len 0 for no limit';
COMMENT ON AGGREGATE cxsell.mine_sequences(anyelement, timestamp, anycompatible, float8, int4, interval) IS
	'mine sequences over timestamp times (see the timestamptz form)';
COMMENT ON AGGREGATE cxsell.mine_sequences(anyelement, date, anycompatible, float8, int4, interval) IS
	'mine sequences over dates: the window counts whole days (see the timestamptz form)';
COMMENT ON AGGREGATE cxsell.mine_sequences(anyelement, int8, anycompatible, float8, int4, int8) IS
	'mine sequences over integer times (periods, sequence numbers): the window is in the same units';

-- Readers ---------------------------------------------------------------------------

CREATE FUNCTION cxsell.summary(sequences cxsell.sequences,
	OUT customers bigint, OUT min_support float8, OUT min_count bigint,
	OUT max_len int4, OUT time_kind text, OUT within float8, OUT items int4,
	OUT sequences bigint, OUT max_sequence_length int4)
	RETURNS record AS 'MODULE_PATHNAME', 'sequences_summary'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cxsell.summary(cxsell.sequences) IS
	'customer count, thresholds, window (days for dates and timestamps) and sizes of a sequence mining result';

CREATE FUNCTION cxsell.sequences(sequences cxsell.sequences,
	OUT items text[], OUT length int4, OUT customers bigint, OUT support float8,
	OUT median_gap float8)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'sequences_list'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION cxsell.sequences(cxsell.sequences) IS
	'every frequent sequence with its customers, support and the median time from its next-to-last item to its last (days for dates and timestamps)';

CREATE FUNCTION cxsell.sequence_rules(sequences cxsell.sequences,
	min_confidence float8 DEFAULT 0,
	min_lift float8 DEFAULT 0,
	max_antecedent int4 DEFAULT 0,
	OUT antecedent text[], OUT consequent text, OUT customers bigint,
	OUT antecedent_customers bigint, OUT support float8, OUT confidence float8,
	OUT base_rate float8, OUT lift float8, OUT median_gap float8)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'sequences_rules'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION cxsell.sequence_rules(cxsell.sequences, float8, float8, int4) IS
	'next-product rules A => later B: confidence is the share of customers with A who took B after it within the window, lift its ratio to B''s base rate as a follow-on item over the same window, median_gap the median time from A to B';

CREATE FUNCTION cxsell.recommend_next(sequences cxsell.sequences, items text[], times anyarray,
	n int4,
	as_of anyelement DEFAULT NULL,
	rank_by text DEFAULT 'confidence',
	min_confidence float8 DEFAULT 0,
	min_lift float8 DEFAULT 1,
	fallback boolean DEFAULT true,
	OUT rank int4, OUT item text, OUT score float8, OUT confidence float8,
	OUT lift float8, OUT support float8, OUT antecedent text[], OUT median_gap float8,
	OUT source text)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'sequences_recommend'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 5;
COMMENT ON FUNCTION cxsell.recommend_next(cxsell.sequences, text[], anyarray, int4, anyelement, text, float8, float8, boolean) IS
	'the n items a customer is most likely to take up next, from the history (items with their times) as of as_of (the last time by default): per item the best rule whose antecedent occurred within the last window, topped up by the commonest follow-on items when fallback is on';

-- Backtest ------------------------------------------------------------------------------

-- Runs the caller's own query (with the caller's privileges and search_path);
-- everything else in it is schema-qualified, operators included.
CREATE FUNCTION cxsell.backtest_next(history_query text, min_support float8, within anyelement,
	n int4 DEFAULT 5,
	holdout float8 DEFAULT 0.2,
	seed int8 DEFAULT 0,
	rank_by text DEFAULT 'confidence',
	min_confidence float8 DEFAULT 0,
	min_lift float8 DEFAULT 1,
	fallback boolean DEFAULT true,
	max_len int4 DEFAULT 0,
	OUT method text, OUT train_customers bigint, OUT test_customers bigint,
	OUT hits bigint, OUT hit_rate float8, OUT hit_rate_lower float8,
	OUT hit_rate_upper float8, OUT coverage float8, OUT items_recommended bigint)
	RETURNS SETOF record
	LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
AS $fn$
DECLARE
	-- (declared types are looked up in the caller's search_path: qualified)
	history pg_catalog.text;
	msg pg_catalog.text;
BEGIN
	IF pg_catalog.pg_typeof(within) OPERATOR(pg_catalog.<>) ALL
	   (ARRAY['interval', 'bigint', 'integer', 'smallint']::pg_catalog.regtype[]) THEN
		RAISE EXCEPTION 'within must be an interval or an integer, not %', pg_catalog.pg_typeof(within)
			USING ERRCODE = '42804',
			HINT = 'Pass interval ''90 days'' for dates and timestamps, or an integer for integer times.';
	END IF;
	IF holdout IS NULL OR NOT (holdout OPERATOR(pg_catalog.>) 0
							   AND holdout OPERATOR(pg_catalog.<) 1) THEN
		RAISE EXCEPTION 'holdout % is out of range', holdout
			USING ERRCODE = '22023',
			HINT = 'Use the fraction of customers to test on, greater than 0 and less than 1, such as 0.2.';
	END IF;
	IF seed IS NULL THEN
		RAISE EXCEPTION 'seed must not be null'
			USING ERRCODE = '22004',
			HINT = 'Omit the argument to use its default.';
	END IF;
	PERFORM cxsell._check_rule_options(min_support, max_len, n, rank_by,
									   min_confidence, min_lift, fallback);
	history := cxsell._query_text('history_query', history_query,
								  '{customer,at,item}', '{NULL,NULL,NULL}');

	-- A test customer's last acquisition: the items they took first at their
	-- latest first-taking time; the history is what they took before it.
	BEGIN
	RETURN QUERY EXECUTE pg_catalog.format($q$
		WITH lines AS MATERIALIZED (
			SELECT DISTINCT q.c::pg_catalog.text AS customer, q.t AS at, q.i::pg_catalog.text AS item
			FROM (%s) AS q(c, t, i)
			WHERE q.c IS NOT NULL AND q.t IS NOT NULL AND q.i IS NOT NULL),
		split AS MATERIALIZED (
			SELECT l.customer, l.at, l.item,
			       ((pg_catalog.hashtextextended(l.customer, $1)
			         OPERATOR(pg_catalog.&) 9223372036854775807)::pg_catalog.float8
			        OPERATOR(pg_catalog./) 9223372036854775808.0::pg_catalog.float8)
			         OPERATOR(pg_catalog.<) $2 AS test
			FROM lines l),
		model AS (
			SELECT cxsell.mine_sequences(s.customer, s.at, s.item, $3, $4, $5) AS p,
			       pg_catalog.count(DISTINCT s.customer) AS train_customers
			FROM split s WHERE NOT s.test),
		firsts AS (
			SELECT s.customer, s.item, pg_catalog.min(s.at) AS first_at
			FROM split s WHERE s.test GROUP BY s.customer, s.item),
		latest AS (
			SELECT f.customer, pg_catalog.max(f.first_at) AS hidden_at
			FROM firsts f GROUP BY f.customer),
		hidden AS (
			SELECT f.customer, l.hidden_at, pg_catalog.array_agg(f.item) AS items
			FROM firsts f JOIN latest l ON l.customer OPERATOR(pg_catalog.=) f.customer
			                          AND l.hidden_at OPERATOR(pg_catalog.=) f.first_at
			GROUP BY f.customer, l.hidden_at),
		cases AS (
			SELECT h.customer, h.items AS hidden,
			       pg_catalog.array_agg(s.item ORDER BY s.at, s.item) AS items,
			       pg_catalog.array_agg(s.at ORDER BY s.at, s.item) AS times
			FROM hidden h JOIN split s ON s.customer OPERATOR(pg_catalog.=) h.customer
			WHERE s.test AND s.at OPERATOR(pg_catalog.<) h.hidden_at
			GROUP BY h.customer, h.items),
		methods AS (
			SELECT * FROM (VALUES (1, 'rules', 'rule', $7), (2, 'popularity', 'popularity', 'popularity'))
			         AS m(ord, method, source, rank_by)),
		recs AS MATERIALIZED (
			SELECT m.ord, m.method, c.customer, c.hidden, m.source AS own_source,
			       x.item, x.source
			FROM cases c CROSS JOIN model CROSS JOIN methods m
			     LEFT JOIN LATERAL cxsell.recommend_next(model.p, c.items, c.times, $6,
			         NULL, m.rank_by, $8, $9, $10) x ON true),
		outcomes AS (
			SELECT r.ord, r.method, r.customer,
			       pg_catalog.bool_or(r.item OPERATOR(pg_catalog.=) ANY (r.hidden)) IS TRUE AS hit,
			       pg_catalog.bool_or(r.source OPERATOR(pg_catalog.=) r.own_source) IS TRUE AS covered
			FROM recs r
			GROUP BY r.ord, r.method, r.customer),
		items AS (
			SELECT r.ord, pg_catalog.count(DISTINCT r.item) AS items
			FROM recs r GROUP BY r.ord),
		totals AS (
			SELECT o.ord, o.method, pg_catalog.count(*) AS tested,
			       pg_catalog.count(*) FILTER (WHERE o.hit) AS hits,
			       pg_catalog.avg(o.covered::pg_catalog.int4)::pg_catalog.float8 AS coverage
			FROM outcomes o GROUP BY o.ord, o.method)
		SELECT t.method, model.train_customers, t.tested, t.hits, w.rate, w.lower, w.upper,
		       t.coverage, coalesce(i.items, 0)
		FROM totals t CROSS JOIN model
		     LEFT JOIN items i ON i.ord OPERATOR(pg_catalog.=) t.ord,
		     LATERAL cxsell.wilson_interval(t.hits, t.tested, 0.95) w
		ORDER BY t.ord
	$q$, history) USING seed, holdout, min_support, max_len, within, n, rank_by,
						min_confidence, min_lift, fallback;
	EXCEPTION WHEN undefined_function THEN
		-- a window that does not fit the query's times has no mine_sequences
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		IF msg OPERATOR(pg_catalog.~~) 'function cxsell.mine_sequences(%' THEN
			RAISE EXCEPTION 'within of type % does not fit the times history_query returns',
				pg_catalog.pg_typeof(within)
				USING ERRCODE = '42804',
				HINT = 'Pass an interval for dates and timestamps, an integer for integer times; the times must be of one of those types.';
		END IF;
		RAISE;
	END;
END
$fn$;
COMMENT ON FUNCTION cxsell.backtest_next(text, float8, anyelement, int4, float8, int8, text, float8, float8, boolean, int4) IS
	'hide each held-out customer''s last acquisition (the items they took first, latest), recommend from their history before it with sequences mined on the other customers, and report hit rate, coverage and the popularity baseline';

-- Managed rule sets mine next-product sequences too ----------------------------------
--
-- A rule set whose source query also returns customer and at (the time a
-- customer took the item) mines, once set_rule_set_sequences gives it a
-- window, the sequences of its customers' items at each refresh: their rules
-- and each customer's next-product recommendations are stored beside the
-- basket rules.  Rule sets without a window are refreshed as before.

ALTER TABLE cxsell.rule_sets ADD COLUMN sequence_within text;
COMMENT ON COLUMN cxsell.rule_sets.sequence_within IS
	'the window of the rule set''s next-product sequences (an interval for dates and timestamps, an integer for integer times); NULL: no sequences are mined';

ALTER TABLE cxsell.rule_set_patterns ADD COLUMN sequences cxsell.sequences;
COMMENT ON COLUMN cxsell.rule_set_patterns.sequences IS
	'the mined sequences of the last successful refresh (NULL without a sequence window)';

CREATE TABLE cxsell.rule_set_next_recommendations (
	name text NOT NULL REFERENCES cxsell.rule_sets ON DELETE CASCADE,
	customer text NOT NULL, rank int4 NOT NULL, item text NOT NULL,
	score float8, confidence float8, lift float8, support float8,
	antecedent text[], median_gap float8, source text,
	PRIMARY KEY (name, customer, rank));
REVOKE ALL ON cxsell.rule_set_next_recommendations FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('cxsell.rule_set_next_recommendations', '');
COMMENT ON TABLE cxsell.rule_set_next_recommendations IS
	'each customer''s next-product recommendations in each rule set with a sequence window, from its last successful refresh';
COMMENT ON COLUMN cxsell.rule_set_next_recommendations.name IS 'the rule set (cxsell.rule_sets.name)';
COMMENT ON COLUMN cxsell.rule_set_next_recommendations.customer IS 'the customer';
COMMENT ON COLUMN cxsell.rule_set_next_recommendations.rank IS '1 for the best recommendation';
COMMENT ON COLUMN cxsell.rule_set_next_recommendations.item IS 'the item to offer next';
COMMENT ON COLUMN cxsell.rule_set_next_recommendations.score IS 'the measure ranked by (the rule set''s rank_by)';
COMMENT ON COLUMN cxsell.rule_set_next_recommendations.confidence IS 'the confidence of the rule that fired (the item''s base rate, for popularity rows)';
COMMENT ON COLUMN cxsell.rule_set_next_recommendations.lift IS 'the lift of the rule that fired (1 for popularity rows)';
COMMENT ON COLUMN cxsell.rule_set_next_recommendations.support IS 'the support of the rule that fired, a share of customers (the base rate, for popularity rows)';
COMMENT ON COLUMN cxsell.rule_set_next_recommendations.antecedent IS 'the items, in order, the customer took that fired the rule (empty for popularity rows)';
COMMENT ON COLUMN cxsell.rule_set_next_recommendations.median_gap IS 'the rule''s median time from its antecedent to the item (days for dates and timestamps; NULL for popularity rows)';
COMMENT ON COLUMN cxsell.rule_set_next_recommendations.source IS 'rule, or popularity when no rule fired for the item';

-- The type a rule set's at column is read as, from the source query's columns,
-- checked against the window: bigint for integer times, else the time type.
-- The window gets mine_sequences' own check (a date's window is at least a
-- day), on no row.
CREATE FUNCTION cxsell_internal.sequence_time_type(analysis text, cols jsonb, within text)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	t text := cols->>'at';
BEGIN
	IF t IN ('smallint', 'integer', 'bigint') THEN
		IF within !~ '^[0-9]+$' THEN
			RAISE EXCEPTION 'the sequence window of rule set "%" must be an integer: its times are integers', analysis
				USING ERRCODE = '42804',
				HINT = 'Pass the window in the times'' units, such as ''3''.';
		END IF;
		PERFORM cxsell.mine_sequences(1, NULL::bigint, 1, 1, 0, within::bigint);
		RETURN 'bigint';
	ELSIF t IN ('date', 'timestamp without time zone', 'timestamp with time zone') THEN
		IF within ~ '^[0-9]+$' THEN
			RAISE EXCEPTION 'the sequence window of rule set "%" must be an interval: its times are of type %', analysis, t
				USING ERRCODE = '42804',
				HINT = 'Pass an interval such as ''90 days''.';
		END IF;
		IF t = 'date' THEN
			PERFORM cxsell.mine_sequences(1, NULL::date, 1, 1, 0, within::interval);
		END IF;
		RETURN t;
	END IF;
	RAISE EXCEPTION 'column at of rule set "%" must be a date, a timestamp or an integer, not %', analysis, t
		USING ERRCODE = '42804',
		HINT = 'Return the time the customer took the item, such as opened_on AS at.';
END
$fn$;
COMMENT ON FUNCTION cxsell_internal.sequence_time_type(text, jsonb, text) IS
	'the type a rule set''s at column is read as (bigint for integer times), checked against its sequence window';

-- Check a rule set's thresholds and source query (as its owner); whether
-- the query has a customer column.  With a sequence window, the query must
-- also return customer and at, of a type the window fits.
CREATE OR REPLACE FUNCTION cxsell_internal.check_rule_set(r cxsell.rule_sets, check_query boolean)
	RETURNS boolean
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	cols jsonb;
BEGIN
	PERFORM cxsell._check_rule_options(r.min_support, r.max_len, r.recommendations,
									   r.rank_by, r.min_confidence, r.min_lift, true);
	IF NOT check_query THEN
		RETURN r.has_customer;
	END IF;
	cols := cxsell_internal.source_query_columns(r.name, 'rule set', r.owner,
		cxsell_internal.query_settings(r.search_path, r.settings), r.source_query,
		CASE WHEN r.sequence_within IS NULL THEN '{basket,item}'::text[]
			 ELSE '{basket,item,customer,at}'::text[] END,
		'Name the columns with AS basket, AS item (and AS customer for per-customer recommendations, AS ancestors for the items'' categories, AS weight for weighted support, AS at for the time a customer took the item, to mine next-product sequences).');
	IF r.sequence_within IS NOT NULL THEN
		PERFORM cxsell_internal.sequence_time_type(r.name, cols, r.sequence_within);
	END IF;
	RETURN cols ? 'customer';
END
$fn$;

CREATE FUNCTION cxsell_internal.set_rule_set_sequences(caller name, caller_path text, name text,
	within text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	-- the window is stored in PostgreSQL's own interval format, read back
	-- alike under any IntervalStyle
	SET search_path = pg_catalog, pg_temp
	SET IntervalStyle = postgres
AS $fn$
DECLARE
	r cxsell.rule_sets;
	w text := btrim(within);
	iv interval;
BEGIN
	SELECT * INTO r FROM cxsell.rule_sets s WHERE s.name = set_rule_set_sequences.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'rule set "%" does not exist', set_rule_set_sequences.name
			USING ERRCODE = '42704', HINT = 'Define it with cxsell.create_rule_set.';
	END IF;
	PERFORM cxsell_internal.authorize(caller, r.owner, 'alter', 'rule set', r.name);
	IF w IS NOT NULL AND w !~ '^[0-9]+$' THEN
		BEGIN
			iv := w::interval;
		EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
			iv := NULL;
		END;
		IF iv IS NULL OR iv <= interval '0' THEN
			RAISE EXCEPTION 'invalid sequence window "%"', w
				USING ERRCODE = '22023',
				HINT = 'Pass a positive interval such as ''90 days'' for dates and timestamps, a positive integer for integer times, or NULL for no sequences.';
		END IF;
		w := iv::text;
	ELSIF w IS NOT NULL AND w::numeric NOT BETWEEN 1 AND 9223372036854775807 THEN
		RAISE EXCEPTION 'invalid sequence window "%"', w
			USING ERRCODE = '22023',
			HINT = 'Pass a positive integer for integer times.';
	END IF;
	r.sequence_within := w;
	-- the query must return customer and at (checked as its owner, as when
	-- it is defined); it is not run
	PERFORM cxsell_internal.check_rule_set(r, w IS NOT NULL);
	UPDATE cxsell.rule_sets s
	SET sequence_within = w, updated_at = now()
	WHERE s.name = r.name;
END
$fn$;
COMMENT ON FUNCTION cxsell_internal.set_rule_set_sequences(name, text, text, text) IS
	'body of cxsell.set_rule_set_sequences, called by that gate as the extension''s owner with the calling role';
CREATE FUNCTION cxsell.set_rule_set_sequences(name text, within text)
	RETURNS void AS 'MODULE_PATHNAME', 'cxsell_managed_call'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION cxsell.set_rule_set_sequences(text, text) IS
	'mine a rule set''s next-product sequences from its next refresh, within this window (''90 days'' for dates and timestamps, an integer for integer times; NULL: none): its source query must also return customer and at';

-- A new owner's readers see none of the old owner's results (next-product
-- recommendations included).
CREATE OR REPLACE FUNCTION cxsell_internal.change_owner(kind text, analysis text, old_owner name,
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
		DELETE FROM cxsell.rule_set_next_recommendations t WHERE t.name = analysis;
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

-- Replace a rule set's results from its source query; the rows written.  The
-- query's ancestors and weight columns, when it has them, go to the mining;
-- the patterns it replaces are kept as the previous ones.  With a sequence
-- window, the customers' items in time order are mined for sequences too,
-- and each customer gets next-product recommendations.
CREATE OR REPLACE FUNCTION cxsell_internal.refresh_rule_set(r cxsell.rule_sets) RETURNS bigint
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	p cxsell.patterns;
	seqs cxsell.sequences;
	n bigint;
	total bigint := 0;
	cols jsonb;
	previous cxsell.patterns;
	previous_at timestamptz;
	has_ancestors boolean := false;
	has_weight boolean := false;
	at_type text := 'text';
BEGIN
	IF to_regclass('pg_temp.cxsell_refresh_source') IS NOT NULL THEN
		DROP TABLE pg_temp.cxsell_refresh_source;
	END IF;
	IF r.distributed IS NULL THEN
		SELECT pg_catalog.jsonb_object_agg(c.name, c.type::text) INTO cols
		FROM cxsell_internal.source_columns(r.owner,
			cxsell_internal.query_settings(r.search_path, r.settings), r.source_query) c;
		has_ancestors := cols ? 'ancestors' AND r.query_before_0_5 IS NOT TRUE;
		has_weight := cols ? 'weight' AND r.query_before_0_5 IS NOT TRUE;
		IF r.sequence_within IS NOT NULL THEN
			-- one of four fixed type names, never text from the query
			at_type := cxsell_internal.sequence_time_type(r.name, cols, r.sequence_within);
		END IF;
		EXECUTE format($q$
			CREATE TEMP TABLE cxsell_refresh_source ON COMMIT DROP AS
			SELECT * FROM cxsell_internal.source_rows($1, $2, $3, $4, $5)
				AS s(basket text, item text, customer text, ancestors text[], weight float8, at %s)
			$q$, at_type)
		USING r.owner, cxsell_internal.query_settings(r.search_path, r.settings), r.source_query,
			ARRAY['basket', 'item', CASE WHEN r.has_customer OR r.sequence_within IS NOT NULL THEN 'customer' END,
				  CASE WHEN has_ancestors THEN 'ancestors' END,
				  CASE WHEN has_weight THEN 'weight' END,
				  CASE WHEN r.sequence_within IS NOT NULL THEN 'at' END],
			ARRAY['text', 'text', 'text', 'text[]', 'float8', at_type]::regtype[];
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
		IF r.sequence_within IS NOT NULL THEN
			EXECUTE format($q$
				SELECT cxsell.mine_sequences(s.customer, s.at, s.item, $1, $2, $3::%s)
				FROM pg_temp.cxsell_refresh_source s
				$q$, CASE WHEN at_type = 'bigint' THEN 'bigint' ELSE 'interval' END)
			INTO seqs USING r.min_support, r.max_len, r.sequence_within;
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
	DELETE FROM cxsell.rule_set_next_recommendations t WHERE t.name = r.name;

	INSERT INTO cxsell.rule_set_patterns (name, patterns, refreshed_at, previous_patterns,
		previous_refreshed_at, sequences)
	VALUES (r.name, p, now(), previous, previous_at, seqs);
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
	IF seqs IS NOT NULL THEN
		-- each customer's history up to their latest time
		EXECUTE $q$
			INSERT INTO cxsell.rule_set_next_recommendations (name, customer, rank, item, score,
				confidence, lift, support, antecedent, median_gap, source)
			SELECT $1, c.customer, x.rank, x.item, x.score, x.confidence, x.lift, x.support,
				x.antecedent, x.median_gap, x.source
			FROM (SELECT s.customer, array_agg(s.item ORDER BY s.at, s.item) AS items,
						 array_agg(s.at ORDER BY s.at, s.item) AS times
				  FROM pg_temp.cxsell_refresh_source s
				  WHERE s.customer IS NOT NULL AND s.item IS NOT NULL AND s.at IS NOT NULL
				  GROUP BY s.customer) c,
				 LATERAL cxsell.recommend_next($2, c.items, c.times, $3, NULL, $4, $5, $6) x
			$q$
		USING r.name, seqs, r.recommendations, r.rank_by, r.min_confidence, greatest(r.min_lift, 1);
		GET DIAGNOSTICS n = ROW_COUNT;
		total := total + n;
	END IF;
	DROP TABLE pg_temp.cxsell_refresh_source;
	RETURN total;
END
$fn$;

-- Views ------------------------------------------------------------------------------

CREATE VIEW cxsell.current_sequence_rules WITH (security_barrier) AS
SELECT p.name AS rule_set, x.antecedent, x.consequent, x.customers, x.antecedent_customers,
	   x.support, x.confidence, x.base_rate, x.lift, x.median_gap, p.refreshed_at
FROM cxsell.rule_set_patterns p JOIN cxsell.rule_sets r ON r.name = p.name,
	 cxsell.sequence_rules(p.sequences, r.min_confidence, r.min_lift) x
WHERE p.sequences IS NOT NULL
  AND p.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v))
  AND r.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v));
REVOKE ALL ON cxsell.current_sequence_rules FROM PUBLIC;
COMMENT ON VIEW cxsell.current_sequence_rules IS
	'the next-product rules of each rule set with a sequence window the current role may read, at the rule set''s min_confidence and min_lift, from its last successful refresh (see cxsell.sequence_rules)';
COMMENT ON COLUMN cxsell.current_sequence_rules.rule_set IS 'the rule set';
COMMENT ON COLUMN cxsell.current_sequence_rules.antecedent IS 'the items customers took first, in order';
COMMENT ON COLUMN cxsell.current_sequence_rules.consequent IS 'the item they took later, within the window of the first';
COMMENT ON COLUMN cxsell.current_sequence_rules.customers IS 'customers who took the antecedent and then the consequent within the window';
COMMENT ON COLUMN cxsell.current_sequence_rules.antecedent_customers IS 'customers who took the antecedent (within the window)';
COMMENT ON COLUMN cxsell.current_sequence_rules.support IS 'customers / all customers';
COMMENT ON COLUMN cxsell.current_sequence_rules.confidence IS 'customers / antecedent_customers: the chance of taking the consequent after the antecedent';
COMMENT ON COLUMN cxsell.current_sequence_rules.base_rate IS 'the share of customers who took the consequent after any earlier item, within the window';
COMMENT ON COLUMN cxsell.current_sequence_rules.lift IS 'confidence / base_rate';
COMMENT ON COLUMN cxsell.current_sequence_rules.median_gap IS 'the median time from the antecedent''s last item to the consequent (days for dates and timestamps)';
COMMENT ON COLUMN cxsell.current_sequence_rules.refreshed_at IS 'when the rule set''s results were computed';

CREATE VIEW cxsell.current_next_recommendations WITH (security_barrier) AS
SELECT t.name AS rule_set, t.customer, t.rank, t.item, t.score, t.confidence,
	   t.lift, t.support, t.antecedent, t.median_gap, t.source, p.refreshed_at
FROM cxsell.rule_set_next_recommendations t JOIN cxsell.rule_set_patterns p ON p.name = t.name
WHERE t.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v))
  AND p.name = ANY (ARRAY(SELECT v.name FROM cxsell_internal.visible_rule_sets v));
REVOKE ALL ON cxsell.current_next_recommendations FROM PUBLIC;
COMMENT ON VIEW cxsell.current_next_recommendations IS
	'what each customer of each rule set with a sequence window the current role may read is most likely to take up next, with the rule that fired, as of the customer''s latest time, from the last successful refresh';
COMMENT ON COLUMN cxsell.current_next_recommendations.rule_set IS 'the rule set';
COMMENT ON COLUMN cxsell.current_next_recommendations.customer IS 'the customer';
COMMENT ON COLUMN cxsell.current_next_recommendations.rank IS '1 for the best recommendation';
COMMENT ON COLUMN cxsell.current_next_recommendations.item IS 'the item to offer next';
COMMENT ON COLUMN cxsell.current_next_recommendations.score IS 'the measure ranked by (the rule set''s rank_by)';
COMMENT ON COLUMN cxsell.current_next_recommendations.confidence IS 'the confidence of the rule that fired (the item''s base rate, for popularity rows)';
COMMENT ON COLUMN cxsell.current_next_recommendations.lift IS 'the lift of the rule that fired (1 for popularity rows)';
COMMENT ON COLUMN cxsell.current_next_recommendations.support IS 'the support of the rule that fired, a share of customers (the base rate, for popularity rows)';
COMMENT ON COLUMN cxsell.current_next_recommendations.antecedent IS 'the items, in order, the customer took that fired the rule (empty for popularity rows)';
COMMENT ON COLUMN cxsell.current_next_recommendations.median_gap IS 'the rule''s median time from its antecedent to the item (days for dates and timestamps; NULL for popularity rows)';
COMMENT ON COLUMN cxsell.current_next_recommendations.source IS 'rule, or popularity when no rule fired for the item';
COMMENT ON COLUMN cxsell.current_next_recommendations.refreshed_at IS 'when the rule set''s results were computed';

-- The definitions a role may read show the window among the parameters.
CREATE OR REPLACE VIEW cxsell.analyses WITH (security_barrier) AS
SELECT a.*
FROM (SELECT 'rule set'::text AS kind, r.name, r.owner, r.source_query, r.search_path,
			 pg_catalog.jsonb_build_object('min_support', r.min_support, 'max_len', r.max_len,
				 'min_confidence', r.min_confidence, 'min_lift', r.min_lift,
				 'recommendations', r.recommendations, 'rank_by', r.rank_by,
				 'has_customer', r.has_customer, 'redundant', r.redundant, 'basis', r.basis,
				 'ancestor_interest', r.ancestor_interest, 'sequence_within', r.sequence_within)
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

-- nothing of the managed layer is granted to PUBLIC
REVOKE EXECUTE ON FUNCTION cxsell.set_rule_set_sequences(text, text) FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA cxsell_internal FROM PUBLIC;

-- The functions that run the caller's own queries run with the caller's
-- search_path.  Everything they name was schema-qualified but the types of
-- their variables: a type or domain of that name planted earlier in the
-- search_path of a superuser calling them (a domain public.text whose CHECK
-- runs the planter's code) would have run as that superuser.  The same
-- functions again, their variables' types qualified.

CREATE OR REPLACE FUNCTION cxsell.backtest(baskets_query text, min_support double precision, n integer DEFAULT 5, holdout double precision DEFAULT 0.2, seed bigint DEFAULT 0, rank_by text DEFAULT 'confidence'::text, min_confidence double precision DEFAULT 0, min_lift double precision DEFAULT 1, fallback boolean DEFAULT true, max_len integer DEFAULT 0, OUT method text, OUT train_baskets bigint, OUT test_baskets bigint, OUT hits bigint, OUT hit_rate double precision, OUT hit_rate_lower double precision, OUT hit_rate_upper double precision, OUT coverage double precision, OUT items_recommended bigint)
 RETURNS SETOF record
 LANGUAGE plpgsql
 PARALLEL RESTRICTED
 SET client_min_messages TO 'warning'
AS $function$
DECLARE
	baskets pg_catalog.text;
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
$function$;

CREATE OR REPLACE FUNCTION cxsell.segment_profiles(segments_query text, holdings_query text, alpha double precision DEFAULT 0.05, adjust text DEFAULT 'bh'::text, OUT segment text, OUT product text, OUT customers bigint, OUT holders bigint, OUT adoption_rate double precision, OUT overall_rate double precision, OUT index double precision, OUT p_value double precision, OUT q_value double precision, OUT direction text)
 RETURNS SETOF record
 LANGUAGE plpgsql
 PARALLEL RESTRICTED
AS $function$
DECLARE
	segments pg_catalog.text;
	holdings pg_catalog.text;
	found_rows pg_catalog.int8;
	overlap pg_catalog.bool;
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
	IF NOT adjust OPERATOR(pg_catalog.=) ANY ('{bh,holm,none}'::pg_catalog.text[]) THEN
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
$function$;

CREATE OR REPLACE FUNCTION cxsell.segment_propensity(segments_query text, holdings_query text, product text, OUT customer text, OUT segment text, OUT holds boolean, OUT propensity double precision)
 RETURNS SETOF record
 LANGUAGE plpgsql
 PARALLEL RESTRICTED
AS $function$
DECLARE
	segments pg_catalog.text;
	holdings pg_catalog.text;
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
$function$;

CREATE OR REPLACE FUNCTION cxsell.channel_report(contacts_query text, confidence double precision DEFAULT 0.95, OUT channel text, OUT contacts bigint, OUT responses bigint, OUT rate double precision, OUT lower double precision, OUT upper double precision, OUT best boolean, OUT p_value_vs_best double precision)
 RETURNS SETOF record
 LANGUAGE plpgsql
 PARALLEL RESTRICTED
AS $function$
DECLARE
	contacts pg_catalog.text;
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
$function$;

CREATE OR REPLACE FUNCTION cxsell._son_on_nodes(relation regclass, step text, nodes text[], ports integer[], parts text[], expr text)
 RETURNS bytea[]
 LANGUAGE plpgsql
AS $function$
DECLARE
	commands pg_catalog.text[];
	failure pg_catalog.text;
	answers pg_catalog.bytea[];
	received pg_catalog.int8;
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
$function$;

CREATE OR REPLACE FUNCTION cxsell.mine_distributed(relation regclass, basket name, item name, min_support double precision, max_len integer DEFAULT 0, filter text DEFAULT NULL::text)
 RETURNS cxsell.patterns
 LANGUAGE plpgsql
AS $function$
DECLARE
	basket_type pg_catalog.oid;
	item_type pg_catalog.oid;
	item_collation pg_catalog.oid;
	dist_column pg_catalog.name;
	where_sql pg_catalog.text := '';
	part_sql pg_catalog.text;
	nodes pg_catalog.text[];
	ports pg_catalog.int4[];
	node_parts pg_catalog.text[];
	candidates pg_catalog.bytea;
	counts pg_catalog.bytea[];
	baskets pg_catalog.int8;
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
$function$;

CREATE OR REPLACE FUNCTION cxsell.kmeans_distributed(relation regclass, features name, k integer, options jsonb DEFAULT '{}'::jsonb, filter text DEFAULT NULL::text)
 RETURNS cxsell.kmodel
 LANGUAGE plpgsql
AS $function$
DECLARE
	p pg_catalog.record;
	feature_type pg_catalog.regtype;
	distributed pg_catalog.bool := false;
	src pg_catalog.text;
	f pg_catalog.text;
	moments pg_catalog.float8[];
	n pg_catalog.int8;
	d pg_catalog.int4;
	space pg_catalog.float8[];
	centres pg_catalog.float8[];
	picked pg_catalog.float8[];
	step pg_catalog.float8[];
	next_centres pg_catalog.float8[];
	phi pg_catalog.float8;
	tolerance pg_catalog.float8;
	iterations pg_catalog.int4 := 0;
	converged pg_catalog.bool := false;
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
$function$;
