-- managed rule sets and segmentations: definitions, refresh, views, log
CREATE TABLE mg_lines (basket int, item text, customer text);
INSERT INTO mg_lines VALUES
  (1, 'A', 'ann'), (1, 'B', 'ann'), (2, 'A', 'ann'), (2, 'B', 'ann'), (3, 'A', 'bob'),
  (3, 'C', 'bob'), (4, 'C', 'bob'), (4, 'D', 'bob'), (5, 'C', 'cy'), (5, 'D', 'cy'),
  (6, 'C', 'cy'), (7, 'C', 'dan'), (8, 'C', 'dan'), (8, 'A', 'dan'), (9, 'D', 'eve'),
  (10, 'B', 'eve');
CREATE TABLE mg_fail (ok int);   -- empty: the failing query below divides by zero
CREATE TABLE mg_usage AS
SELECT c AS customer, ARRAY[c % 3 * 10 + c % 2, c % 3 * 10]::float8[] AS features
FROM generate_series(1, 30) c;

SELECT cxsell.create_rule_set('shop', 'SELECT basket, item, customer FROM mg_lines', 0.2,
                              recommendations => 2);
SELECT cxsell.create_rule_set('shop-nocust', 'SELECT basket, item FROM mg_lines', 0.2);
SELECT cxsell.create_segmentation('usage', 'SELECT customer, features FROM mg_usage', 3);
SELECT name, has_customer, min_support, recommendations, rank_by, owner = current_user AS mine
FROM cxsell.rule_sets ORDER BY name;

CALL cxsell.refresh('shop');
CALL cxsell.refresh('usage');
SELECT rule_set, antecedent, consequent, round(confidence::numeric, 4) AS confidence,
       round(lift::numeric, 4) AS lift, count
FROM cxsell.current_rules ORDER BY rule_set, confidence DESC, antecedent, consequent;
SELECT rule_set, items, count FROM cxsell.current_itemsets ORDER BY size, items;
SELECT rule_set, item_a, item_b, observed, relation FROM cxsell.current_item_pairs ORDER BY 1, 2, 3;
-- the same as cxsell.recommend over each customer's items
SELECT customer, rank, item, round(score::numeric, 4) AS score, antecedent, source
FROM cxsell.current_recommendations ORDER BY customer, rank;
SELECT segment, size, centroid FROM cxsell.current_segment_profiles ORDER BY segment;
SELECT segment, count(*) FROM cxsell.current_segments GROUP BY segment ORDER BY segment;
SELECT kind, name, last_status, last_rows_written, last_error, age >= interval '0' AS has_age
FROM cxsell.refresh_status ORDER BY name;

-- refresh_all refreshes every analysis
CALL cxsell.refresh_all();
SELECT name, count(*) AS runs, bool_and(status = 'success') AS ok,
       bool_and(duration >= interval '0' AND finished_at >= started_at) AS timed,
       bool_and(run_by = current_user AND owner = current_user) AS run_by,
       bool_and(pid = pg_backend_pid()) AS pid
FROM cxsell.refresh_history GROUP BY name ORDER BY name;
SELECT parameters->>'min_support' AS min_support, parameters->>'source_query' AS query
FROM cxsell.refresh_history WHERE name = 'shop' ORDER BY id LIMIT 1;
-- the definitions as readers see them
SELECT kind, name, source_query, parameters, settings ? 'TimeZone' AS has_settings
FROM cxsell.analyses ORDER BY name;

-- a refresh that fails half-way leaves the previous result and logs the error
SELECT cxsell.alter_rule_set('shop',
  source_query => 'SELECT basket, item, customer FROM mg_lines WHERE 1 / (SELECT count(*) FROM mg_fail) = 1');
\set VERBOSITY terse
CALL cxsell.refresh('shop');
\set VERBOSITY default
SELECT count(*) AS rules_kept FROM cxsell.current_rules WHERE rule_set = 'shop';
SELECT count(*) AS recommendations_kept FROM cxsell.current_recommendations WHERE rule_set = 'shop';
SELECT name, last_status, last_error, last_success_at IS NOT NULL AS had_success
FROM cxsell.refresh_status WHERE name = 'shop';
-- fixed: the next refresh succeeds
INSERT INTO mg_fail VALUES (1);
CALL cxsell.refresh('shop');
SELECT name, last_status, last_error FROM cxsell.refresh_status WHERE name = 'shop';

-- thresholds change what is stored
SELECT cxsell.alter_rule_set('shop', min_confidence => 0.6);
CALL cxsell.refresh('shop');
SELECT antecedent, consequent FROM cxsell.current_rules WHERE rule_set = 'shop' ORDER BY 1, 2;

-- definition errors
SELECT regress.err($$SELECT cxsell.create_rule_set('shop', 'SELECT basket, item FROM mg_lines', 0.2)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('usage', 'SELECT basket, item FROM mg_lines', 0.2)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('bad name', 'SELECT basket, item FROM mg_lines', 0.2)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('x', 'SELECT basket FROM mg_lines', 0.2)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('x', 'SELECT basket, item FROM no_such_table', 0.2)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('x', 'SELEC basket, item FROM mg_lines', 0.2)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('x', '', 0.2)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('x', 'SELECT basket, item FROM mg_lines', 0)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('x', 'SELECT basket, item FROM mg_lines', 0.2, recommendations => 0)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('x', 'SELECT basket, item FROM mg_lines', 0.2, rank_by => 'x')$$);
SELECT regress.err($$SELECT cxsell.create_segmentation('y', 'SELECT customer, features FROM mg_usage', 0)$$);
SELECT regress.err($$SELECT cxsell.create_segmentation('y', 'SELECT customer, features FROM mg_usage', 3, '{"sede": 1}')$$);
SELECT regress.err($$SELECT cxsell.create_segmentation('y', 'SELECT customer FROM mg_usage', 3)$$);
SELECT regress.err($$SELECT cxsell.create_segmentation('y', 'SELECT customer, ''x''::text AS features FROM mg_usage', 3)$$);
-- the source query is exactly one SELECT that writes nothing
SELECT regress.err($$SELECT cxsell.create_rule_set('x', 'SELECT basket, item FROM mg_lines; DELETE FROM mg_lines', 0.2)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('x', 'DELETE FROM mg_lines RETURNING basket, item', 0.2)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('x', 'WITH d AS (DELETE FROM mg_lines RETURNING *) SELECT basket, item FROM d', 0.2)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('x', 'SELECT basket, item FROM mg_lines FOR UPDATE', 0.2)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('x', 'SELECT basket, item INTO mg_copy FROM mg_lines', 0.2)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('x', 'SELECT basket, item FROM mg_lines) AS q; SELECT (1', 0.2)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('x', 'SELECT basket, item FROM mg_lines /*', 0.2)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('x', 'SELECT basket, item, basket AS item FROM mg_lines', 0.2)$$);
SELECT regress.err($$SELECT cxsell.create_rule_set('x', 'VALUES (1, ''a'')', 0.2)$$);
-- a trailing semicolon or comment is fine: the statement is what is run
SELECT cxsell.create_rule_set('x', 'SELECT basket, item FROM mg_lines; -- all lines', 0.2);
SELECT cxsell.alter_rule_set('x', source_query => 'TABLE mg_lines');
CALL cxsell.refresh('x');
SELECT last_status, last_rows_written FROM cxsell.refresh_status WHERE name = 'x';
SELECT cxsell.drop_rule_set('x');
SELECT regress.err($$SELECT cxsell.alter_rule_set('nope', min_support => 0.1)$$);
SELECT regress.err($$SELECT cxsell.drop_segmentation('nope')$$);
SELECT regress.err($$CALL cxsell.refresh('nope')$$);

-- a rule set may store only the rules no more general rule matches; its
-- bundles are those of its itemsets
CREATE TABLE mg_bundle_lines (basket int, item text);
INSERT INTO mg_bundle_lines VALUES
  (1, 'A'), (1, 'B'), (1, 'C'), (2, 'A'), (2, 'B'), (2, 'C'),
  (3, 'A'), (3, 'B'), (4, 'A'), (4, 'D'), (5, 'B'), (5, 'D');
SELECT cxsell.create_rule_set('lean', 'TABLE mg_bundle_lines', 0.4);
SELECT redundant, basis FROM cxsell.rule_sets WHERE name = 'lean';
SELECT cxsell.set_rule_set_rules('lean', redundant => false);
CALL cxsell.refresh('lean');
SELECT antecedent, consequent FROM cxsell.current_rules WHERE rule_set = 'lean'
EXCEPT
SELECT antecedent, consequent FROM cxsell.rules((SELECT cxsell.mine(basket, item, 0.4) FROM mg_bundle_lines),
                                                redundant => false);
SELECT count(*) AS rules, (SELECT parameters->'redundant' FROM cxsell.refresh_history
                           WHERE name = 'lean' ORDER BY id DESC LIMIT 1) AS logged,
       (SELECT parameters->'redundant' FROM cxsell.analyses WHERE name = 'lean') AS defined
FROM cxsell.current_rules WHERE rule_set = 'lean';
SELECT rule_set, items, count, lift FROM cxsell.current_bundles WHERE rule_set = 'lean';
SELECT cxsell.set_rule_set_rules('lean', redundant => true);
CALL cxsell.refresh('lean');
SELECT count(*) AS rules FROM cxsell.current_rules WHERE rule_set = 'lean';
SELECT cxsell.set_rule_set_rules('lean', basis => true);
CALL cxsell.refresh('lean');
SELECT antecedent, consequent FROM cxsell.current_rules WHERE rule_set = 'lean'
EXCEPT
SELECT antecedent, consequent FROM cxsell.rules((SELECT cxsell.mine(basket, item, 0.4) FROM mg_bundle_lines),
                                                basis => true);
SELECT count(*) AS rules FROM cxsell.current_rules WHERE rule_set = 'lean';
SELECT cxsell.set_rule_set_rules('lean');   -- NULL keeps a setting
SELECT cxsell.alter_rule_set('lean', min_lift => 1);
SELECT redundant, basis FROM cxsell.rule_sets WHERE name = 'lean';
SELECT regress.err($$SELECT cxsell.set_rule_set_rules('nope', basis => true)$$);
SELECT cxsell.drop_rule_set('lean');
DROP TABLE mg_bundle_lines;

-- a rule set over a hierarchy, with weights: its source query returns the
-- items' ancestors and the lines' revenue as columns ancestors and weight
CREATE TABLE mg_tree_lines (basket int, customer text, item text, ancestors text[], revenue float8);
INSERT INTO mg_tree_lines VALUES
  (1, 'c1', 'milk', '{dairy*,fresh*}', 2), (1, 'c1', 'bread', '{bakery*,fresh*}', 1),
  (2, 'c2', 'milk', '{dairy*,fresh*}', 1), (2, 'c2', 'rolls', '{bakery*,fresh*}', 3),
  (3, 'c3', 'yogurt', '{dairy*,fresh*}', 5), (3, 'c3', 'bread', '{bakery*,fresh*}', 1),
  (4, 'c4', 'beer', '{drinks*,bev*}', 2), (4, 'c4', 'soda', '{drinks*,bev*}', 1),
  (5, 'c5', 'milk', '{dairy*,fresh*}', 1), (5, 'c5', 'beer', '{drinks*,bev*}', 4),
  (6, 'c6', 'yogurt', '{dairy*,fresh*}', 1), (6, 'c6', 'rolls', '{bakery*,fresh*}', 1);
SELECT cxsell.create_rule_set('tree',
  'SELECT basket, customer, item, ancestors, revenue AS weight FROM mg_tree_lines', 0.3);
CALL cxsell.refresh('tree');
SELECT item, parent, item_count FROM cxsell.current_hierarchy WHERE rule_set = 'tree' ORDER BY 1, 2;
-- the stored rules, bundles and recommendations are those of the value
-- mined over the hierarchy with the weights
CREATE TABLE mg_tree_p AS
SELECT cxsell.mine(basket, item, 0.3, 0, ancestors, revenue) AS p FROM mg_tree_lines;
SELECT (SELECT count(*) FROM cxsell.current_rules WHERE rule_set = 'tree') AS stored,
       (SELECT count(*) FROM (SELECT antecedent, consequent, support, confidence
                              FROM cxsell.current_rules WHERE rule_set = 'tree'
                              EXCEPT
                              SELECT antecedent, consequent, support, confidence
                              FROM mg_tree_p, cxsell.rules(p)) d) AS not_of_value;
SELECT items, count, round(support::numeric, 4) AS support, weight
FROM cxsell.current_bundles WHERE rule_set = 'tree';
-- c1 holds milk and bread, and so dairy*, bakery* and fresh*: the rules over
-- them fire; the offers are products, never categories
SELECT customer, rank, item, source FROM cxsell.current_recommendations
WHERE rule_set = 'tree' AND customer IN ('c1', 'c4') ORDER BY customer, rank;
-- rules interesting against their ancestors only
SELECT cxsell.set_rule_set_interest('tree', 1.1);
CALL cxsell.refresh('tree');
SELECT antecedent, consequent FROM cxsell.current_rules WHERE rule_set = 'tree'
EXCEPT
SELECT antecedent, consequent FROM mg_tree_p, cxsell.rules(p, ancestor_interest => 1.1);
SELECT count(*) AS rules, (SELECT parameters->'ancestor_interest' FROM cxsell.analyses
                           WHERE name = 'tree') AS defined,
       (SELECT parameters->'ancestor_interest' FROM cxsell.refresh_history
        WHERE name = 'tree' ORDER BY id DESC LIMIT 1) AS logged
FROM cxsell.current_rules WHERE rule_set = 'tree';
SELECT regress.err($$SELECT cxsell.set_rule_set_interest('tree', -1)$$);
SELECT regress.err($$SELECT cxsell.set_rule_set_interest('tree', 'NaN')$$);
SELECT regress.err($$SELECT cxsell.set_rule_set_interest('nope', 1.1)$$);
SELECT cxsell.set_rule_set_interest('tree', NULL);
CALL cxsell.refresh('tree');
SELECT count(*) AS every_rule FROM cxsell.current_rules WHERE rule_set = 'tree';
-- a weight that is no number, ancestors that are no list: the refresh says so
SELECT cxsell.alter_rule_set('tree', source_query =>
  'SELECT basket, item, ancestors[1] AS ancestors FROM mg_tree_lines');
CALL cxsell.refresh('tree');
SELECT last_status, last_error FROM cxsell.refresh_status WHERE name = 'tree';
SELECT cxsell.alter_rule_set('tree', source_query =>
  'SELECT basket, item, -revenue AS weight FROM mg_tree_lines');
CALL cxsell.refresh('tree');
SELECT last_status, last_error FROM cxsell.refresh_status WHERE name = 'tree';
SELECT cxsell.drop_rule_set('tree');
DROP TABLE mg_tree_lines, mg_tree_p;

-- the drift of a rule set's rules between its last two refreshes: nothing
-- before a second refresh; then the rules of either refresh compared
CREATE TABLE mg_drift_lines AS
SELECT b AS basket, i AS item FROM generate_series(1, 40) b, unnest(ARRAY['A', 'B', 'C']) i
WHERE i <> 'C' OR b % 2 = 0;
SELECT cxsell.create_rule_set('drift', 'TABLE mg_drift_lines', 0.2, min_confidence => 0.3);
CALL cxsell.refresh('drift');
SELECT count(*) AS before_a_second_refresh FROM cxsell.current_rule_drift WHERE rule_set = 'drift';
CREATE TABLE mg_drift_before AS SELECT patterns FROM cxsell.rule_set_patterns WHERE name = 'drift';
DELETE FROM mg_drift_lines WHERE item = 'B' AND basket % 4 = 0;   -- B leaves half of C's baskets
INSERT INTO mg_drift_lines SELECT b, 'D' FROM generate_series(1, 20) b;
CALL cxsell.refresh('drift');
SELECT antecedent, consequent, count_before, count_after, round(confidence_change::numeric, 3) AS change,
       status, previous_refreshed_at < refreshed_at AS in_order
FROM cxsell.current_rule_drift WHERE rule_set = 'drift' ORDER BY antecedent, consequent;
-- the view is rule_drift over the kept patterns, at the rule set's thresholds
SELECT count(*) AS not_of_rule_drift FROM (
  SELECT antecedent, consequent, status FROM cxsell.current_rule_drift WHERE rule_set = 'drift'
  EXCEPT
  SELECT d.antecedent, d.consequent, d.status
  FROM mg_drift_before b, cxsell.rule_set_patterns p,
       cxsell.rule_drift(b.patterns, p.patterns, min_confidence => 0.3) d
  WHERE p.name = 'drift') x;
-- dropping the rule set drops its results, the previous ones with them
SELECT cxsell.drop_rule_set('drift');
DROP TABLE mg_drift_lines, mg_drift_before;

-- next-product sequences: a bank's accounts, opened over time.  The query
-- returns the holdings as baskets for the basket rules, and customer and
-- at for the sequences, mined once a window is set
CREATE TABLE mg_accounts (customer text, product text, opened date);
INSERT INTO mg_accounts VALUES
  ('c1', 'checking', '2024-01-01'), ('c1', 'savings', '2024-02-01'), ('c1', 'card', '2024-03-01'),
  ('c2', 'checking', '2024-01-05'), ('c2', 'savings', '2024-01-20'),
  ('c3', 'checking', '2024-01-01'), ('c3', 'savings', '2024-06-01'),
  ('c4', 'checking', '2024-01-01'), ('c4', 'savings', '2024-01-01'), ('c4', 'card', '2024-02-01'),
  ('c5', 'savings', '2024-03-01'), ('c5', 'card', '2024-04-01'),
  ('c6', 'checking', '2024-04-01');
SELECT cxsell.create_rule_set('bank',
  'SELECT customer AS basket, product AS item, customer, opened AS at FROM mg_accounts', 0.2,
  recommendations => 2);
CALL cxsell.refresh('bank');
SELECT count(*) AS no_sequences_yet FROM cxsell.current_sequence_rules WHERE rule_set = 'bank';
SELECT cxsell.set_rule_set_sequences('bank', '90 days');
SELECT parameters->>'sequence_within' AS within FROM cxsell.analyses WHERE name = 'bank';
CALL cxsell.refresh('bank');
SELECT antecedent, consequent, customers, antecedent_customers, round(confidence::numeric, 4) AS confidence,
       round(lift::numeric, 4) AS lift, median_gap
FROM cxsell.current_sequence_rules WHERE rule_set = 'bank' ORDER BY antecedent, consequent;
SELECT customer, rank, item, antecedent, median_gap, source
FROM cxsell.current_next_recommendations WHERE rule_set = 'bank' ORDER BY customer, rank;
-- the views are the readers over the value mined from the same rows
CREATE TABLE mg_bank_s AS
SELECT cxsell.mine_sequences(customer, opened, product, 0.2, 0, interval '90 days') AS s FROM mg_accounts;
SELECT (SELECT count(*) FROM (
          SELECT antecedent, consequent, support, confidence, lift, median_gap
          FROM cxsell.current_sequence_rules WHERE rule_set = 'bank'
          EXCEPT SELECT antecedent, consequent, support, confidence, lift, median_gap
          FROM mg_bank_s, cxsell.sequence_rules(s)) d) AS rules_not_of_value,
       (SELECT count(*) FROM (
          SELECT customer, rank, item, confidence, antecedent, source
          FROM cxsell.current_next_recommendations WHERE rule_set = 'bank'
          EXCEPT SELECT h.customer, x.rank, x.item, x.confidence, x.antecedent, x.source
          FROM mg_bank_s, (SELECT customer, array_agg(product ORDER BY opened, product) AS items,
                                  array_agg(opened ORDER BY opened, product) AS times
                           FROM mg_accounts GROUP BY customer) h,
               cxsell.recommend_next(s, h.items, h.times, 2) x) d) AS recommendations_not_of_value;
-- windows that do not fit, and queries without a time
SELECT regress.err($$SELECT cxsell.set_rule_set_sequences('bank', 'soon')$$);
SELECT regress.err($$SELECT cxsell.set_rule_set_sequences('bank', '-3 days')$$);
SELECT regress.err($$SELECT cxsell.set_rule_set_sequences('bank', '0')$$);
SELECT regress.err($$SELECT cxsell.set_rule_set_sequences('bank', '30')$$);
SELECT regress.err($$SELECT cxsell.set_rule_set_sequences('bank', '12 hours')$$);
SELECT regress.err($$SELECT cxsell.set_rule_set_sequences('shop', '90 days')$$);
SELECT regress.err($$SELECT cxsell.set_rule_set_sequences('nope', '90 days')$$);
SELECT regress.err($$SELECT cxsell.alter_rule_set('bank', source_query =>
  'SELECT customer AS basket, product AS item, customer FROM mg_accounts')$$);
SELECT regress.err($$SELECT cxsell.alter_rule_set('bank', source_query =>
  'SELECT customer AS basket, product AS item, customer, product AS at FROM mg_accounts')$$);
-- integer times take an integer window
SELECT regress.err($$SELECT cxsell.alter_rule_set('bank', source_query =>
  'SELECT customer AS basket, product AS item, customer, opened - date ''2024-01-01'' AS at FROM mg_accounts')$$);
SELECT cxsell.set_rule_set_sequences('bank', NULL);
SELECT cxsell.alter_rule_set('bank', source_query =>
  'SELECT customer AS basket, product AS item, customer, opened - date ''2024-01-01'' AS at FROM mg_accounts');
SELECT cxsell.set_rule_set_sequences('bank', '90');
CALL cxsell.refresh('bank');
SELECT count(*) AS same_rules_by_day_numbers FROM cxsell.current_sequence_rules r, mg_bank_s m,
  cxsell.sequence_rules(m.s) x
WHERE r.rule_set = 'bank' AND r.antecedent = x.antecedent AND r.consequent = x.consequent
  AND r.confidence = x.confidence AND r.median_gap = x.median_gap;
-- no window: no sequences at the next refresh
SELECT cxsell.set_rule_set_sequences('bank', NULL);
CALL cxsell.refresh('bank');
SELECT (SELECT count(*) FROM cxsell.current_sequence_rules WHERE rule_set = 'bank') AS rules,
       (SELECT count(*) FROM cxsell.current_next_recommendations WHERE rule_set = 'bank') AS offers,
       (SELECT count(*) FROM cxsell.current_rules WHERE rule_set = 'bank') > 0 AS basket_rules;
SELECT cxsell.drop_rule_set('bank');
DROP TABLE mg_accounts, mg_bank_s;

-- dropping a definition drops its results, not its log
SELECT cxsell.drop_rule_set('shop');
SELECT count(*) FROM cxsell.current_rules WHERE rule_set = 'shop';
SELECT count(*) > 0 AS log_kept FROM cxsell.refresh_log WHERE name = 'shop';
SELECT cxsell.drop_rule_set('shop-nocust');
SELECT cxsell.drop_segmentation('usage');
SELECT count(*) FROM cxsell.refresh_status;
