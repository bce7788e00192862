-- randomised check of the mining core against a brute-force count in plain
-- SQL: every itemset of up to three items, over many seeds and shapes
-- (tiny, wide, long baskets, skewed item popularity), plus the co-occurrence
-- count of every pair and the measures of every rule.
CREATE TABLE ro_data (basket int, item int);

-- generate one data set: nb baskets of 1..maxlen draws from ni items, with
-- popularity skewed by the exponent skew; repeats and NULLs included
CREATE FUNCTION pg_temp.gen(seed float8, nb int, ni int, maxlen int, skew float8) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE ro_data;
  PERFORM setseed(seed);
  INSERT INTO ro_data
  SELECT CASE WHEN random() < 0.01 THEN NULL ELSE b END,
         CASE WHEN random() < 0.01 THEN NULL ELSE floor(ni * power(random(), skew))::int END
  FROM generate_series(1, nb) b,
       LATERAL generate_series(1, 1 + floor(random() * maxlen)::int) k;
END $$;

-- the number of disagreements between cxsell and the brute force
CREATE FUNCTION pg_temp.check(minsup float8) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE bad bigint; n bigint;
BEGIN
  CREATE TEMP TABLE d ON COMMIT DROP AS
    SELECT DISTINCT basket, item FROM ro_data WHERE basket IS NOT NULL AND item IS NOT NULL;
  SELECT count(DISTINCT basket) INTO n FROM d;
  CREATE TEMP TABLE brute ON COMMIT DROP AS
    SELECT ARRAY[item] AS items, count(*) AS c FROM d GROUP BY item
    UNION ALL
    SELECT ARRAY[x.item, y.item], count(*) FROM d x JOIN d y ON x.basket = y.basket AND x.item < y.item
    GROUP BY x.item, y.item
    UNION ALL
    SELECT ARRAY[x.item, y.item, z.item], count(*)
    FROM d x JOIN d y ON x.basket = y.basket AND x.item < y.item
             JOIN d z ON z.basket = x.basket AND y.item < z.item
    GROUP BY x.item, y.item, z.item;
  ANALYZE d, brute;
  CREATE TEMP TABLE p ON COMMIT DROP AS SELECT cxsell.mine(basket, item, minsup, 3) AS p FROM ro_data;

  -- frequent itemsets of up to three items
  SELECT count(*) INTO bad FROM
    (SELECT items, c FROM brute WHERE c::float8 / n >= minsup) b
    FULL JOIN (SELECT items::int[] AS items, count AS c FROM p, cxsell.itemsets(p.p)) m USING (items)
  WHERE b.c IS DISTINCT FROM m.c;

  -- co-occurrence of every pair of frequent items, zero included
  SELECT bad + count(*) INTO bad FROM
    (SELECT items, c FROM brute
     WHERE cardinality(items) = 2
       AND items[1] IN (SELECT f.items[1] FROM brute f
                        WHERE cardinality(f.items) = 1 AND f.c::float8 / n >= minsup)
       AND items[2] IN (SELECT f.items[1] FROM brute f
                        WHERE cardinality(f.items) = 1 AND f.c::float8 / n >= minsup)) b
    FULL JOIN (SELECT ARRAY[item_a::int, item_b::int] AS items, observed AS c
               FROM p, cxsell.item_pairs(p.p) WHERE observed > 0) m USING (items)
  WHERE b.c IS DISTINCT FROM m.c;

  -- every rule's counts and measures from the brute-force counts
  SELECT bad + count(*) INTO bad FROM (
    SELECT r.*, ac.c AS n_ac, a.c AS n_a, c.c AS n_c
    FROM p, cxsell.rules(p.p) r
    LEFT JOIN brute ac ON ac.items = (SELECT array_agg(x ORDER BY x) FROM unnest(r.antecedent::int[] || r.consequent::int[]) x)
    LEFT JOIN brute a ON a.items = r.antecedent::int[]
    LEFT JOIN brute c ON c.items = r.consequent::int[]) r
  WHERE r.count IS DISTINCT FROM r.n_ac
     OR abs(r.support - r.n_ac::float8 / n) > 1e-12
     OR abs(r.confidence - r.n_ac::float8 / r.n_a) > 1e-12
     OR abs(r.lift - (r.n_ac::float8 / r.n_a) / (r.n_c::float8 / n)) > 1e-9
     OR abs(r.leverage - (r.n_ac::float8 / n - (r.n_a::float8 / n) * (r.n_c::float8 / n))) > 1e-12
     OR abs(r.jaccard - r.n_ac::float8 / (r.n_a + r.n_c - r.n_ac)) > 1e-12
     OR abs(r.kulczynski - (r.n_ac::float8 / r.n_a + r.n_ac::float8 / r.n_c) / 2) > 1e-12;

  DROP TABLE d, brute, p;
  RETURN bad;
END $$;

-- shapes: (baskets, items, max basket size, skew, min_support)
CREATE TABLE ro_shapes (shape text, nb int, ni int, maxlen int, skew float8, minsup float8);
INSERT INTO ro_shapes VALUES
  ('tiny',         5,   3,  3, 1, 0.2),
  ('tiny-2',       8,   5,  4, 1, 0.25),
  ('small',       60,  12,  6, 1, 0.05),
  ('wide',       300, 200,  8, 1, 0.01),
  ('long',        80,  30, 40, 1, 0.1),
  ('skewed',     400,  80, 10, 3, 0.02),
  ('very skewed',300, 100,  6, 6, 0.01),
  ('threshold',  100,  10,  5, 1, 0.3);

SELECT shape, count(*) AS seeds, sum(bad) AS disagreements
FROM ro_shapes,
     LATERAL (SELECT s, pg_temp.gen(s / 100.0, nb, ni, maxlen, skew), pg_temp.check(minsup) AS bad
              FROM generate_series(1, 6) s) r
GROUP BY shape ORDER BY min(nb), shape;
