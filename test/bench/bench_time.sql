-- bench.time_ms, for the benchmarks in test/bench (run once, after CREATE EXTENSION).

CREATE SCHEMA bench;

-- Run one query that returns a single bigint and report its wall time as
-- measured inside the server (no client transfer, no connection set-up), and
-- the value it returned:  "<milliseconds> <value>".
--
-- EXECUTE without a row limit lets the planner choose a parallel plan, as a
-- top-level statement would.  Each call of bench.time_ms is its own top-level
-- statement, so statement_timeout bounds a single run.
CREATE FUNCTION bench.time_ms(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	t1 timestamptz;
	r  bigint;
BEGIN
	t0 := clock_timestamp();
	EXECUTE q INTO r;
	t1 := clock_timestamp();
	RETURN round(extract(epoch FROM t1 - t0) * 1000, 1)::text || ' ' || coalesce(r::text, 'null');
END
$$;
