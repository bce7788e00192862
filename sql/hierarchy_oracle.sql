-- item hierarchies and weighted support against their definitions: seeded
-- data sets, each result recounted in plain SQL (the worked example and the
-- bad inputs are in hierarchy_weights).

-- randomised: seeded baskets over items 1..ni under categories 1000..1006
-- under departments 2000..2002; every 5th item also under a second category
-- on even baskets (a hierarchy that is no tree), every 11th item without a
-- parent, category 1003 also sold as an item; weights with zeros; the last
-- data set sparse enough for the tid-list miner, the others for bit sets.  Each
-- result against its definition over the extended baskets (each item's
-- ancestors added), in plain SQL.
CREATE TABLE hw_data (basket int, item int, w float8, anc int[]);
CREATE FUNCTION pg_temp.gen(seed float8, nb int, ni int, p float8) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE hw_data;
  PERFORM setseed(seed);
  INSERT INTO hw_data
  SELECT b, i, CASE WHEN random() < 0.05 THEN 0 ELSE round((random() * 50)::numeric, 1)::float8 END,
         CASE WHEN i % 11 = 0 THEN NULL
              ELSE ARRAY[c, 2000 + c % 3] END
  FROM (SELECT b, i, 1000 + (i + CASE WHEN i % 5 = 0 AND b % 2 = 0 THEN 3 ELSE 0 END) % 7 AS c
        FROM generate_series(1, nb) b, generate_series(1, ni) i
        WHERE random() + 0 * b < p * (0.3 + 1.4 * i / ni::float8)) x;
  INSERT INTO hw_data SELECT DISTINCT basket, 1003, 2.5, ARRAY[2000 + 1003 % 3]
  FROM hw_data WHERE basket % 9 = 0;
END $$;

-- the disagreements between cxsell and the definitions: itemsets (counts
-- and weighted supports), rules' weighted measures, R-interesting rules,
-- the pairs of each depth
CREATE FUNCTION pg_temp.check(minsup float8, r float8) RETURNS TABLE (what text, bad bigint)
LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
  mc bigint;
  total float8;
BEGIN
  SET LOCAL client_min_messages = warning;
  DROP TABLE IF EXISTS links, up, ext, bw, o, pv, s, ru, dp;
  RESET client_min_messages;
  CREATE TEMP TABLE links ON COMMIT DROP AS
    SELECT DISTINCT c[k] AS child, c[k + 1] AS parent
    FROM (SELECT ARRAY[item] || array_remove(anc, NULL) AS c FROM hw_data) x,
         generate_subscripts(c, 1) k
    WHERE k < cardinality(c);
  CREATE TEMP TABLE up ON COMMIT DROP AS
    WITH RECURSIVE u(child, ancestor) AS (
      SELECT child, parent FROM links
      UNION SELECT u.child, l.parent FROM u JOIN links l ON l.child = u.ancestor)
    SELECT * FROM u;
  CREATE TEMP TABLE ext ON COMMIT DROP AS
    SELECT DISTINCT basket, item FROM hw_data
    UNION SELECT DISTINCT d.basket, u.ancestor FROM hw_data d JOIN up u ON u.child = d.item;
  CREATE TEMP TABLE bw ON COMMIT DROP AS SELECT basket, sum(w) AS w FROM hw_data GROUP BY basket;
  SELECT count(*), sum(w) INTO n, total FROM bw;
  SELECT min(c) INTO mc FROM generate_series(1, n) c WHERE c::float8 / n >= minsup;
  -- every itemset of up to 3 items holding no item and its ancestor
  CREATE TEMP TABLE o ON COMMIT DROP AS
    SELECT ARRAY[a.item] AS items, count(*) AS count, sum(bw.w) AS w
    FROM ext a JOIN bw USING (basket) GROUP BY a.item HAVING count(*) >= mc
    UNION ALL
    SELECT ARRAY[a.item, b.item], count(*), sum(bw.w)
    FROM ext a JOIN ext b ON b.basket = a.basket AND b.item > a.item JOIN bw ON bw.basket = a.basket
    WHERE NOT EXISTS (SELECT FROM up WHERE (child, ancestor) IN ((a.item, b.item), (b.item, a.item)))
    GROUP BY a.item, b.item HAVING count(*) >= mc
    UNION ALL
    SELECT ARRAY[a.item, b.item, c.item], count(*), sum(bw.w)
    FROM ext a JOIN ext b ON b.basket = a.basket AND b.item > a.item
         JOIN ext c ON c.basket = a.basket AND c.item > b.item JOIN bw ON bw.basket = a.basket
    WHERE NOT EXISTS (SELECT FROM up WHERE (child, ancestor) IN
                        ((a.item, b.item), (b.item, a.item), (a.item, c.item),
                         (c.item, a.item), (b.item, c.item), (c.item, b.item)))
    GROUP BY a.item, b.item, c.item HAVING count(*) >= mc;
  CREATE INDEX ON o (items);
  CREATE INDEX ON ext (item, basket);
  ANALYZE o;
  ANALYZE ext;
  ANALYZE links;
  ANALYZE up;
  CREATE TEMP TABLE pv ON COMMIT DROP AS
    SELECT cxsell.mine(basket, item, minsup, 3, anc, w) AS p FROM hw_data;
  CREATE TEMP TABLE s ON COMMIT DROP AS
    SELECT items::int[] AS items, count, support FROM pv, cxsell.itemsets(pv.p);

  what := 'itemsets'; SELECT count(*) INTO bad FROM s FULL JOIN o USING (items)
    WHERE s.count IS DISTINCT FROM o.count
       OR abs(s.support - o.w / total) > 1e-12 OR s.items IS NULL OR o.items IS NULL;
  RETURN NEXT;
  what := 'itemsets (plain)'; SELECT count(*) INTO bad
    FROM (SELECT items::int[] AS items, count, support
          FROM cxsell.itemsets((SELECT cxsell.mine(basket, item, minsup, 3, anc) FROM hw_data))) s
    FULL JOIN o USING (items)
    WHERE s.count IS DISTINCT FROM o.count OR s.support <> o.count::float8 / n;
  RETURN NEXT;

  -- rules: the weighted measures from the oracle's sums
  CREATE TEMP TABLE ru ON COMMIT DROP AS
    SELECT antecedent::int[] AS a, consequent::int[] AS c, support, confidence, lift, count
    FROM pv, cxsell.rules(pv.p);
  ANALYZE ru;
  what := 'rules'; SELECT count(*) INTO bad
    FROM ru JOIN o x ON x.items = (SELECT array_agg(e ORDER BY e) FROM unnest(ru.a || ru.c) e)
            JOIN o a ON a.items = ru.a JOIN o c ON c.items = ru.c
    WHERE ru.count <> x.count OR abs(ru.support - x.w / total) > 1e-12
       OR abs(ru.confidence - x.w / a.w) > 1e-12
       OR abs(ru.lift - (x.w / total) / ((a.w / total) * (c.w / total))) > 1e-9;
  RETURN NEXT;
  -- every split of every itemset into antecedent and consequent of positive weight
  what := 'rules (count)'; SELECT abs(count(*) - (SELECT count(*) FROM ru)) INTO bad
    FROM o x, generate_series(1, (2 ^ cardinality(x.items))::int - 2) m,
         LATERAL (SELECT array_agg(e ORDER BY e) FILTER (WHERE (m >> (k::int - 1)) & 1 = 1) AS a,
                         array_agg(e ORDER BY e) FILTER (WHERE (m >> (k::int - 1)) & 1 = 0) AS c
                  FROM unnest(x.items) WITH ORDINALITY u(e, k)) sp
         JOIN o a ON a.items = sp.a JOIN o c ON c.items = sp.c
    WHERE cardinality(x.items) > 1 AND a.w > 0 AND c.w > 0;
  RETURN NEXT;

  -- R-interesting: against every close ancestor (one item z replaced by a
  -- parent zp), support >= R * s(X') s(z) / s(zp) or confidence >= R * the
  -- expected one
  what := 'interesting'; SELECT count(*) INTO bad FROM (
    SELECT ru.a, ru.c,
      NOT EXISTS (
        SELECT FROM unnest(ru.a || ru.c) z JOIN links l ON l.child = z
        JOIN o x2 ON x2.items = (SELECT array_agg(DISTINCT e ORDER BY e)
                                 FROM unnest(array_replace(ru.a || ru.c, z, l.parent)) e)
                 AND cardinality(x2.items) = cardinality(ru.a || ru.c)
        JOIN o oz ON oz.items = ARRAY[z] JOIN o op ON op.items = ARRAY[l.parent]
        JOIN o oa ON oa.items = ru.a
        LEFT JOIN o a2 ON a2.items = (SELECT array_agg(e ORDER BY e) FROM unnest(array_replace(ru.a, z, l.parent)) e)
        WHERE NOT (ru.support >= r * (x2.w / total) * (oz.w / op.w)
                   OR ru.confidence >= r * CASE WHEN z = ANY (ru.a) THEN x2.w / a2.w
                                                ELSE x2.w / oa.w * (oz.w / op.w) END)) AS keep
    FROM ru) d
    FULL JOIN (SELECT antecedent::int[] AS a, consequent::int[] AS c
               FROM pv, cxsell.rules(pv.p, ancestor_interest => r)) k USING (a, c)
    WHERE (d.keep AND k.a IS NULL) OR (NOT d.keep AND k.a IS NOT NULL) OR d.a IS NULL;
  RETURN NEXT;
  what := 'rules (all)'; SELECT count(*) INTO bad FROM ru;
  RETURN NEXT;
  what := 'rules (interesting)'; SELECT count(*) INTO bad FROM pv, cxsell.rules(pv.p, ancestor_interest => r);
  RETURN NEXT;

  -- pairs of one depth: depth 0 without a parent, else 1 + the deepest parent's
  CREATE TEMP TABLE dp ON COMMIT DROP AS
    WITH RECURSIVE walk(x, node, len) AS (
      SELECT item, item, 0 FROM (SELECT DISTINCT item FROM ext) i
      UNION ALL SELECT w.x, l.parent, w.len + 1 FROM walk w JOIN links l ON l.child = w.node)
    SELECT x AS item, max(len) AS depth FROM walk GROUP BY x;
  what := 'pairs by depth'; SELECT count(*) INTO bad FROM (
    SELECT d, q.item_a::int AS a, q.item_b::int AS b, q.observed
    FROM generate_series(0, 2) d, pv, cxsell.item_pairs(pv.p, depth => d) q) c
    FULL JOIN (
      SELECT d1.depth AS d, d1.item AS a, d2.item AS b,
             (SELECT count(*) FROM ext e1 JOIN ext e2 USING (basket)
              WHERE e1.item = d1.item AND e2.item = d2.item) AS observed
      FROM dp d1 JOIN dp d2 ON d2.depth = d1.depth AND d2.item > d1.item
      WHERE EXISTS (SELECT FROM o WHERE o.items = ARRAY[d1.item])
        AND EXISTS (SELECT FROM o WHERE o.items = ARRAY[d2.item])
        AND NOT EXISTS (SELECT FROM up WHERE (child, ancestor) IN ((d1.item, d2.item), (d2.item, d1.item)))) o
    USING (d, a, b)
    WHERE c.observed IS DISTINCT FROM o.observed;
  RETURN NEXT;
  what := 'itemsets (all)'; SELECT count(*) INTO bad FROM o;
  RETURN NEXT;
  what := 'pairs by depth (all)'; SELECT count(*) INTO bad
    FROM generate_series(0, 2) d, pv, cxsell.item_pairs(pv.p, depth => d) q;
  RETURN NEXT;
END $$;

-- one data set after another (a query's plan may run every gen() first)
CREATE FUNCTION pg_temp.check_all() RETURNS TABLE (seed float8, what text, bad bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v record;
BEGIN
  FOR v IN SELECT * FROM (VALUES (0.11, 200, 30, 0.12, 0.03), (0.23, 300, 40, 0.1, 0.02),
                                 (0.37, 150, 25, 0.2, 0.05), (0.53, 500, 150, 0.025, 0.01))
                         x(seed, nb, ni, p, minsup) ORDER BY 1
  LOOP
    PERFORM pg_temp.gen(v.seed, v.nb, v.ni, v.p);
    seed := v.seed;
    FOR what, bad IN SELECT * FROM pg_temp.check(v.minsup, 1.1) LOOP
      RETURN NEXT;
    END LOOP;
  END LOOP;
END $$;
SELECT * FROM pg_temp.check_all();
