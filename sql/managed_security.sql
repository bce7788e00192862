-- The managed layer under attack.  Two analysts, regress_cx_a (the
-- attacker) and regress_cx_b, get the README's analyst grants; a superuser
-- refreshes everything, as a nightly pg_cron job would.  After each attack:
-- the attacker's role attributes are unchanged, the superuser-only tables
-- ms_secret (read) and ms_stolen (written) are untouched, the refresh
-- failed and is logged, and the previous results stay.  (A source query
-- runs in a background worker of its own, in a read-only transaction, as
-- its owner in a security-restricted operation: its errors and notices come
-- back as the refresh's.)
\set VERBOSITY terse
CREATE TABLE ms_secret (x text);
INSERT INTO ms_secret VALUES ('the secret');
CREATE TABLE ms_stolen (x text);
CREATE ROLE regress_cx_a;
CREATE ROLE regress_cx_b;
CREATE ROLE regress_cx_dashboard;
CREATE ROLE regress_cx_super SUPERUSER;
-- the README's grants
GRANT USAGE ON SCHEMA cxsell TO regress_cx_a, regress_cx_b, regress_cx_dashboard;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA cxsell TO regress_cx_a, regress_cx_b;
GRANT SELECT ON cxsell.analyses, cxsell.refresh_status, cxsell.refresh_history,
  cxsell.current_rules, cxsell.current_itemsets, cxsell.current_item_pairs,
  cxsell.current_recommendations, cxsell.current_bundles, cxsell.current_hierarchy,
  cxsell.current_rule_drift, cxsell.current_sequence_rules, cxsell.current_next_recommendations,
  cxsell.current_segments, cxsell.current_segment_profiles
  TO regress_cx_a, regress_cx_b, regress_cx_dashboard;
GRANT USAGE ON SCHEMA regress TO regress_cx_a, regress_cx_b;
CREATE SCHEMA ms_a AUTHORIZATION regress_cx_a;
CREATE SCHEMA ms_b AUTHORIZATION regress_cx_b;

-- what every attack must leave as it is
CREATE FUNCTION regress.state(analysis text) RETURNS text LANGUAGE sql
SET search_path = pg_catalog, pg_temp AS $$
  SELECT format('a: super %s createrole %s | stolen %s | secret in items %s | rules %s | last run %s',
    r.rolsuper, r.rolcreaterole, (SELECT count(*) FROM public.ms_stolen),
    (SELECT count(*) FROM cxsell.current_itemsets WHERE array_to_string(items, ' ') LIKE '%secret%'),
    (SELECT count(*) FROM cxsell.current_rules WHERE rule_set = analysis),
    (SELECT last_status FROM cxsell.refresh_status WHERE name = analysis))
  FROM pg_roles r WHERE r.rolname = 'regress_cx_a'
$$;

SET ROLE regress_cx_b;
CREATE TABLE ms_b.lines AS
SELECT b AS basket, 'x' AS item, 'c' || (b % 4) AS customer FROM generate_series(1, 8) b
UNION ALL SELECT b, 'y', 'c' || (b % 4) FROM generate_series(1, 12) b WHERE b % 2 = 0
UNION ALL SELECT b, 'z', 'c' || (b % 4) FROM generate_series(1, 12) b WHERE b % 3 = 0;
SELECT cxsell.create_rule_set('b_set', 'SELECT basket, item, customer FROM ms_b.lines', 0.2);
CALL cxsell.refresh('b_set');
RESET ROLE;

SET ROLE regress_cx_a;
CREATE TABLE ms_a.lines AS
SELECT b AS basket, 'p' AS item FROM generate_series(1, 8) b
UNION ALL SELECT b, 'q' FROM generate_series(1, 12) b WHERE b % 2 = 0
UNION ALL SELECT b, 'r' FROM generate_series(1, 12) b WHERE b % 3 = 0;
-- the function the attacks call from the stored query; harmless when the
-- set is defined, replaced by an attack afterwards
CREATE FUNCTION ms_a.hook() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'ok'; END $$;
SELECT cxsell.create_rule_set('a_set',
  'SELECT basket, item FROM ms_a.lines WHERE ms_a.hook() IS NOT NULL', 0.2);
CALL cxsell.refresh('a_set');
RESET ROLE;
SELECT regress.state('a_set');

-- 1. a function in the stored query switches back to the refreshing
--    superuser (RESET ROLE, SET ROLE, set_config('role'), SET SESSION
--    AUTHORIZATION) and escalates
CREATE FUNCTION regress.attack_hook(how text) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $attack$
BEGIN
  EXECUTE format($f$CREATE OR REPLACE FUNCTION ms_a.hook() RETURNS text LANGUAGE plpgsql AS $b$
    BEGIN
      %s;
      INSERT INTO public.ms_stolen SELECT x FROM public.ms_secret;
      ALTER ROLE regress_cx_a SUPERUSER;
      RETURN 'ok';
    END $b$$f$, how);
END $attack$;
SELECT regress.attack_hook('RESET ROLE');
CALL cxsell.refresh('a_set');
SELECT regress.state('a_set');
SELECT regress.attack_hook($$EXECUTE format('SET ROLE %I', session_user)$$);
CALL cxsell.refresh('a_set');
SELECT regress.attack_hook($$PERFORM set_config('role', 'none', true)$$);
CALL cxsell.refresh('a_set');
SELECT regress.attack_hook($$EXECUTE format('SET SESSION AUTHORIZATION %I', session_user)$$);
CALL cxsell.refresh('a_set');
SELECT regress.attack_hook($$SET LOCAL ROLE NONE$$);
CALL cxsell.refresh('a_set');
SELECT regress.state('a_set');
-- the refresh_all a nightly job runs: the other analyses are refreshed, the
-- failure is logged, one error names it
CALL cxsell.refresh_all();
SELECT name, last_status, last_error FROM cxsell.refresh_status ORDER BY name;
SELECT name, status, sqlstate, error,
       CASE WHEN run_by = current_user THEN 'superuser' ELSE run_by END AS run_by, owner
FROM cxsell.refresh_history WHERE name IN ('a_set', 'b_set') ORDER BY id;
SELECT regress.state('a_set');

-- 2. no function: the query text itself switches role and copies a
--    superuser-only table into item names
SELECT regress.attack_hook('NULL');
SET ROLE regress_cx_a;
SELECT cxsell.alter_rule_set('a_set', source_query => $q$
  SELECT l.basket,
         CASE WHEN set_config('role', 'none', true) IS NOT NULL
              THEN query_to_xml('select x from public.ms_secret', false, false, '')::text END AS item
  FROM ms_a.lines l$q$);
RESET ROLE;
CALL cxsell.refresh('a_set');
SELECT regress.state('a_set');

-- 2b. the same through the columns a refresh mines besides basket and item:
--     ancestors that switch role and copy the secret into category names,
--     a weight that switches role
SET ROLE regress_cx_a;
SELECT cxsell.alter_rule_set('a_set', source_query => $q$
  SELECT l.basket, l.item,
         ARRAY[CASE WHEN set_config('role', 'none', true) IS NOT NULL
                    THEN query_to_xml('select x from public.ms_secret', false, false, '')::text END] AS ancestors
  FROM ms_a.lines l$q$);
RESET ROLE;
CALL cxsell.refresh('a_set');
SELECT regress.state('a_set');
SET ROLE regress_cx_a;
SELECT cxsell.alter_rule_set('a_set', source_query => $q$
  SELECT l.basket, l.item,
         (CASE WHEN set_config('role', 'none', true) IS NOT NULL THEN 1 END)::float8 AS weight
  FROM ms_a.lines l$q$);
RESET ROLE;
CALL cxsell.refresh('a_set');
SELECT regress.state('a_set');
-- and through the columns a sequence window mines: a time that switches
-- role, customers named after the secret
SET ROLE regress_cx_a;
SELECT cxsell.alter_rule_set('a_set', source_query => $q$
  SELECT l.basket, l.item,
         CASE WHEN set_config('role', 'none', true) IS NOT NULL
              THEN query_to_xml('select x from public.ms_secret', false, false, '')::text END AS customer,
         (CASE WHEN set_config('role', 'none', true) IS NOT NULL THEN l.basket END) AS at
  FROM ms_a.lines l$q$);
SELECT cxsell.set_rule_set_sequences('a_set', '5');
RESET ROLE;
CALL cxsell.refresh('a_set');
SELECT regress.state('a_set');
SELECT count(*) AS next_offers_of_a_set FROM cxsell.current_next_recommendations WHERE rule_set = 'a_set';
SET ROLE regress_cx_a;
SELECT cxsell.set_rule_set_sequences('a_set', NULL);
RESET ROLE;

-- 3. a deferred constraint trigger queued by the query would fire at the
--    refresh's COMMIT, as the superuser: the write that would queue it is
--    refused (read-only), as any deferred trigger in a restricted operation
--    would be
SET ROLE regress_cx_a;
CREATE TABLE ms_a.touched (x int);
CREATE FUNCTION ms_a.on_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.ms_stolen SELECT x FROM public.ms_secret;
  ALTER ROLE regress_cx_a CREATEROLE;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER late AFTER INSERT ON ms_a.touched
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ms_a.on_commit();
CREATE OR REPLACE FUNCTION ms_a.hook() RETURNS text LANGUAGE plpgsql AS $$
BEGIN INSERT INTO ms_a.touched VALUES (1); RETURN 'ok'; END $$;
SELECT cxsell.alter_rule_set('a_set',
  source_query => 'SELECT basket, item FROM ms_a.lines WHERE ms_a.hook() IS NOT NULL');
RESET ROLE;
CALL cxsell.refresh('a_set');
SELECT regress.state('a_set');

-- 4. statements spliced into the stored text: the analyst cannot write the
--    definitions, and a text planted there anyway (a superuser's UPDATE, a
--    restored dump) is parsed at every run and refused
SET ROLE regress_cx_a;
SELECT regress.err($$UPDATE cxsell.rule_sets SET source_query = 'SELECT 1' WHERE name = 'a_set'$$);
RESET ROLE;
UPDATE cxsell.rule_sets
SET source_query = 'SELECT basket, item FROM ms_a.lines) AS q; RESET ROLE; ALTER ROLE regress_cx_a SUPERUSER; SELECT (1'
WHERE name = 'a_set';
CALL cxsell.refresh('a_set');
UPDATE cxsell.rule_sets
SET source_query = 'SELECT basket, item FROM ms_a.lines; RESET ROLE; ALTER ROLE regress_cx_a SUPERUSER'
WHERE name = 'a_set';
CALL cxsell.refresh('a_set');
UPDATE cxsell.rule_sets
SET source_query = 'WITH x AS (INSERT INTO public.ms_stolen VALUES (''w'') RETURNING x) SELECT 1 AS basket, x AS item FROM x'
WHERE name = 'a_set';
CALL cxsell.refresh('a_set');
SELECT regress.state('a_set');

-- 5. a superuser changing only thresholds never runs the stored query (here
--    one the planner would fold: an IMMUTABLE function calling a volatile
--    one that says when it runs)
SET ROLE regress_cx_a;
CREATE OR REPLACE FUNCTION ms_a.hook() RETURNS text LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'ms_a.hook runs as %', current_user; RETURN 'ok'; END $$;
CREATE FUNCTION ms_a.fold() RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN RETURN ms_a.hook(); END $$;
-- (checked at definition as its writer: the planner folds it)
SELECT cxsell.alter_rule_set('a_set',
  source_query => 'SELECT basket, item FROM ms_a.lines WHERE ms_a.fold() IS NOT NULL');
RESET ROLE;
-- no notice: the query is not run
SELECT cxsell.alter_rule_set('a_set', min_confidence => 0.3);
SELECT cxsell.alter_rule_set('a_set', min_support => 0.25, max_len => 3, min_lift => 0,
                             recommendations => 2, rank_by => 'lift');
SELECT regress.state('a_set');
-- and its refresh folds it as the analyst, in the restricted operation
SELECT regress.attack_hook('RESET ROLE');
CALL cxsell.refresh('a_set');
SELECT regress.state('a_set');

-- 6. names planted where a superuser's search_path looks first: functions
--    and operators the managed layer might call unqualified
GRANT CREATE ON SCHEMA public TO regress_cx_a;
SET ROLE regress_cx_a;
CREATE FUNCTION public.escalate() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.ms_stolen SELECT x FROM public.ms_secret;
  ALTER ROLE regress_cx_a SUPERUSER;
  RETURN true;
EXCEPTION WHEN insufficient_privilege THEN RETURN true;
END $$;
CREATE FUNCTION public.format(text, text) RETURNS text LANGUAGE sql AS 'SELECT $1 || $2 || public.escalate()::text';
CREATE FUNCTION public.format(text, text, text) RETURNS text LANGUAGE sql AS 'SELECT $1 || public.escalate()::text';
CREATE FUNCTION public.jsonb_build_object(text, text, text, text, text, text, text, text) RETURNS jsonb LANGUAGE sql AS 'SELECT to_jsonb(public.escalate())';
CREATE FUNCTION public.array_append(jsonb[], jsonb) RETURNS jsonb[] LANGUAGE sql AS 'SELECT ARRAY[to_jsonb(public.escalate())]';
CREATE FUNCTION public.cardinality(anyarray) RETURNS int4 LANGUAGE sql AS 'SELECT public.escalate()::int';
CREATE FUNCTION public.to_jsonb(text) RETURNS jsonb LANGUAGE sql AS 'SELECT to_jsonb(public.escalate())';
CREATE FUNCTION public.jsonb_set(jsonb, text[], jsonb) RETURNS jsonb LANGUAGE sql AS 'SELECT to_jsonb(public.escalate())';
CREATE FUNCTION public.current_setting(text) RETURNS text LANGUAGE sql AS 'SELECT public.escalate()::text';
CREATE FUNCTION public.text_eq(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT public.escalate()';
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.text_eq);
CREATE FUNCTION public.bool_eq(boolean, boolean) RETURNS boolean LANGUAGE sql AS 'SELECT public.escalate()';
CREATE OPERATOR public.= (LEFTARG = boolean, RIGHTARG = boolean, FUNCTION = public.bool_eq);
CREATE FUNCTION public.jsonb_field(jsonb, text) RETURNS text LANGUAGE sql AS 'SELECT public.escalate()::text';
CREATE OPERATOR public.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = public.jsonb_field);
CREATE OPERATOR public.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = public.text_eq);
RESET ROLE;
SELECT regress.attack_hook('NULL');
UPDATE cxsell.rule_sets SET source_query = 'SELECT basket, item FROM ms_a.lines' WHERE name = 'a_set';
SET search_path = public, pg_catalog;
SELECT cxsell.create_rule_set('su_set', 'SELECT basket, item FROM ms_b.lines', 0.2);
SELECT cxsell.alter_rule_set('su_set', source_query => 'SELECT basket, item FROM ms_b.lines WHERE basket > 1',
                             min_support => 0.3);
SELECT cxsell.set_rule_set_rules('su_set', redundant => false, basis => true);
SELECT cxsell.set_rule_set_interest('su_set', 1.05);
SELECT cxsell.alter_rule_set('su_set', source_query =>
  'SELECT basket, item, ARRAY[''all''] AS ancestors, 2.5 AS weight FROM ms_b.lines WHERE basket > 1');
-- and its customers' sequences, the baskets' numbers as times
SELECT cxsell.alter_rule_set('su_set', source_query =>
  'SELECT basket, item, ARRAY[''all''] AS ancestors, 2.5 AS weight, customer, basket AS at FROM ms_b.lines WHERE basket > 1');
SELECT cxsell.set_rule_set_sequences('su_set', '5');
CALL cxsell.refresh('su_set');
-- the views read under the planted path (this query itself names no operator)
CREATE TEMP TABLE su_rules AS SELECT * FROM cxsell.current_rules;
CREATE TEMP TABLE su_bundles AS SELECT * FROM cxsell.current_bundles;
CREATE TEMP TABLE su_hierarchy AS SELECT * FROM cxsell.current_hierarchy;
CREATE TEMP TABLE su_sequence_rules AS SELECT * FROM cxsell.current_sequence_rules;
CREATE TEMP TABLE su_next AS SELECT * FROM cxsell.current_next_recommendations;
CREATE TEMP TABLE su_patterns AS SELECT * FROM cxsell.rule_set_patterns;
CALL cxsell.refresh_all();
SELECT cxsell.drop_rule_set('su_set');
SELECT name, last_status FROM cxsell.refresh_status ORDER BY name;
RESET search_path;
-- su_set stored the basis of its value (mined over its hierarchy, with its
-- weights), its bundles with their weights, and its hierarchy
SELECT (SELECT count(*) FROM su_rules WHERE rule_set = 'su_set') AS stored_rules,
       (SELECT count(*) FROM su_patterns p,
                 cxsell.rules(p.patterns, basis => true, ancestor_interest => 1.05)
        WHERE p.name = 'su_set') AS basis,
       (SELECT count(*) FROM su_hierarchy WHERE rule_set = 'su_set') AS links,
       (SELECT count(*) FROM su_bundles WHERE rule_set = 'su_set' AND weight > 0) AS weighed,
       (SELECT count(*) FROM su_bundles WHERE rule_set = 'su_set') AS bundles,
       (SELECT count(*) FROM su_patterns p, cxsell.bundles(p.patterns)
        WHERE p.name = 'su_set') AS of_value;
-- and its sequences' rules and each customer's next products
SELECT (SELECT count(*) FROM su_sequence_rules WHERE rule_set = 'su_set') AS sequence_rules,
       (SELECT count(*) FROM su_patterns p, cxsell.sequence_rules(p.sequences)
        WHERE p.name = 'su_set') AS of_sequences,
       (SELECT count(DISTINCT customer) FROM su_next WHERE rule_set = 'su_set') AS customers_offered;
DROP TABLE su_rules, su_bundles, su_patterns, su_hierarchy, su_sequence_rules, su_next;
SELECT regress.state('a_set');
SET ROLE regress_cx_a;
DROP OPERATOR public.= (text, text);
DROP OPERATOR public.= (boolean, boolean);
DROP OPERATOR public.->> (jsonb, text);
DROP OPERATOR public.<> (text, text);
DROP FUNCTION public.format(text, text), public.format(text, text, text),
  public.jsonb_build_object(text, text, text, text, text, text, text, text), public.array_append(jsonb[], jsonb),
  public.cardinality(anyarray), public.to_jsonb(text), public.jsonb_set(jsonb, text[], jsonb),
  public.current_setting(text), public.text_eq(text, text), public.bool_eq(boolean, boolean),
  public.jsonb_field(jsonb, text), public.escalate();
RESET ROLE;
REVOKE CREATE ON SCHEMA public FROM regress_cx_a;

-- 7. settings a query changes for the rest of the session are undone
SET ROLE regress_cx_a;
CREATE OR REPLACE FUNCTION ms_a.hook() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('search_path', 'ms_a', false);
  PERFORM set_config('work_mem', '64kB', false);
  RETURN 'ok';
END $$;
SELECT cxsell.alter_rule_set('a_set',
  source_query => 'SELECT basket, item FROM ms_a.lines WHERE ms_a.hook() IS NOT NULL');
RESET ROLE;
SET work_mem = '4MB';
CALL cxsell.refresh('a_set');
SELECT current_setting('search_path') AS search_path, current_setting('work_mem') AS work_mem;
RESET work_mem;
SELECT regress.state('a_set');

-- 8. managed functions cannot be reached from a source query
SET ROLE regress_cx_a;
CREATE OR REPLACE FUNCTION ms_a.hook() RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM cxsell.drop_rule_set('b_set'); RETURN 'ok'; END $$;
RESET ROLE;
CALL cxsell.refresh('a_set');
SELECT count(*) AS b_set_kept FROM cxsell.analyses WHERE name = 'b_set';

-- 9. one analyst cannot touch another's definitions, results or log
SELECT max(id) AS b_run FROM cxsell.refresh_log WHERE name = 'b_set' \gset
SET ROLE regress_cx_a;
SELECT kind, name FROM cxsell.analyses ORDER BY name;                -- own only
SELECT count(*) AS visible_b_rules FROM cxsell.current_rules WHERE rule_set = 'b_set';
SELECT count(*) AS visible_b_runs FROM cxsell.refresh_history WHERE name = 'b_set';
SELECT regress.err($$SELECT count(*) FROM cxsell.rule_set_rules$$);
SELECT regress.err($$UPDATE cxsell.rule_set_rules SET confidence = 1 WHERE name = 'b_set'$$);
SELECT regress.err($$DELETE FROM cxsell.rule_set_recommendations WHERE name = 'b_set'$$);
SELECT regress.err($$INSERT INTO cxsell.rule_set_rules (name, antecedent, consequent) VALUES ('b_set', '{x}', '{y}')$$);
SELECT regress.err($$UPDATE cxsell.rule_sets SET min_support = 0.9 WHERE name = 'b_set'$$);
SELECT regress.err($$DELETE FROM cxsell.refresh_log WHERE name = 'b_set'$$);
SELECT regress.err($$INSERT INTO cxsell.refresh_log (kind, name, started_at, status, run_by) VALUES ('rule set', 'b_set', now(), 'success', 'x')$$);
SELECT regress.err($$SELECT cxsell.alter_rule_set('b_set', min_confidence => 0.9)$$);
SELECT regress.err($$SELECT cxsell.set_rule_set_rules('b_set', redundant => false)$$);
SELECT regress.err($$SELECT cxsell_internal.set_rule_set_rules('regress_cx_b', 'public', 'b_set', false, true)$$);
SELECT regress.err($$SELECT cxsell.set_rule_set_interest('b_set', 2)$$);
SELECT regress.err($$SELECT cxsell_internal.set_rule_set_interest('regress_cx_b', 'public', 'b_set', 2)$$);
SELECT regress.err($$SELECT cxsell.set_rule_set_sequences('b_set', '90 days')$$);
SELECT regress.err($$SELECT cxsell_internal.set_rule_set_sequences('regress_cx_b', 'public', 'b_set', '90 days')$$);
SELECT regress.err($$SELECT cxsell.alter_rule_set('b_set', source_query => 'SELECT basket, item FROM ms_a.lines')$$);
SELECT regress.err($$SELECT cxsell.drop_rule_set('b_set')$$);
SELECT regress.err($$CALL cxsell.refresh('b_set')$$);
SELECT regress.err($$SELECT cxsell._refresh_begin('b_set')$$);
SELECT regexp_replace(regress.err(format($$SELECT cxsell._refresh_work(%s)$$, :b_run)),
                      'run \d+', 'run N');
SELECT regexp_replace(regress.err(format($$SELECT cxsell._refresh_fail(%s, '{"sqlstate": "P0001", "message": "forged"}')$$, :b_run)),
                      'run \d+', 'run N');
SELECT regress.err($$SELECT cxsell.create_rule_set('b_set', 'SELECT basket, item FROM ms_a.lines', 0.2)$$);
-- the bodies are out of reach ...
SELECT regress.err($$SELECT cxsell_internal.drop_rule_set('regress_cx_b', '', 'b_set')$$);
RESET ROLE;
-- ... and, even when granted, run with the caller's own rights
GRANT USAGE ON SCHEMA cxsell_internal TO regress_cx_a;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA cxsell_internal TO regress_cx_a;
SET ROLE regress_cx_a;
SELECT regress.err($$SELECT cxsell_internal.drop_rule_set('regress_cx_b', '', 'b_set')$$);
SELECT regress.err($$SELECT * FROM cxsell_internal.source_rows('regress_cx_super', '{}', 'SELECT x FROM public.ms_secret', '{x}', '{text}') AS s(x text)$$);
SELECT regress.err($$SELECT * FROM cxsell_internal.source_columns('regress_cx_super', '{}', 'SELECT x FROM public.ms_secret')$$);
RESET ROLE;
REVOKE ALL ON SCHEMA cxsell_internal FROM regress_cx_a;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA cxsell_internal FROM regress_cx_a;
-- analyst b's analysis is whole
SELECT name, owner, last_status FROM cxsell.analyses JOIN cxsell.refresh_status USING (kind, name)
WHERE name = 'b_set';
SELECT count(*) > 0 AS b_rules FROM cxsell.current_rules WHERE rule_set = 'b_set';
-- a member of regress_cx_b acts for it; a dashboard that is no member sees nothing
GRANT regress_cx_b TO regress_cx_a;
SET ROLE regress_cx_a;
SELECT cxsell.alter_rule_set('b_set', min_confidence => 0.5);
CALL cxsell.refresh('b_set');
SELECT owner, last_status FROM cxsell.analyses JOIN cxsell.refresh_status USING (kind, name)
WHERE name = 'b_set';
RESET ROLE;
REVOKE regress_cx_b FROM regress_cx_a;
SET ROLE regress_cx_dashboard;
SELECT count(*) AS dashboard_sees FROM cxsell.current_rules;
RESET ROLE;

-- 10. nothing of the managed layer is executable by PUBLIC, and no table,
--     view or sequence of the extension grants anything to PUBLIC; the
--     internal functions PUBLIC may execute are listed (they serve the
--     primitives, such as cxsell.backtest and cxsell.mine_distributed)
SELECT p.oid::regprocedure AS executable_by_public
FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
WHERE p.pronamespace IN ('cxsell'::regnamespace, 'cxsell_internal'::regnamespace)
  AND a.grantee = 0 AND a.privilege_type = 'EXECUTE'
  AND (p.pronamespace = 'cxsell_internal'::regnamespace
       OR p.proname ~ '^(_|create_|alter_|drop_|refresh)')
ORDER BY 1;
SELECT count(*) AS public_grants
FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
WHERE c.relnamespace IN ('cxsell'::regnamespace, 'cxsell_internal'::regnamespace) AND a.grantee = 0;

-- 11. a domain planted over a type name the refresh procedures declare
--     (they run with the caller's search_path): its CHECK would run as the
--     superuser
GRANT CREATE ON SCHEMA public TO regress_cx_a;
SET ROLE regress_cx_a;
CREATE FUNCTION public.escalate(anyelement) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    INSERT INTO public.ms_stolen SELECT x FROM public.ms_secret;
    ALTER ROLE regress_cx_a SUPERUSER;
  END IF;
  RETURN true;
END $$;
CREATE DOMAIN public.text AS pg_catalog.text CHECK (public.escalate(VALUE));
CREATE DOMAIN public.jsonb AS pg_catalog.jsonb CHECK (public.escalate(VALUE));
CREATE DOMAIN public.int4 AS pg_catalog.int4 CHECK (public.escalate(VALUE));
CREATE DOMAIN public.name AS pg_catalog.name CHECK (public.escalate(VALUE));
CREATE DOMAIN public.float8 AS pg_catalog.float8 CHECK (public.escalate(VALUE));
CREATE DOMAIN public.oid AS pg_catalog.oid CHECK (public.escalate(VALUE));
CREATE DOMAIN public.bytea AS pg_catalog.bytea CHECK (public.escalate(VALUE));
CREATE DOMAIN public.regtype AS pg_catalog.regtype CHECK (public.escalate(VALUE));
CREATE OR REPLACE FUNCTION ms_a.hook() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'ok'; END $$;
RESET ROLE;
\c
\set VERBOSITY terse
SET search_path = public, pg_catalog;
CALL cxsell.refresh('a_set');
CALL cxsell.refresh_all();
SELECT cxsell.alter_rule_set('a_set', min_confidence => 0.2);
-- ... and the functions that run the caller's own query text, called by
-- the superuser under the planted path
SELECT count(*) AS backtest FROM cxsell.backtest('SELECT basket, item FROM ms_b.lines', 0.2);
SELECT count(*) AS backtest_next FROM cxsell.backtest_next(
  'SELECT customer, basket AS at, item FROM ms_b.lines', 0.2, 5::bigint);
SELECT count(*) AS segment_profiles FROM cxsell.segment_profiles(
  'SELECT customer, item AS segment FROM ms_b.lines', 'SELECT customer, item AS product FROM ms_b.lines');
SELECT count(*) AS segment_propensity FROM cxsell.segment_propensity(
  'SELECT customer, item AS segment FROM ms_b.lines', 'SELECT customer, item AS product FROM ms_b.lines', 'x');
SELECT count(*) AS channel_report FROM cxsell.channel_report(
  'SELECT item AS channel, basket > 4 AS responded FROM ms_b.lines');
SELECT cxsell.mine_distributed('ms_b.lines', 'basket', 'item', 0.2) IS NOT NULL AS mine_distributed;
-- (an error, after its variables are declared)
SELECT cxsell.kmeans_distributed('ms_b.lines', 'basket', 2);
RESET search_path;
SELECT regress.state('a_set');
SET ROLE regress_cx_a;
DROP DOMAIN public.text, public.jsonb, public.int4, public.name, public.float8, public.oid,
  public.bytea, public.regtype;
DROP FUNCTION public.escalate(anyelement);
RESET ROLE;
REVOKE CREATE ON SCHEMA public FROM regress_cx_a;

-- 12. a reader's leaky function sees only the rows the views show (a_tree,
--     regress_cx_a's, has a hierarchy its owner sees)
SET ROLE regress_cx_a;
SELECT cxsell.create_rule_set('a_tree',
  'SELECT basket, item, ARRAY[''cat-'' || item] AS ancestors FROM ms_a.lines', 0.2);
SELECT cxsell.create_rule_set('a_seq',
  'SELECT basket, item, ''c'' || basket % 3 AS customer, basket AS at FROM ms_a.lines', 0.2);
SELECT cxsell.set_rule_set_sequences('a_seq', '4');
RESET ROLE;
CALL cxsell.refresh('a_tree');
CALL cxsell.refresh('a_tree');
CALL cxsell.refresh('a_seq');
SET ROLE regress_cx_a;
SELECT count(*) > 0 AS owner_sees_links FROM cxsell.current_hierarchy WHERE rule_set = 'a_tree';
SELECT count(*) > 0 AS owner_sees_sequence_rules FROM cxsell.current_sequence_rules WHERE rule_set = 'a_seq';
SELECT count(*) > 0 AS owner_sees_next FROM cxsell.current_next_recommendations WHERE rule_set = 'a_seq';
SELECT count(*) > 0 AS owner_sees_drift FROM cxsell.current_rule_drift WHERE rule_set = 'a_tree';
RESET ROLE;
SET ROLE regress_cx_dashboard;
CREATE FUNCTION pg_temp.peek(a text, b text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001
AS $$ BEGIN RAISE NOTICE 'peek: % %', a, b; RETURN true; END $$;
SELECT count(*) FROM cxsell.analyses WHERE pg_temp.peek(name, source_query);
SELECT count(*) FROM cxsell.refresh_history WHERE pg_temp.peek(name, error);
SELECT count(*) FROM cxsell.refresh_status WHERE pg_temp.peek(name, last_error);
SELECT count(*) FROM cxsell.current_rules WHERE pg_temp.peek(rule_set, consequent::text);
SELECT count(*) FROM cxsell.current_itemsets WHERE pg_temp.peek(rule_set, items::text);
SELECT count(*) FROM cxsell.current_bundles WHERE pg_temp.peek(rule_set, items::text);
SELECT count(*) FROM cxsell.current_hierarchy WHERE pg_temp.peek(rule_set, item);
SELECT count(*) FROM cxsell.current_rule_drift WHERE pg_temp.peek(rule_set, status);
SELECT count(*) FROM cxsell.current_item_pairs WHERE pg_temp.peek(rule_set, item_a);
SELECT count(*) FROM cxsell.current_recommendations WHERE pg_temp.peek(rule_set, item);
SELECT count(*) FROM cxsell.current_sequence_rules WHERE pg_temp.peek(rule_set, consequent);
SELECT count(*) FROM cxsell.current_next_recommendations WHERE pg_temp.peek(rule_set, customer || item);
RESET ROLE;

-- 13. what the query does to its session stays in its own process:
--     advisory locks taken or released, temporary objects
SELECT pg_advisory_lock(42);
CREATE TEMP TABLE ms_mine (x int);
SET ROLE regress_cx_a;
CREATE OR REPLACE FUNCTION ms_a.hook() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_unlock_all();
  PERFORM pg_advisory_lock(7);
  BEGIN
    EXECUTE 'CREATE FUNCTION pg_temp.tf() RETURNS int LANGUAGE sql AS ''SELECT 1''';
  EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'temp function: %', SQLERRM;
  END;
  RETURN 'ok';
END $$;
SELECT cxsell.alter_rule_set('a_set',
  source_query => 'SELECT basket, item FROM ms_a.lines WHERE (SELECT ms_a.hook()) IS NOT NULL');
RESET ROLE;
CALL cxsell.refresh('a_set');
SELECT objid, mode FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() ORDER BY 1;
SELECT count(*) AS temp_function_tf FROM pg_proc WHERE proname = 'tf';
SELECT pg_advisory_unlock(42);
DROP TABLE ms_mine;

-- 14. ASSERT (SQLSTATE P0004, which WHEN OTHERS does not catch) is logged
--     like any failure, and refresh_all goes on past it
SET ROLE regress_cx_a;
CREATE OR REPLACE FUNCTION ms_a.hook() RETURNS text LANGUAGE plpgsql AS $$
BEGIN ASSERT false, 'assertion planted by regress_cx_a'; RETURN 'ok'; END $$;
RESET ROLE;
CALL cxsell.refresh_all();
SELECT name, last_status, last_error FROM cxsell.refresh_status ORDER BY name;

-- 15. locking rows, even in a subquery, is a write: refused
SET ROLE regress_cx_a;
CREATE OR REPLACE FUNCTION ms_a.hook() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'ok'; END $$;
SELECT regress.err($$SELECT cxsell.alter_rule_set('a_set',
  source_query => 'SELECT basket, item FROM (SELECT * FROM ms_a.lines FOR UPDATE) l')$$);
RESET ROLE;

-- 16. holding advisory locks in advance cannot stall a refresh: a run's
--     lock key is random and never waited for
SET ROLE regress_cx_dashboard;
SELECT count(*) FROM (SELECT pg_advisory_lock(k1, k2)
                      FROM unnest('{1668838193,1668838194}'::int4[]) k1,
                           generate_series(0, 2000) k2) x;
RESET ROLE;
SET lock_timeout = '5s';
CALL cxsell.refresh('b_set');
RESET lock_timeout;
SELECT name, last_status FROM cxsell.refresh_status WHERE name = 'b_set';
SET ROLE regress_cx_dashboard;
SELECT pg_advisory_unlock_all();
RESET ROLE;

-- 17. a superuser who writes an analyst's query becomes its owner: it runs
--     as the superuser from then on, so the results computed as the analyst
--     are removed, and a notice says so
SELECT count(*) > 0 AS b_rules_before FROM cxsell.current_rules WHERE rule_set = 'b_set';
SET ROLE regress_cx_super;
\set VERBOSITY default
SELECT cxsell.alter_rule_set('b_set', source_query => 'SELECT basket, item FROM ms_b.lines');
\set VERBOSITY terse
SELECT owner, count(t.*) AS rules
FROM cxsell.analyses a LEFT JOIN cxsell.current_rules t ON t.rule_set = a.name
WHERE a.name = 'b_set' GROUP BY owner;
RESET ROLE;

-- 18. plans show no hidden name, query or value: the views' filters are
--     computed while the query runs, never written into the plan
SET ROLE regress_cx_b;
CREATE FUNCTION pg_temp.plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; plan text := '';
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    plan := plan || line || E'\n';
  END LOOP;
  RETURN plan;
END $$;
SELECT v AS view, pg_temp.plan('SELECT * FROM cxsell.' || v) ~ '(a_set|a_tree|ms_a|regress_cx_a|a_seq)' AS shows_hidden
FROM unnest(ARRAY['analyses', 'refresh_history', 'refresh_status', 'current_rules',
  'current_itemsets', 'current_item_pairs', 'current_recommendations', 'current_bundles',
  'current_hierarchy', 'current_rule_drift', 'current_sequence_rules',
  'current_next_recommendations']) AS v;
RESET ROLE;

-- 19. names compare as stored: the caller's collation is not passed on
DO $$
BEGIN
  CREATE COLLATION ms_a.loose (provider = icu, locale = 'und-u-ks-level1', deterministic = false);
EXCEPTION WHEN OTHERS THEN
  CREATE COLLATION ms_a.loose (locale = 'C');	-- a server without ICU
END $$;
ALTER COLLATION ms_a.loose OWNER TO regress_cx_a;
SET ROLE regress_cx_a;
CALL cxsell.refresh('B_SET' COLLATE ms_a.loose);
SELECT regress.err($$SELECT cxsell._refresh_begin('B_SET' COLLATE ms_a.loose)$$);
RESET ROLE;

-- 20. a run whose analysis changed owner since it started stops, logging
--     no parameters (the new owner's query stays unseen)
SET ROLE regress_cx_a;
CREATE OR REPLACE FUNCTION ms_a.hook() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'ok'; END $$;
SELECT cxsell.alter_rule_set('a_set', source_query => 'SELECT basket, item FROM ms_a.lines');
SELECT cxsell._refresh_begin('a_set') AS a_run \gset
RESET ROLE;
SET ROLE regress_cx_super;
SELECT cxsell.alter_rule_set('a_set',
  source_query => $$SELECT basket, item FROM ms_a.lines WHERE item <> 'superuser secret'$$);
RESET ROLE;
SET ROLE regress_cx_a;
SELECT cxsell._refresh_work(:a_run)->>'message' AS outcome;
SELECT status, parameters IS NULL AS no_parameters, error FROM cxsell.refresh_history WHERE id = :a_run;
RESET ROLE;
UPDATE cxsell.rule_sets SET owner = 'regress_cx_a', source_query = 'SELECT basket, item FROM ms_a.lines'
WHERE name = 'a_set';

-- 21. the query's session is the owner's: session_user, and row security
--     policies written on it, are the owner's, even in a superuser's refresh
CREATE TABLE ms_tenant (tenant name, basket int, item text);
INSERT INTO ms_tenant VALUES ('regress_cx_a', 1, 'a item'), ('regress_cx_a', 2, 'a item'),
  (session_user, 1, 'superuser item'), (session_user, 2, 'superuser item');
ALTER TABLE ms_tenant ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON ms_tenant USING (tenant = session_user);
GRANT SELECT ON ms_tenant TO regress_cx_a;
SET ROLE regress_cx_a;
SELECT cxsell.alter_rule_set('a_set',
  source_query => $$SELECT basket, item || ' seen by ' || session_user AS item FROM public.ms_tenant$$);
RESET ROLE;
CALL cxsell.refresh('a_set');
SELECT items FROM cxsell.current_itemsets WHERE rule_set = 'a_set' ORDER BY 1;

-- 22. a source query's SQLSTATE cannot tell the refreshing session's client
--     to retry or that the server is in trouble; messages are kept short
SET ROLE regress_cx_a;
CREATE OR REPLACE FUNCTION ms_a.hook() RETURNS text LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'retry me' USING ERRCODE = '40001'; END $$;
SELECT cxsell.alter_rule_set('a_set',
  source_query => 'SELECT basket, item FROM ms_a.lines WHERE ms_a.hook() IS NOT NULL');
RESET ROLE;
SELECT regress.err($$CALL cxsell.refresh('a_set')$$);
SET ROLE regress_cx_a;
CREATE OR REPLACE FUNCTION ms_a.hook() RETURNS text LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '%', repeat('long message ', 1000); END $$;
RESET ROLE;
SELECT regress.err($$CALL cxsell.refresh('a_set')$$) AS long_error \gset
SELECT left(:'long_error', 40) AS error_start, length(:'long_error') AS error_length;
SET ROLE regress_cx_a;
CALL cxsell.refresh_all();
RESET ROLE;
SELECT sqlstate, length(error) AS error_length FROM cxsell.refresh_history
WHERE name = 'a_set' ORDER BY id DESC LIMIT 1;

-- 23. a source query has a time limit a superuser sets
SET ROLE regress_cx_a;
CREATE OR REPLACE FUNCTION ms_a.hook() RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(30); RETURN 'ok'; END $$;
SELECT cxsell.alter_rule_set('a_set',
  source_query => 'SELECT basket, item FROM ms_a.lines WHERE (SELECT ms_a.hook()) IS NOT NULL');
SELECT regress.err($$SET cxsell.source_query_timeout = '1s'$$);
RESET ROLE;
SET cxsell.source_query_timeout = '1s';
CALL cxsell.refresh('a_set');
RESET cxsell.source_query_timeout;
SELECT last_status, last_error FROM cxsell.refresh_status WHERE name = 'a_set';

-- 24. a superuser sees the analyses of a dropped role
CREATE ROLE regress_cx_gone;
GRANT USAGE ON SCHEMA cxsell TO regress_cx_gone;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA cxsell TO regress_cx_gone;
SET ROLE regress_cx_gone;
SELECT cxsell.create_rule_set('gone_set', 'SELECT 1 AS basket, 2 AS item', 0.5);
RESET ROLE;
DROP OWNED BY regress_cx_gone;
DROP ROLE regress_cx_gone;
SELECT name, owner FROM cxsell.analyses WHERE name = 'gone_set';
SELECT regress.err($$CALL cxsell.refresh('gone_set')$$);
SELECT cxsell.drop_rule_set('gone_set');
DROP TABLE ms_tenant;

SELECT regress.state('a_set');
SELECT cxsell.drop_rule_set('a_set');
SELECT cxsell.drop_rule_set('a_tree');
SELECT cxsell.drop_rule_set('b_set');
DELETE FROM cxsell.refresh_log;
DROP SCHEMA ms_a CASCADE;
DROP SCHEMA ms_b CASCADE;
DROP FUNCTION regress.attack_hook(text);
DROP FUNCTION regress.state(text);
DROP OWNED BY regress_cx_a, regress_cx_b, regress_cx_dashboard;
DROP ROLE regress_cx_a, regress_cx_b, regress_cx_dashboard, regress_cx_super;
DROP TABLE ms_secret, ms_stolen;
