-- item hierarchies (generalised itemsets and rules) and weighted support: a
-- worked example, every bad input, and randomised checks against the
-- definitions applied in plain SQL to baskets extended with their items'
-- ancestors.

-- six baskets; milk and yogurt are dairy*, bread and rolls bakery*, both
-- fresh*; beer and soda are drinks*, under bev*
CREATE TABLE hw_cat (item text, sub text, dept text);
INSERT INTO hw_cat VALUES ('milk', 'dairy*', 'fresh*'), ('yogurt', 'dairy*', 'fresh*'),
  ('bread', 'bakery*', 'fresh*'), ('rolls', 'bakery*', 'fresh*'),
  ('beer', 'drinks*', 'bev*'), ('soda', 'drinks*', 'bev*');
CREATE TABLE hw_lines (basket int, item text, revenue float8);
INSERT INTO hw_lines VALUES (1, 'milk', 2), (1, 'bread', 1), (2, 'milk', 1), (2, 'rolls', 3),
  (3, 'yogurt', 5), (3, 'bread', 1), (4, 'beer', 2), (4, 'soda', 1), (5, 'milk', 1),
  (5, 'beer', 4), (6, 'yogurt', 1), (6, 'rolls', 1);
CREATE TABLE hw_p AS
SELECT cxsell.mine(l.basket, l.item, 0.3, 0, ARRAY[c.sub, c.dept]) AS h,
       cxsell.mine(l.basket, l.item, 0.3, 0, l.revenue) AS w,
       cxsell.mine(l.basket, l.item, 0.3, 0, ARRAY[c.sub, c.dept], l.revenue) AS hw
FROM hw_lines l JOIN hw_cat c USING (item);

-- the hierarchy between frequent items: soda (1 basket) is not
SELECT x.* FROM hw_p, cxsell.hierarchy(h) x ORDER BY item;
-- itemsets of any level; never an item with its ancestor ({milk, dairy*})
SELECT items, count, round(support::numeric, 4) AS support FROM hw_p, cxsell.itemsets(h);
-- {bakery*} -> {dairy*}: 4 of 4; {dairy*} -> {bakery*}: 4 of 5
SELECT antecedent, consequent, count, round(confidence::numeric, 4) AS confidence,
       round(lift::numeric, 4) AS lift
FROM hw_p, cxsell.rules(h) ORDER BY antecedent, consequent;
-- R-interesting with R = 1.1: {bread} -> {dairy*} is what {bakery*} -> {dairy*}
-- leads to expect (support 4/6 * 2/4, confidence 1), so it goes; {yogurt} ->
-- {bakery*} (confidence 1 against 0.8 expected from {dairy*} -> {bakery*}) stays
SELECT antecedent, consequent FROM hw_p, cxsell.rules(h, ancestor_interest => 1.1)
ORDER BY antecedent, consequent;
-- holding milk is holding dairy* and fresh*: {dairy*} -> {bread} fires; the
-- offers are products, never categories
SELECT rank, item, round(confidence::numeric, 4) AS confidence, antecedent, source
FROM hw_p, cxsell.recommend(h, ARRAY['milk'], 3);
-- pairs of departments, of categories: never an item and its ancestor
SELECT item_a, item_b, observed, round(expected::numeric, 4) AS expected, relation
FROM hw_p, cxsell.item_pairs(h, depth => 0);
SELECT item_a, item_b, observed FROM hw_p, cxsell.item_pairs(h, depth => 1);
SELECT count(*) AS pairs_of_any_depth FROM hw_p, cxsell.item_pairs(h);

-- weights: revenue 23 in all; milk's baskets (1, 2, 5) take 3 + 4 + 5 = 12
SELECT items, count, round(support::numeric, 6) AS support,
       round((support * 23)::numeric, 6) AS revenue
FROM hw_p, cxsell.itemsets(w);
-- the weighted measures: {bread} -> {yogurt} by revenue 6 / 8 and 6 / 8
SELECT antecedent, consequent, count, round(support::numeric, 6) AS support,
       round(confidence::numeric, 6) AS confidence, round(lift::numeric, 6) AS lift
FROM cxsell.rules((SELECT cxsell.mine(basket, item, 0.1, 0, revenue) FROM hw_lines))
WHERE antecedent = '{bread}' ORDER BY consequent;
-- bundles by weighted lift, with their revenue; any itemset's revenue; a
-- value without weights has none, nor has an itemset that is not frequent
CREATE TABLE hw_w AS SELECT cxsell.mine(basket, item, 0.1, 0, revenue) AS p FROM hw_lines;
SELECT items, count, round(lift::numeric, 6) AS lift, cxsell.itemset_weight(p, items) AS revenue
FROM hw_w, cxsell.bundles(p);
SELECT cxsell.itemset_weight(p, '{yogurt,bread}') AS yogurt_bread,
       cxsell.itemset_weight(p, '{bread,yogurt,bread,NULL}') AS named_twice,
       cxsell.itemset_weight(p, '{bread,rolls}') AS not_frequent,
       cxsell.itemset_weight(p, '{caviar}') AS unknown,
       cxsell.itemset_weight(p, '{}') AS empty,
       cxsell.itemset_weight((SELECT cxsell.mine(basket, item, 0.1) FROM hw_lines), '{bread}') AS unweighted
FROM hw_w;
SELECT regress.err($$SELECT cxsell.itemset_weight(p, '{{bread}}') FROM hw_w$$);
-- hierarchy and weights together: fresh* holds every basket but 4 (revenue 3)
SELECT items, count, round((support * 23)::numeric, 6) AS revenue
FROM hw_p, cxsell.itemsets(hw) WHERE size = 1 ORDER BY items;
-- the array form takes a weight per basket
SELECT items, count, round(support::numeric, 4) AS support
FROM cxsell.itemsets((SELECT cxsell.mine(items, 0.5, 0, w)
                      FROM (VALUES (ARRAY['a', 'b'], 3.0), (ARRAY['a'], 1.0), (ARRAY['b'], 0.0),
                                   (ARRAY[NULL::text], 100.0)) v(items, w)));
-- a value round-trips through text, and is a version 2 value
SELECT h::text::cxsell.patterns::text = h::text AND hw::text::cxsell.patterns::text = hw::text
       AS round_trip,
       substr(h::text, 1, 10) AS h_start, substr((SELECT cxsell.mine(basket, item, 0.3) FROM hw_lines)::text, 1, 10) AS plain_start
FROM hw_p;

-- an item with two parents (a hierarchy need not be a tree); NULL ancestors
-- are skipped; a NULL list makes an item without a parent
SELECT item, parent FROM cxsell.hierarchy((
  SELECT cxsell.mine(b, i, 0.1, 0, a) FROM (VALUES
    (1, 'x', ARRAY['c1', 'd']), (2, 'x', ARRAY['c2', NULL, 'd']), (2, 'y', NULL),
    (3, 'y', ARRAY[NULL::text])) v(b, i, a)))
ORDER BY 1, 2;

-- an item under two lists sharing a long chain; two items sharing one chain;
-- a value holding such a hierarchy, read again (the ancestors merged from
-- several parents once overran their buffer)
SELECT (cxsell.summary(cxsell.mine(b, i, 0.5, 2, anc))).itemsets FROM (VALUES
  (1, 'x', ARRAY['a', 'c1', 'c2', 'c3', 'c4', 'c5']), (1, 'x', ARRAY['b', 'c1', 'c2', 'c3', 'c4', 'c5'])) v(b, i, anc);
SELECT (cxsell.summary(cxsell.mine(b, i, 0.5, 2, ARRAY['s', 'c', 'd', 'e', 'f', 'g']))).itemsets
FROM (VALUES (1, 'p'), (2, 'q')) v(b, i);
CREATE TABLE hw_chain AS
SELECT cxsell.mine(b, i, 0.06, 2, anc) AS p
FROM (SELECT 1 AS b, 'x' AS i, ARRAY['a', 'c1', 'c2', 'c3', 'c4', 'c5'] AS anc
      UNION ALL SELECT 2, 'x', ARRAY['b', 'c1', 'c2', 'c3', 'c4', 'c5']
      UNION ALL SELECT 2 + g, 'u' || g, NULL FROM generate_series(1, 30) g) s;
SELECT (cxsell.summary(p)).itemsets, (SELECT string_agg(parent, ',' ORDER BY parent)
                                      FROM cxsell.hierarchy(p) WHERE item = 'x') AS parents_of_x
FROM hw_chain;
-- a chain of 3,000 levels: every pair of its items is related
SELECT s.* FROM cxsell.summary((SELECT cxsell.mine(1, 'x', 1.0, 2, ARRAY(SELECT 'c' || g FROM generate_series(1, 3000) g)))) s;
-- a bundle with an item of weight 0 has no lift: it is left out
SELECT items, lift FROM cxsell.bundles((SELECT cxsell.mine(b, i, 0.1, 3, w) FROM (VALUES
  (1, 'x', 0.0::float8), (1, 'y', 0.0), (2, 'p', 3.0), (2, 'q', 3.0), (3, 'r', 10.0), (4, 'x', 1),
  (5, 'p', 1)) v(b, i, w)));

-- a level repeated next to itself (as coalesce makes them) is one level
SELECT item, parent FROM cxsell.hierarchy((SELECT cxsell.mine(b, i, 0.1, 0, a) FROM (VALUES
  (1, 'x', ARRAY['cat', 'cat', 'dept']), (2, 'y', ARRAY['cat', NULL, 'cat'])) v(b, i, a)))
ORDER BY 1, 2;

-- bad input
SELECT cxsell.mine(basket, item, 0.3, 0, ARRAY[item]) FROM hw_lines;
SELECT cxsell.mine(b, i, 0.3, 0, a) FROM (VALUES (1, 'x', ARRAY['y']), (2, 'y', ARRAY['z']),
  (3, 'z', ARRAY['x'])) v(b, i, a);
SELECT cxsell.mine(basket, item, 0.3, 0, ARRAY[ARRAY['a', 'b']]) FROM hw_lines;
SELECT cxsell.mine(basket, item, 0.3, 0, -revenue) FROM hw_lines;
SELECT cxsell.mine(basket, item, 0.3, 0, 'NaN'::float8) FROM hw_lines;
SELECT cxsell.mine(basket, item, 0.3, 0, 'Infinity'::float8) FROM hw_lines;
SELECT cxsell.mine(basket, item, 0.3, 0, 1e19::float8) FROM hw_lines;
SELECT cxsell.mine(basket, item, 0.3, 0, NULL::float8) FROM hw_lines;
SELECT cxsell.mine(ARRAY[item], 0.3, 0, NULL) FROM hw_lines;
SELECT cxsell.mine(basket, 1, 0.3, 0, ARRAY['a']) FROM hw_lines;
SELECT * FROM hw_p, cxsell.rules(h, ancestor_interest => -1);
SELECT * FROM hw_p, cxsell.rules(h, ancestor_interest => NULL);
SELECT * FROM hw_p, cxsell.item_pairs(h, depth => -1);
-- a weight of 0 everywhere leaves nothing to take a share of
SELECT cxsell.mine(basket, item, 0.3, 0, 0.0) FROM hw_lines;
-- a rule whose antecedent or consequent weighs 0 has no confidence or no
-- lift (0 / 0): there is none
SELECT antecedent, consequent, confidence
FROM cxsell.rules((SELECT cxsell.mine(basket, item, 0.1, 0,
                                      CASE WHEN item = 'soda' OR basket = 4 THEN 0 ELSE 1 END)
                   FROM hw_lines))
WHERE 'soda' = ANY (antecedent || consequent);
