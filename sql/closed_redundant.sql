-- closed and maximal itemsets, bundles, and rules without the redundant ones:
-- a worked example, the argument errors, and a randomised check of each
-- against its definition applied in plain SQL.

-- five baskets: A B C twice, A B, A D, B D; min_support 0.4 (2 baskets)
CREATE TABLE cr_lines (basket int, item text);
INSERT INTO cr_lines VALUES
  (1, 'A'), (1, 'B'), (1, 'C'), (2, 'A'), (2, 'B'), (2, 'C'),
  (3, 'A'), (3, 'B'), (4, 'A'), (4, 'D'), (5, 'B'), (5, 'D');
CREATE TABLE cr_p AS SELECT cxsell.mine(basket, item, 0.4) AS p FROM cr_lines;

-- all: A 4, B 4, C 2, D 2, {A,B} 3, {A,C} 2, {B,C} 2, {A,B,C} 2
SELECT items, count FROM cr_p, cxsell.itemsets(p, 'all');
-- closed: C is always with A and B, so C, {A,C}, {B,C} are not
SELECT items, count FROM cr_p, cxsell.itemsets(p, 'closed');
-- maximal: no frequent itemset holds D or {A,B,C}
SELECT items, count FROM cr_p, cxsell.itemsets(p, kind => 'maximal');
-- bundles: {A,B,C} at 0.4 / (0.8 * 0.8 * 0.4) = 1.5625, {A,B} at 0.6 / 0.64
SELECT items, size, count, support, lift FROM cr_p, cxsell.bundles(p);
SELECT items, lift FROM cr_p, cxsell.bundles(p, min_size => 1, max_bundles => 3);
-- a bundle of 12 items in half of 2,000 baskets: lift 0.5 / 0.5^12 = 2048,
-- past the products that stay exact in float8
SELECT size, count, round(lift::numeric, 9) AS lift
FROM cxsell.bundles((SELECT cxsell.mine(b, CASE WHEN b <= 1000 THEN i ELSE 99 END, 0.1)
                     FROM generate_series(1, 2000) b, generate_series(1, 12) i));

-- {A,C} -> B has confidence 1, as C -> B has: redundant; so is {B,C} -> A.
-- {A,B} -> C (2/3) beats A -> C and B -> C (1/2): kept
SELECT antecedent, consequent, round(confidence::numeric, 4) AS confidence
FROM cr_p, cxsell.rules(p, max_consequent => 1)
WHERE cardinality(antecedent) = 2;
SELECT antecedent, consequent, round(confidence::numeric, 4) AS confidence
FROM cr_p, cxsell.rules(p, max_consequent => 1, redundant => false)
WHERE cardinality(antecedent) = 2;
SELECT count(*) AS all_rules,
       (SELECT count(*) FROM cr_p, cxsell.rules(p, redundant => false)) AS non_redundant
FROM cr_p, cxsell.rules(p);
-- the min-max basis: generator antecedents (A, B, C, D, {A,B}; not {A,C},
-- whose count C has), closed itemsets in all ({A,B}, {A,B,C})
SELECT antecedent, consequent, count, round(confidence::numeric, 4) AS confidence
FROM cr_p, cxsell.rules(p, basis => true) ORDER BY cardinality(antecedent), antecedent;

-- bad arguments
SELECT * FROM cr_p, cxsell.itemsets(p, 'frequent');
SELECT * FROM cr_p, cxsell.itemsets(p, NULL);
SELECT * FROM cr_p, cxsell.bundles(p, min_size => 0);
SELECT * FROM cr_p, cxsell.bundles(p, max_bundles => -1);
SELECT * FROM cr_p, cxsell.bundles(p, NULL);
SELECT * FROM cr_p, cxsell.rules(p, redundant => NULL);
SELECT * FROM cr_p, cxsell.rules(p, basis => NULL);
-- no value, no rows
SELECT count(*) FROM cxsell.itemsets(NULL, 'closed');
SELECT count(*) FROM cxsell.bundles(NULL);

-- randomised: many seeds and shapes, each kind against its definition over
-- every frequent itemset (any larger superset, not only one item larger)
CREATE TABLE cr_data (basket int, item int);
CREATE FUNCTION pg_temp.gen(seed float8, nb int, ni int, p float8) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE cr_data;
  PERFORM setseed(seed);
  INSERT INTO cr_data
  SELECT b, i FROM generate_series(1, nb) b, generate_series(1, ni) i
  WHERE random() + 0 * b < p * (0.4 + 1.2 * i / ni::float8);
  -- item 0 always comes with item 1: never closed alone
  INSERT INTO cr_data SELECT basket, 0 FROM cr_data WHERE item = 1;
  -- with every other seed, item 99 is in every basket: no generator
  INSERT INTO cr_data SELECT DISTINCT basket, 99 FROM cr_data WHERE round(seed * 100)::int % 2 = 0;
END $$;

-- the number of disagreements between cxsell and the definitions
CREATE FUNCTION pg_temp.check(minsup float8, maxlen int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE bad bigint;
BEGIN
  CREATE TEMP TABLE p ON COMMIT DROP AS
    SELECT cxsell.mine(basket, item, minsup, maxlen) AS p FROM cr_data;
  CREATE TEMP TABLE s ON COMMIT DROP AS
    SELECT items::int[] AS items, count FROM p, cxsell.itemsets(p.p);
  CREATE TEMP TABLE n ON COMMIT DROP AS SELECT (cxsell.summary(p)).baskets AS n FROM p;

  -- closed: no superset has the same count
  SELECT count(*) INTO bad FROM
    (SELECT items FROM s x WHERE NOT EXISTS
       (SELECT FROM s y WHERE y.items @> x.items AND cardinality(y.items) > cardinality(x.items)
                          AND y.count = x.count)) d
    FULL JOIN (SELECT items::int[] AS items, true AS ok FROM p, cxsell.itemsets(p.p, 'closed')) c
    USING (items)
  WHERE d.items IS NULL OR c.ok IS NULL;
  -- maximal: no superset is frequent
  SELECT bad + count(*) INTO bad FROM
    (SELECT items FROM s x WHERE NOT EXISTS
       (SELECT FROM s y WHERE y.items @> x.items AND cardinality(y.items) > cardinality(x.items))) d
    FULL JOIN (SELECT items::int[] AS items, true AS ok FROM p, cxsell.itemsets(p.p, 'maximal')) c
    USING (items)
  WHERE d.items IS NULL OR c.ok IS NULL;
  -- bundles: the closed itemsets of two or more items, lift from the item counts
  SELECT bad + count(*) INTO bad FROM
    (SELECT c.items::int[] AS items, c.support
            / (SELECT exp(sum(ln(i.count::float8 / n.n))) FROM s i, unnest(c.items::int[]) u
               WHERE i.items = ARRAY[u]) AS lift
     FROM p, n, cxsell.itemsets(p.p, 'closed') c WHERE c.size >= 2) d
    FULL JOIN (SELECT items::int[] AS items, lift FROM p, cxsell.bundles(p.p)) b USING (items)
  WHERE d.items IS NULL OR b.items IS NULL OR abs(b.lift / d.lift - 1) > 1e-12;
  -- bundles come by lift, then count
  SELECT bad + count(*) INTO bad FROM
    (SELECT lift, count, lag(lift) OVER () AS plift, lag(count) OVER () AS pcount
     FROM p, cxsell.bundles(p.p)) o
  WHERE o.lift > o.plift OR (o.lift = o.plift AND o.count > o.pcount);

  -- redundant: a rule with a smaller antecedent, the same consequent and at
  -- least the confidence (compared exactly, as ratios of counts)
  CREATE TEMP TABLE r ON COMMIT DROP AS
    SELECT antecedent::int[] AS a, consequent::int[] AS c, x.count AS n_ac, sa.count AS n_a
    FROM p, cxsell.rules(p.p) x JOIN s sa ON sa.items = x.antecedent::int[];
  ANALYZE s, r;
  SELECT bad + count(*) INTO bad FROM
    (SELECT a, c FROM r x WHERE NOT EXISTS
       (SELECT FROM r y WHERE y.c = x.c AND y.a <@ x.a AND cardinality(y.a) < cardinality(x.a)
                          AND y.n_ac::numeric * x.n_a >= x.n_ac::numeric * y.n_a)) d
    FULL JOIN (SELECT antecedent::int[] AS a, consequent::int[] AS c, true AS ok
               FROM p, cxsell.rules(p.p, redundant => false)) k USING (a, c)
  WHERE d.a IS NULL OR k.ok IS NULL;
  -- the basis: a generator antecedent (no (k-1)-subset with its count; a
  -- single item in every basket is none) and a closed itemset in all
  CREATE TEMP TABLE g ON COMMIT DROP AS
    SELECT items FROM s x, n WHERE NOT EXISTS
      (SELECT FROM s y WHERE y.items <@ x.items AND cardinality(y.items) = cardinality(x.items) - 1
                         AND y.count = x.count)
      AND NOT (cardinality(x.items) = 1 AND x.count = n.n);
  SELECT bad + count(*) INTO bad FROM
    (SELECT g.items AS a, ARRAY(SELECT u FROM unnest(c.items) u EXCEPT SELECT v FROM unnest(g.items) v
                                ORDER BY 1) AS c
     FROM g, s c
     WHERE c.items @> g.items AND cardinality(c.items) > cardinality(g.items)
       AND NOT EXISTS (SELECT FROM s y WHERE y.items @> c.items
                         AND cardinality(y.items) > cardinality(c.items) AND y.count = c.count)) d
    FULL JOIN (SELECT antecedent::int[] AS a, consequent::int[] AS c, true AS ok
               FROM p, cxsell.rules(p.p, basis => true)) k USING (a, c)
  WHERE d.a IS NULL OR k.ok IS NULL;

  -- with a filter the kept rules are the filtered ones that are not redundant
  SELECT bad + count(*) INTO bad FROM
    ((SELECT antecedent, consequent FROM p, cxsell.rules(p.p, min_confidence => 0.6, redundant => false)
      EXCEPT ALL
      SELECT antecedent, consequent FROM p, cxsell.rules(p.p, redundant => false)
      WHERE confidence >= 0.6)
     UNION ALL
     (SELECT antecedent, consequent FROM p, cxsell.rules(p.p, redundant => false)
      WHERE confidence >= 0.6
      EXCEPT ALL
      SELECT antecedent, consequent FROM p, cxsell.rules(p.p, min_confidence => 0.6, redundant => false))) e;

  DROP TABLE p, s, n, r, g;
  RETURN bad;
END $$;

-- shapes: (baskets, items, fill, min_support, max_len)
CREATE TABLE cr_shapes (shape text, nb int, ni int, p float8, minsup float8, maxlen int);
INSERT INTO cr_shapes VALUES
  ('dense',       60, 7, 0.6,  0.3,  0),
  ('dense, 3',    60, 7, 0.6,  0.2,  3),
  ('sparse',     200, 14, 0.15, 0.02, 0),
  ('low support', 40, 8, 0.35, 0.02, 0);

SELECT shape, count(*) AS seeds, sum(bad) AS disagreements
FROM cr_shapes,
     LATERAL (SELECT s, pg_temp.gen(s / 100.0, nb, ni, p), pg_temp.check(minsup, maxlen) AS bad
              FROM generate_series(1, 4) s) r
GROUP BY shape ORDER BY min(nb), shape;

DROP TABLE cr_lines, cr_p, cr_data, cr_shapes;
