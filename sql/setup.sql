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
