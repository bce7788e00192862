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
	history text;
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
CREATE FUNCTION cxsell_internal.sequence_time_type(analysis text, cols jsonb, within text)
	RETURNS text
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
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
		RETURN 'bigint';
	ELSIF t IN ('date', 'timestamp without time zone', 'timestamp with time zone') THEN
		IF within ~ '^[0-9]+$' THEN
			RAISE EXCEPTION 'the sequence window of rule set "%" must be an interval: its times are of type %', analysis, t
				USING ERRCODE = '42804',
				HINT = 'Pass an interval such as ''90 days''.';
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
