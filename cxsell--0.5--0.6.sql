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
