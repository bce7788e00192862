-- shared by the other tests: run a statement and show its error as
-- "SQLSTATE: message | DETAIL: ... | HINT: ..." (or 'no error')
CREATE SCHEMA regress;
CREATE FUNCTION regress.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; detail text; hint text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
    detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RETURN st || ': ' || msg || coalesce(' | DETAIL: ' || nullif(detail, ''), '')
    || coalesce(' | HINT: ' || nullif(hint, ''), '');
END $$;
SELECT regress.err('SELECT 1/0');
-- the same, with the first line of the error's context (which names the
-- cxsell function the user called)
CREATE FUNCTION regress.err_context(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; ctx text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, ctx = PG_EXCEPTION_CONTEXT;
  RETURN st || ': ' || msg || ' | CONTEXT: ' || split_part(ctx, E'\n', 1);
END $$;
-- p-values adjusted for multiple tests by the published definitions, read
-- directly (quadratic, sharing nothing with cxsell's sorted passes):
--   bh:   q_i = min over p_j >= p_i of min(1, m p_j / #{p <= p_j})
--   holm: q_i = max over p_j <= p_i of min(1, (m - #{p < p_j}) p_j)
CREATE FUNCTION regress.adjust(method text, p float8[]) RETURNS float8[]
LANGUAGE sql IMMUTABLE AS $$
SELECT array_agg(CASE method
  WHEN 'bh' THEN (SELECT min(least(1, pj * cardinality(p) / (SELECT count(*) FROM unnest(p) x WHERE x <= pj)))
                  FROM unnest(p) pj WHERE pj >= pi)
  WHEN 'holm' THEN (SELECT max(least(1, pj * (cardinality(p) - (SELECT count(*) FROM unnest(p) x WHERE x < pj))))
                    FROM unnest(p) pj WHERE pj <= pi)
  ELSE pi END ORDER BY o)
FROM unnest(p) WITH ORDINALITY u(pi, o)
$$;
-- how many adjusted values `q` differ from regress.adjust(method, p) by more
-- than 1e-12 relative
CREATE FUNCTION regress.wrong_q(method text, p float8[], q float8[]) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
SELECT count(*) FROM unnest(q, regress.adjust(method, p)) u(got, want)
WHERE abs(got - want) > 1e-12 * want
$$;
