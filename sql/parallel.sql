-- a parallel plan (partial aggregates in workers, states serialised, then
-- combined) gives exactly the value of the serial plan
CREATE TABLE pl AS
SELECT b AS basket, (b * 7 + k * k * 13) % 50 AS item, 'seg' || (b % 3) AS segment
FROM generate_series(1, 6000) b, generate_series(1, 1 + b % 9) k;
ALTER TABLE pl SET (parallel_workers = 3);
ANALYZE pl;

SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial AS
SELECT cxsell.mine(basket, item, 0.02)::text AS rows_int,
       cxsell.mine(basket::text, 'item ' || item, 0.02, 3)::text AS rows_text
FROM pl;
CREATE TEMP TABLE serial_array AS
SELECT cxsell.mine(items, 0.02)::text AS arr
FROM (SELECT array_agg(item) AS items FROM pl GROUP BY basket) s;
-- with a hierarchy (items under 7 categories under 3 departments; every 5th
-- item under a second category on even baskets) and weights
CREATE TEMP TABLE serial_extras AS
SELECT cxsell.mine(basket, item, 0.02, 0,
                   ARRAY[100 + (item + CASE WHEN item % 5 = 0 AND basket % 2 = 0 THEN 3 ELSE 0 END) % 7,
                         200 + (item + CASE WHEN item % 5 = 0 AND basket % 2 = 0 THEN 3 ELSE 0 END) % 7 % 3])::text AS h,
       cxsell.mine(basket, item, 0.02, 0, (basket % 17) * 1.25 + item / 3.0)::text AS w,
       cxsell.mine(basket, item, 0.02, 3, ARRAY[100 + item % 7], (basket % 5) * 0.1)::text AS hw
FROM pl;
CREATE TEMP TABLE serial_groups AS
SELECT segment, cxsell.mine(basket, item, 0.05)::text AS p FROM pl GROUP BY segment;

SET max_parallel_workers_per_gather = 3;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;

EXPLAIN (COSTS OFF)
SELECT cxsell.mine(basket, item, 0.02) FROM pl;
SELECT (SELECT cxsell.mine(basket, item, 0.02)::text FROM pl) = rows_int AS int_same,
       (SELECT cxsell.mine(basket::text, 'item ' || item, 0.02, 3)::text FROM pl) = rows_text AS text_same
FROM serial;

-- and so do closed and maximal itemsets, bundles, non-redundant rules and the
-- basis read from it
CREATE FUNCTION pg_temp.readers(p cxsell.patterns) RETURNS text LANGUAGE sql AS $$
  SELECT md5(string_agg(r, '|' ORDER BY r)) || ' ' || count(*)
  FROM (SELECT 'c' || items::text FROM cxsell.itemsets(p, 'closed')
        UNION ALL SELECT 'm' || items::text FROM cxsell.itemsets(p, 'maximal')
        UNION ALL SELECT 'b' || items::text || lift FROM cxsell.bundles(p)
        UNION ALL SELECT 'r' || antecedent::text || consequent::text FROM cxsell.rules(p, redundant => false)
        UNION ALL SELECT 'g' || antecedent::text || consequent::text FROM cxsell.rules(p, basis => true)) x(r)
$$;
SELECT pg_temp.readers((SELECT cxsell.mine(basket, item, 0.02) FROM pl))
       = pg_temp.readers(rows_int::cxsell.patterns) AS readers_same,
       split_part(pg_temp.readers(rows_int::cxsell.patterns), ' ', 2)::int > 100 AS not_trivial
FROM serial;

-- hierarchy and weights: the same value, the same readers
SELECT (SELECT cxsell.mine(basket, item, 0.02, 0,
                   ARRAY[100 + (item + CASE WHEN item % 5 = 0 AND basket % 2 = 0 THEN 3 ELSE 0 END) % 7,
                         200 + (item + CASE WHEN item % 5 = 0 AND basket % 2 = 0 THEN 3 ELSE 0 END) % 7 % 3])::text
        FROM pl) = h AS hierarchy_same,
       (SELECT cxsell.mine(basket, item, 0.02, 0, (basket % 17) * 1.25 + item / 3.0)::text FROM pl) = w AS weights_same,
       (SELECT cxsell.mine(basket, item, 0.02, 3, ARRAY[100 + item % 7], (basket % 5) * 0.1)::text FROM pl) = hw AS both_same,
       (SELECT count(*) FROM cxsell.hierarchy(h::cxsell.patterns)) AS links,
       (SELECT count(*) FROM cxsell.itemsets(hw::cxsell.patterns)) AS itemsets
FROM serial_extras;
EXPLAIN (COSTS OFF)
SELECT cxsell.mine(basket, item, 0.02, 3, ARRAY[100 + item % 7], (basket % 5) * 0.1) FROM pl;

CREATE TABLE pl_arrays AS SELECT array_agg(item) AS items FROM pl GROUP BY basket;
ALTER TABLE pl_arrays SET (parallel_workers = 3);
ANALYZE pl_arrays;
EXPLAIN (COSTS OFF)
SELECT cxsell.mine(items, 0.02) FROM pl_arrays;
SELECT (SELECT cxsell.mine(items, 0.02)::text FROM pl_arrays) = arr AS array_same FROM serial_array;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_array_w AS
SELECT cxsell.mine(items, 0.02, 0, cardinality(items) * 0.7)::text AS arr FROM pl_arrays;
SET max_parallel_workers_per_gather = 3;
SELECT (SELECT cxsell.mine(items, 0.02, 0, cardinality(items) * 0.7)::text FROM pl_arrays) = arr
       AS weighted_array_same
FROM serial_array_w;

SET enable_hashagg = off;
EXPLAIN (COSTS OFF)
SELECT segment, cxsell.mine(basket, item, 0.05) FROM pl GROUP BY segment;
SELECT s.segment, p.p = s.p AS same
FROM (SELECT segment, cxsell.mine(basket, item, 0.05)::text AS p FROM pl GROUP BY segment) p
JOIN serial_groups s USING (segment)
ORDER BY 1;

-- the results are not trivial
SELECT (cxsell.summary(cxsell.mine(basket, item, 0.02))).* FROM pl;

-- sequences over (customer, time, item) rows: the parallel value is the serial one
RESET enable_hashagg;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_seq AS
SELECT cxsell.mine_sequences(basket % 1500, basket / 1500 * 10 + k, item % 20, 0.02, 3, 25)::text AS s,
       cxsell.mine_sequences(basket % 1500, timestamptz '2024-01-01' + (basket / 1500 * 10 + k) * interval '1 day',
                             'p' || item % 20, 0.02, 0, interval '25 days')::text AS st
FROM pl, generate_series(1, 2) k;
SET max_parallel_workers_per_gather = 3;
EXPLAIN (COSTS OFF)
SELECT cxsell.mine_sequences(basket % 1500, basket / 1500 * 10 + k, item % 20, 0.02, 3, 25)
FROM pl, generate_series(1, 2) k;
SELECT (SELECT cxsell.mine_sequences(basket % 1500, basket / 1500 * 10 + k, item % 20, 0.02, 3, 25)::text
        FROM pl, generate_series(1, 2) k) = s AS sequences_same,
       (SELECT cxsell.mine_sequences(basket % 1500, timestamptz '2024-01-01' + (basket / 1500 * 10 + k) * interval '1 day',
                                     'p' || item % 20, 0.02, 0, interval '25 days')::text
        FROM pl, generate_series(1, 2) k) = st AS timestamped_same,
       (cxsell.summary(s::cxsell.sequences)).sequences AS sequences,
       (cxsell.summary(st::cxsell.sequences)).max_sequence_length AS longest
FROM serial_seq;
