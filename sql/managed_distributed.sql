-- rule sets defined on a table (cxsell.create_distributed_rule_set): on a
-- table Citus distributes they mine on the workers; on a local table, as
-- here, cxsell.mine_distributed is cxsell.mine, so the whole refresh path
-- runs.  test/t/010_citus.pl runs them on a cluster.
CREATE TABLE md_lines (basket int, item int, shopper text, note text);
INSERT INTO md_lines
SELECT b, (ARRAY[1, 2, 3, 10, 20, 30, 40])[1 + (b * k + b / 7) % 7], 'c' || b % 20, 'x'
FROM generate_series(1, 60) b, generate_series(1, 3) k;
CREATE ROLE regress_md_owner;
CREATE ROLE regress_md_other;
-- the README's grants
GRANT USAGE ON SCHEMA cxsell TO regress_md_owner, regress_md_other;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA cxsell TO regress_md_owner, regress_md_other;
GRANT SELECT ON cxsell.analyses, cxsell.current_rules, cxsell.current_recommendations
  TO regress_md_owner, regress_md_other;
GRANT USAGE ON SCHEMA regress TO regress_md_owner, regress_md_other;
GRANT SELECT ON md_lines TO regress_md_owner;

SET ROLE regress_md_owner;
SELECT cxsell.create_distributed_rule_set('md', 'md_lines', 'basket', 'item', 0.1,
                                          customer => 'shopper', recommendations => 2);
SELECT cxsell.create_distributed_rule_set('md-filtered', 'md_lines', 'basket', 'item', 0.1,
                                          filter => 'item < 20', max_len => 2);
SELECT kind, name, owner, source_query, parameters->'distributed' AS distributed
FROM cxsell.analyses WHERE name LIKE 'md%' ORDER BY name;
CALL cxsell.refresh('md');
CALL cxsell.refresh('md-filtered');
-- the stored patterns are cxsell.mine_distributed's value, byte for byte
RESET ROLE;
SELECT (SELECT patterns FROM cxsell.rule_set_patterns WHERE name = 'md')::text
       = (SELECT cxsell.mine(basket, item, 0.1)::text FROM md_lines) AS patterns_same,
       (SELECT patterns FROM cxsell.rule_set_patterns WHERE name = 'md-filtered')::text
       = (SELECT cxsell.mine(basket, item, 0.1, 2)::text FROM md_lines WHERE item < 20) AS filtered_same;
SET ROLE regress_md_owner;
-- rules and recommendations as cxsell.rules and cxsell.recommend give them
SELECT count(*) AS rules,
       count(*) = (SELECT count(*) FROM cxsell.rules((SELECT cxsell.mine(basket, item, 0.1) FROM md_lines))) AS same_count
FROM cxsell.current_rules WHERE rule_set = 'md';
SELECT r.customer, r.rank, r.item, r.item = x.item AS same
FROM cxsell.current_recommendations r
JOIN (SELECT shopper, array_agg(DISTINCT item::text) AS held FROM md_lines GROUP BY shopper) h
  ON h.shopper = r.customer,
LATERAL cxsell.recommend((SELECT cxsell.mine(basket, item, 0.1) FROM md_lines), h.held, 2,
                         'confidence', 0, 1) x
WHERE r.rule_set = 'md' AND x.rank = r.rank
ORDER BY 1, 2;
SELECT (SELECT count(*) FROM cxsell.current_recommendations WHERE rule_set = 'md')
       = (SELECT count(*)
          FROM (SELECT shopper, array_agg(DISTINCT item::text) AS held FROM md_lines GROUP BY shopper) h,
          LATERAL cxsell.recommend((SELECT cxsell.mine(basket, item, 0.1) FROM md_lines), h.held, 2,
                                   'confidence', 0, 1) x) AS every_recommendation;
-- a new source query makes it an ordinary rule set
SELECT cxsell.alter_rule_set('md-filtered', source_query => 'SELECT basket, item FROM md_lines');
SELECT name, parameters ? 'distributed' AS distributed FROM cxsell.analyses WHERE name LIKE 'md%' ORDER BY 1;
RESET ROLE;

-- a segmentation defined on a table: fitted with kmeans_distributed (on a
-- local table, cxsell.kmeans over the same rows), each customer assigned
RESET ROLE;
CREATE TABLE md_usage AS
SELECT 'u' || g AS who, ARRAY[g % 4 * 10 + g % 3, g % 4 * 5]::float8[] AS usage, g % 5 = 0 AS trial
FROM generate_series(1, 80) g;
INSERT INTO md_usage VALUES (NULL, '{1,1}', false), ('u0', NULL, false);
GRANT SELECT ON md_usage TO regress_md_owner;
SET ROLE regress_md_owner;
SELECT cxsell.create_distributed_segmentation('md-seg', 'md_usage', 'who', 'usage', 4,
                                              '{"seed": 3}', filter => 'NOT trial');
SELECT kind, name, source_query, parameters->'distributed' AS distributed
FROM cxsell.analyses WHERE name = 'md-seg';
CALL cxsell.refresh('md-seg');
RESET ROLE;
SELECT (SELECT model FROM cxsell.segmentation_models WHERE name = 'md-seg')::text
       = (SELECT cxsell.kmeans(usage, 4, '{"seed": 3}')::text FROM md_usage
          WHERE who IS NOT NULL AND NOT trial) AS model_same,
       (SELECT count(*) FROM cxsell.segment_assignments WHERE name = 'md-seg') AS assigned,
       (SELECT bool_and(a.segment = cxsell.cluster(m.model, u.usage)
                        AND a.distance = cxsell.cluster_distance(m.model, u.usage))
        FROM cxsell.segment_assignments a
        JOIN md_usage u ON u.who = a.customer,
             cxsell.segmentation_models m
        WHERE a.name = 'md-seg' AND m.name = 'md-seg') AS assignments_same;
SET ROLE regress_md_owner;
SELECT regress.err($$SELECT cxsell.create_distributed_segmentation('md-seg2', 'md_usage', 'who', 'trial', 4)$$);
SELECT regress.err($$SELECT cxsell.create_distributed_segmentation('md-seg2', 'md_usage', NULL, 'usage', 4)$$);
SELECT regress.err($$SELECT cxsell.create_distributed_segmentation('md-seg2', 'md_usage', 'who', 'usage', 0)$$);
SELECT cxsell.drop_segmentation('md-seg');
RESET ROLE;
SET ROLE regress_md_owner;

-- bad definitions, each with its error
SET ROLE regress_md_other;
-- no SELECT on the table: refused when defined, as the caller
SELECT regress.err($$SELECT cxsell.create_distributed_rule_set('md2', 'md_lines', 'basket', 'item', 0.1)$$);
-- another role's rule set: neither refreshed nor altered
SELECT regress.err($$CALL cxsell.refresh('md')$$);
RESET ROLE;
SET ROLE regress_md_owner;
SELECT regress.err($$SELECT cxsell.create_distributed_rule_set('md2', 'md_lines', 'basket', 'nope', 0.1)$$);
SELECT regress.err($$SELECT cxsell.create_distributed_rule_set('md2', 'md_lines', NULL, 'item', 0.1)$$);
SELECT regress.err($$SELECT cxsell.create_distributed_rule_set('md2', 'md_lines', 'basket', 'item', 2)$$);
SELECT regress.err($$SELECT cxsell.create_distributed_rule_set('md', 'md_lines', 'basket', 'item', 0.1)$$);
SELECT regress.err($$SELECT cxsell.create_distributed_rule_set('md2', 'md_lines', 'basket', 'item', 0.1,
  filter => 'true); DELETE FROM md_lines; SELECT (1')$$);
SELECT regress.err($$SELECT cxsell.create_distributed_rule_set('md2', 'no_such_table', 'basket', 'item', 0.1)$$);
CREATE TEMP TABLE md_temp (basket int, item int);
SELECT regress.err($$SELECT cxsell.create_distributed_rule_set('md2', 'md_temp', 'basket', 'item', 0.1)$$);
-- a filter reading what the owner may not read fails at definition
SELECT regress.err($$SELECT cxsell.create_distributed_rule_set('md2', 'md_lines', 'basket', 'item', 0.1,
  filter => 'basket IN (SELECT oid::int FROM pg_authid)')$$);
SELECT count(*) AS md_lines_kept FROM md_lines;
DROP TABLE md_temp;
-- a filter that takes a role: defined (the check reads no row), refused
-- when a refresh runs it, and the refresh is logged as failed
SELECT cxsell.create_distributed_rule_set('md-role', 'md_lines', 'basket', 'item', 0.1,
  filter => 'set_config(''role'', ''postgres'', true) IS NOT NULL');
RESET ROLE;
CALL cxsell.refresh('md-role');
SELECT name, last_status, last_error FROM cxsell.refresh_status WHERE name = 'md-role';
SELECT cxsell.drop_rule_set('md-role');
-- a function of the owner's, harmless when the rule set is defined, then
-- made to take a superuser's role: the superuser's refresh runs it as the
-- owner, in a security-restricted operation, and it is refused
CREATE SCHEMA md_owned AUTHORIZATION regress_md_owner;
SET ROLE regress_md_owner;
CREATE FUNCTION md_owned.keep(i int) RETURNS boolean LANGUAGE sql AS 'SELECT true';
SELECT cxsell.create_distributed_rule_set('md-planted', 'md_lines', 'basket', 'item', 0.1,
                                          filter => 'md_owned.keep(item)');
CREATE OR REPLACE FUNCTION md_owned.keep(i int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('role', 'postgres', true);
  RETURN true;
END $$;
RESET ROLE;
CALL cxsell.refresh('md-planted');
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_md_owner';
SELECT name, last_status, last_error FROM cxsell.refresh_status WHERE name = 'md-planted';
SELECT cxsell.drop_rule_set('md-planted');
DROP SCHEMA md_owned CASCADE;

SELECT cxsell.drop_rule_set(name) FROM cxsell.rule_sets WHERE name LIKE 'md%' ORDER BY name;
REVOKE ALL ON md_lines, md_usage FROM regress_md_owner;
REVOKE ALL ON ALL ROUTINES IN SCHEMA cxsell FROM regress_md_owner, regress_md_other;
REVOKE ALL ON cxsell.analyses, cxsell.current_rules, cxsell.current_recommendations
  FROM regress_md_owner, regress_md_other;
REVOKE USAGE ON SCHEMA cxsell FROM regress_md_owner, regress_md_other;
REVOKE USAGE ON SCHEMA regress FROM regress_md_owner, regress_md_other;
DROP ROLE regress_md_owner;
DROP ROLE regress_md_other;
