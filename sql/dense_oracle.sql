-- randomised check of the mining core on dense data (baskets that hold most
-- of the items, as in chess or mushroom, mined with bit sets and perfect
-- extensions) and on sparse data with many equal baskets (mined with tid
-- lists over merged baskets) against the definition: every subset of every
-- basket counted, all itemset sizes, with and without max_len.  Planted: an
-- item that comes with another one always (a perfect extension), an item in
-- every basket, and repeated baskets.
CREATE TABLE do_data (basket int, item int);

-- nb baskets over ni items, item i in a basket with probability about p;
-- item ni follows item 0, item ni + 1 is in every basket
CREATE FUNCTION pg_temp.gen(seed float8, nb int, ni int, p float8) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE do_data;
  PERFORM setseed(seed);
  INSERT INTO do_data
  SELECT b, i FROM generate_series(1, nb) b, generate_series(0, ni - 1) i
  WHERE random() + 0 * b < p * (0.6 + 0.8 * i / ni::float8);
  INSERT INTO do_data SELECT basket, ni FROM do_data WHERE item = 0;
  INSERT INTO do_data SELECT b, ni + 1 FROM generate_series(1, nb) b;
  -- every fifth basket again under another number
  INSERT INTO do_data SELECT basket + nb, item FROM do_data WHERE basket % 5 = 0;
END $$;

-- the number of disagreements between cxsell and the definition
CREATE FUNCTION pg_temp.check(minsup float8, maxlen int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE bad bigint; n bigint;
BEGIN
  CREATE TEMP TABLE b ON COMMIT DROP AS
    SELECT basket, array_agg(DISTINCT item ORDER BY item) AS a FROM do_data GROUP BY basket;
  SELECT count(*) INTO n FROM b;
  -- every nonempty subset of every basket, counted
  CREATE TEMP TABLE brute ON COMMIT DROP AS
    SELECT s.items, count(*) AS c
    FROM b, generate_series(1, (1 << cardinality(b.a)) - 1) mask,
         LATERAL (SELECT array_agg(b.a[j] ORDER BY j) AS items
                  FROM generate_subscripts(b.a, 1) j
                  WHERE mask & (1 << (j - 1)) <> 0) s
    GROUP BY s.items;
  CREATE TEMP TABLE p ON COMMIT DROP AS
    SELECT cxsell.mine(basket, item, minsup, maxlen) AS p FROM do_data;

  SELECT count(*) INTO bad FROM
    (SELECT items, c FROM brute
     WHERE c::float8 / n >= minsup AND (maxlen = 0 OR cardinality(items) <= maxlen)) x
    FULL JOIN (SELECT items::int[] AS items, count AS c FROM p, cxsell.itemsets(p.p)) m USING (items)
  WHERE x.c IS DISTINCT FROM m.c;
  -- each itemset once
  SELECT bad + count(*) - count(DISTINCT items) INTO bad FROM p, cxsell.itemsets(p.p);

  -- the co-occurrence of every two frequent items
  SELECT bad + count(*) INTO bad FROM
    (SELECT items, c FROM brute
     WHERE cardinality(items) = 2
       AND ARRAY[items[1]] IN (SELECT f.items FROM brute f WHERE f.c::float8 / n >= minsup)
       AND ARRAY[items[2]] IN (SELECT f.items FROM brute f WHERE f.c::float8 / n >= minsup)) x
    FULL JOIN (SELECT ARRAY[item_a::int, item_b::int] AS items, observed AS c
               FROM p, cxsell.item_pairs(p.p) WHERE observed > 0) m USING (items)
  WHERE x.c IS DISTINCT FROM m.c;

  DROP TABLE b, brute, p;
  RETURN bad;
END $$;

-- shapes: (baskets, items, fill, min_support, max_len)
CREATE TABLE do_shapes (shape text, nb int, ni int, p float8, minsup float8, maxlen int);
INSERT INTO do_shapes VALUES
  ('chess-like',     90, 9, 0.75, 0.5,  0),
  ('chess-like, 3',  90, 9, 0.75, 0.5,  3),
  ('mushroom-like', 120, 9, 0.35, 0.05, 0),
  ('mushroom, 4',   120, 9, 0.35, 0.05, 4),
  ('half full',     150, 9, 0.5,  0.1,  0),
  ('low support',    70, 9, 0.6,  0.01, 0),
  ('pairs only',     70, 9, 0.6,  0.2,  2),
  ('all frequent',   40, 9, 0.95, 0.001, 0),
  ('sparse, equal baskets', 300, 40, 0.05, 0.01, 0),
  ('sparse, 3',      300, 40, 0.08, 0.005, 3),
  ('sparse, deep',   200, 30, 0.08, 0.005, 0);

SELECT shape, count(*) AS seeds, sum(bad) AS disagreements
FROM do_shapes,
     LATERAL (SELECT s, pg_temp.gen(s / 100.0, nb, ni, p), pg_temp.check(minsup, maxlen) AS bad
              FROM generate_series(1, 4) s) r
GROUP BY shape ORDER BY min(nb), shape;

