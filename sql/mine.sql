-- cxsell.mine over a small hand-checkable example
--
-- basket 1: bread milk
-- basket 2: bread diaper beer eggs
-- basket 3: milk diaper beer cola
-- basket 4: bread milk diaper beer
-- basket 5: bread milk diaper cola (cola twice: counted once)
-- plus a row with a NULL basket and a row with a NULL item (both skipped)
CREATE TABLE lines (basket int, item text);
INSERT INTO lines VALUES
  (1, 'bread'), (1, 'milk'),
  (2, 'bread'), (2, 'diaper'), (2, 'beer'), (2, 'eggs'),
  (3, 'milk'), (3, 'diaper'), (3, 'beer'), (3, 'cola'),
  (4, 'bread'), (4, 'milk'), (4, 'diaper'), (4, 'beer'),
  (5, 'bread'), (5, 'milk'), (5, 'diaper'), (5, 'cola'), (5, 'cola'),
  (NULL, 'bread'), (6, NULL);

-- n = 5 baskets; min_support 0.4 means a count of at least 2
SELECT * FROM cxsell.summary((SELECT cxsell.mine(basket, item, 0.4) FROM lines));

-- every frequent itemset: by size, then count descending, then items
SELECT * FROM cxsell.itemsets((SELECT cxsell.mine(basket, item, 0.4) FROM lines));

-- max_len bounds the itemset size
SELECT size, count(*) FROM cxsell.itemsets((SELECT cxsell.mine(basket, item, 0.4, 2) FROM lines)) GROUP BY size ORDER BY size;
SELECT size, count(*) FROM cxsell.itemsets((SELECT cxsell.mine(basket, item, 0.4, 1) FROM lines)) GROUP BY size ORDER BY size;

-- min_support 1: only what every basket holds (nothing here)
SELECT * FROM cxsell.itemsets((SELECT cxsell.mine(basket, item, 1.0) FROM lines));
-- support exactly at the threshold is frequent: 0.2 = 1 basket of 5
SELECT count(*) FROM cxsell.itemsets((SELECT cxsell.mine(basket, item, 0.2) FROM lines)) WHERE items = '{eggs}';

-- the array form: one row per basket; NULL elements skipped, an array
-- without items is no basket, and repeated items count once
SELECT * FROM cxsell.itemsets((
  SELECT cxsell.mine(items, 0.4)
  FROM (VALUES (ARRAY['bread','milk']), (ARRAY['bread','diaper','beer','eggs']),
               (ARRAY['milk','diaper','beer','cola']), (ARRAY['bread','milk','diaper','beer']),
               (ARRAY['bread','milk','diaper','cola','cola', NULL]),
               (ARRAY[NULL]::text[]), ('{}'::text[]), (NULL::text[])) AS v(items)))
EXCEPT ALL
SELECT * FROM cxsell.itemsets((SELECT cxsell.mine(basket, item, 0.4) FROM lines));

-- both forms give identical values
SELECT (SELECT cxsell.mine(basket, item, 0.4, 3)::text FROM lines) =
       (SELECT cxsell.mine(items, 0.4, 3)::text
          FROM (SELECT array_agg(item) AS items FROM lines WHERE basket IS NOT NULL GROUP BY basket) s) AS same;

-- empty input: NULL patterns, and zero rows from every reader
SELECT cxsell.mine(basket, item, 0.5) IS NULL AS is_null FROM lines WHERE false;
SELECT cxsell.mine(basket, item, 0.5) IS NULL AS is_null FROM lines WHERE item IS NULL OR basket IS NULL;
SELECT count(*) FROM cxsell.itemsets((SELECT cxsell.mine(basket, item, 0.5) FROM lines WHERE false));
SELECT count(*) FROM cxsell.rules((SELECT cxsell.mine(basket, item, 0.5) FROM lines WHERE false));
SELECT count(*) FROM cxsell.item_pairs((SELECT cxsell.mine(basket, item, 0.5) FROM lines WHERE false));

-- baskets and items of other hashable types
SELECT * FROM cxsell.itemsets((
  SELECT cxsell.mine(b, i, 0.5) FROM (VALUES (1::bigint, 10::bigint), (1, 9), (2, 10), (2, 9), (3, 100)) v(b, i)));
SELECT * FROM cxsell.itemsets((
  SELECT cxsell.mine(b, i, 0.6)
  FROM (VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 2::smallint),
               ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 1),
               ('b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 1),
               ('b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 2),
               ('c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 2)) v(b, i)));
SELECT * FROM cxsell.itemsets((
  SELECT cxsell.mine(b, i, 0.5)
  FROM (VALUES ('x'::text, date '2024-01-02'), ('x', date '2024-01-01'),
               ('y', date '2024-01-01'), ('y', date '2024-01-02')) v(b, i)));
-- numeric items are equal by value, not by text: 1.0 and 1.00 are one item
SELECT * FROM cxsell.itemsets((
  SELECT cxsell.mine(b, i, 1.0) FROM (VALUES (1, 1.0::numeric), (1, 2), (2, 1.00), (2, 2.0)) v(b, i)));

-- per-group mining: each segment gets its own patterns
CREATE TABLE seg_lines AS
  SELECT CASE WHEN basket <= 3 THEN 'north' ELSE 'south' END AS segment, basket, item
  FROM lines WHERE basket IS NOT NULL AND item IS NOT NULL;
SELECT segment, (cxsell.summary(p)).baskets, (cxsell.summary(p)).itemsets
FROM (SELECT segment, cxsell.mine(basket, item, 0.6) AS p FROM seg_lines GROUP BY segment) s
ORDER BY segment;
SELECT segment, i.*
FROM (SELECT segment, cxsell.mine(basket, item, 1.0) AS p FROM seg_lines GROUP BY segment) s,
     cxsell.itemsets(s.p) i
ORDER BY segment, size, items;

-- a patterns value survives text and binary round trips, and a table
CREATE TABLE saved AS SELECT cxsell.mine(basket, item, 0.4) AS p FROM lines;
SELECT count(*) FROM saved, cxsell.itemsets(saved.p::text::cxsell.patterns);
SELECT p::text = cxsell.patterns_in(cxsell.patterns_out(p))::text AS text_round_trip,
       p::text = encode(cxsell.patterns_send(p), 'hex') AS binary_is_hex
FROM saved;

-- likely mistakes.  min_support 1 (meant as 1%) keeps no item: a notice
-- gives the fraction convention and the largest count
SELECT (cxsell.summary(cxsell.mine(basket, item, 1))).items FROM lines;
-- basket and item swapped: 3 "baskets" (the products) hold 3,000 "items"
-- (the basket numbers), every one of them frequent; when memory runs out
-- the hint points at the argument order
SET cxsell.max_memory = '1MB';
SELECT regexp_replace(regress.err($$
  SELECT cxsell.mine(s.product, s.basket, 0.3)
  FROM (SELECT b AS basket, 'p' || (b % 3) AS product FROM generate_series(1, 3000) b,
               generate_series(1, 2) k) s$$), 'About \d+ kB', 'About N kB') AS swapped;
SELECT regress.err($$
  SELECT cxsell.mine(s.basket, s.product, 0.3)
  FROM (SELECT b AS basket, 'p' || (b % 3) AS product FROM generate_series(1, 3000) b,
               generate_series(1, 2) k) s$$) AS right_order;
RESET cxsell.max_memory;

-- max_len 1 on sparse data (the tid-list miner): single items only, and the
-- co-occurrence of every two frequent items still counted
CREATE TABLE ml1 AS SELECT b, (b * 7 + k * 13) % 97 AS i FROM generate_series(1, 400) b, generate_series(1, 3) k;
SELECT (s).items, (s).itemsets, (s).max_itemset_size,
       (s).co_occurring_pairs = (SELECT count(DISTINCT (x.i, y.i)) FROM ml1 x JOIN ml1 y ON x.b = y.b AND x.i < y.i)
         AS all_pairs_counted
FROM (SELECT cxsell.summary(cxsell.mine(b, i, 0.005, 1)) AS s FROM ml1) q;
