-- rules over time: the drift of rules between two mining results, on a
-- worked example, its bad inputs, and seeded pairs of periods against a
-- recount of both.

-- before: 10 baskets, A with B in 8 of A's 10; after: A with B in 3 of 10,
-- C appears with A (6 of 10), D has gone
CREATE TABLE rd_lines (period text, basket int, item text);
INSERT INTO rd_lines
SELECT 'before', b, 'A' FROM generate_series(1, 10) b
UNION ALL SELECT 'before', b, 'B' FROM generate_series(1, 8) b
UNION ALL SELECT 'before', b, 'D' FROM generate_series(5, 10) b
UNION ALL SELECT 'after', b, 'A' FROM generate_series(1, 10) b
UNION ALL SELECT 'after', b, 'B' FROM generate_series(1, 3) b
UNION ALL SELECT 'after', b, 'C' FROM generate_series(5, 10) b;
CREATE TABLE rd_p AS
SELECT (SELECT cxsell.mine(basket, item, 0.2) FROM rd_lines WHERE period = 'before') AS before,
       (SELECT cxsell.mine(basket, item, 0.2) FROM rd_lines WHERE period = 'after') AS after;
-- {A} -> {B}: 8/10 then 3/10, Fisher two-sided p = 0.0698 (not below 0.05:
-- stable); at alpha 0.1 weakened; {B} -> {A} stays at 1
SELECT antecedent, consequent, count_before, count_after,
       round(confidence_before::numeric, 3) AS conf_before, round(confidence_after::numeric, 3) AS conf_after,
       round(confidence_change::numeric, 3) AS change, round(p_value::numeric, 4) AS p_value,
       round(q_value::numeric, 4) AS q_value, status
FROM rd_p, cxsell.rule_drift(before, after);
SELECT antecedent, consequent, status
FROM rd_p, cxsell.rule_drift(before, after, alpha => 0.1, adjust => 'none')
WHERE p_value IS NOT NULL;
-- the filters apply in either period: at confidence 0.5, {A} -> {B} passes
-- only before and is still compared
SELECT antecedent, consequent, status
FROM rd_p, cxsell.rule_drift(before, after, min_confidence => 0.5, max_consequent => 1);
-- lift and support in both periods
SELECT antecedent, consequent, support_before, support_after, lift_before, lift_after
FROM rd_p, cxsell.rule_drift(before, after) WHERE antecedent = '{B}';
-- weighted values are compared by their counts: the filters too (here the
-- weights would make {A} -> {B} pass at 0.9 after, its counts 3/10 do not)
SELECT antecedent, consequent, round(confidence_after::numeric, 3) AS conf_after, status
FROM rd_p,
     cxsell.rule_drift(before, (SELECT cxsell.mine(basket, item, 0.2, 0, CASE WHEN basket <= 3 THEN 100 ELSE 1 END)
                                FROM rd_lines WHERE period = 'after'), min_confidence => 0.9)
WHERE antecedent = '{A}' AND consequent = '{B}';
SELECT regress.err($$SELECT * FROM rd_p, cxsell.rule_drift(before, after, adjust => NULL)$$);
-- no previous result: every rule emerges; no result at all: nothing
SELECT count(*) AS rules, count(*) FILTER (WHERE status = 'emerging') AS emerging
FROM rd_p, cxsell.rule_drift(NULL, after);
SELECT count(*) FROM cxsell.rule_drift(NULL, NULL);
-- adjusting p-values as rules do
SELECT cxsell.adjust_p_values(ARRAY[0.01, 0.04, 0.03]) AS bh,
       cxsell.adjust_p_values(ARRAY[0.01, 0.04, 0.03], 'holm') AS holm,
       cxsell.adjust_p_values(ARRAY[0.01, 0.04, 0.03], 'none') AS none,
       cxsell.adjust_p_values('{}') AS empty;
-- an itemset's count by name
SELECT cxsell.itemset_count(after, '{C,A}') AS a_c, cxsell.itemset_count(after, '{B,C}') AS b_c,
       cxsell.itemset_count(after, '{Z}') AS unknown
FROM rd_p;

-- bad input
SELECT regress.err($$SELECT * FROM rd_p, cxsell.rule_drift(before, after, alpha => 0)$$);
SELECT regress.err($$SELECT * FROM rd_p, cxsell.rule_drift(before, after, alpha => NULL)$$);
SELECT regress.err($$SELECT * FROM rd_p, cxsell.rule_drift(before, after, adjust => 'sidak')$$);
SELECT regress.err($$SELECT * FROM rd_p, cxsell.rule_drift(before, after, min_confidence => 2)$$);
SELECT regress.err($$SELECT cxsell.adjust_p_values(ARRAY[0.5, NULL])$$);
SELECT regress.err($$SELECT cxsell.adjust_p_values(ARRAY[1.5])$$);
SELECT regress.err($$SELECT cxsell.adjust_p_values(ARRAY[[0.1]])$$);

-- randomised: two periods over the same items, the second with some pairs
-- strengthened and some weakened; every rule of either period against the
-- counts recounted in both, Fisher's test of them, q-values by
-- Benjamini-Hochberg over the rules tested (written here with window
-- functions), and the status by its definition
CREATE TABLE rd_data (period int, basket int, item int);
CREATE FUNCTION pg_temp.gen(seed float8, nb int, ni int, p float8) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE rd_data;
  PERFORM setseed(seed);
  INSERT INTO rd_data
  SELECT t, b, i FROM generate_series(1, 2) t, generate_series(1, nb) b, generate_series(1, ni) i
  WHERE random() + 0 * b < p * (0.5 + i / ni::float8);
  -- period 2: item 1 follows item 2 more often, item 3 leaves item 4
  INSERT INTO rd_data SELECT DISTINCT 2, basket, 1 FROM rd_data
  WHERE period = 2 AND item = 2 AND random() < 0.9
    AND NOT EXISTS (SELECT FROM rd_data d WHERE d.period = 2 AND d.basket = rd_data.basket AND d.item = 1);
  DELETE FROM rd_data d WHERE period = 2 AND item = 3 AND random() < 0.9
    AND EXISTS (SELECT FROM rd_data e WHERE e.period = 2 AND e.basket = d.basket AND e.item = 4);
END $$;

CREATE FUNCTION pg_temp.check(minsup float8, minconf float8) RETURNS TABLE (what text, n bigint)
LANGUAGE plpgsql AS $$
DECLARE
  mc1 bigint;
  mc2 bigint;
  n1 bigint;
  n2 bigint;
BEGIN
  SET LOCAL client_min_messages = warning;
  DROP TABLE IF EXISTS bk, o, got, expect;
  RESET client_min_messages;
  CREATE TEMP TABLE bk ON COMMIT DROP AS
    SELECT period, basket, array_agg(DISTINCT item ORDER BY item) AS items FROM rd_data GROUP BY 1, 2;
  SELECT count(*) INTO n1 FROM bk WHERE period = 1;
  SELECT count(*) INTO n2 FROM bk WHERE period = 2;
  SELECT min(c) INTO mc1 FROM generate_series(1, n1) c WHERE c::float8 / n1 >= minsup;
  SELECT min(c) INTO mc2 FROM generate_series(1, n2) c WHERE c::float8 / n2 >= minsup;
  CREATE TEMP TABLE got ON COMMIT DROP AS
    SELECT d.* FROM cxsell.rule_drift(
      (SELECT cxsell.mine(basket, item, minsup, 3) FROM rd_data WHERE period = 1),
      (SELECT cxsell.mine(basket, item, minsup, 3) FROM rd_data WHERE period = 2),
      min_confidence => minconf) d;
  -- the recount: every rule of up to 3 items of either period, its counts in both
  CREATE TEMP TABLE o ON COMMIT DROP AS
    WITH sets AS (
      SELECT DISTINCT s.items FROM bk,
        LATERAL (SELECT ARRAY[a] AS items FROM unnest(bk.items) a
                 UNION ALL SELECT ARRAY[a, b] FROM unnest(bk.items) a, unnest(bk.items) b WHERE a < b
                 UNION ALL SELECT ARRAY[a, b, c] FROM unnest(bk.items) a, unnest(bk.items) b, unnest(bk.items) c
                           WHERE a < b AND b < c) s),
    counted AS (
      SELECT s.items,
             (SELECT count(*) FROM bk WHERE bk.period = 1 AND bk.items @> s.items) AS c1,
             (SELECT count(*) FROM bk WHERE bk.period = 2 AND bk.items @> s.items) AS c2
      FROM sets s),
    splits AS (
      SELECT x.items, sp.a, sp.c
      FROM counted x, generate_series(1, (2 ^ cardinality(x.items))::int - 2) m,
           LATERAL (SELECT array_agg(e ORDER BY e) FILTER (WHERE (m >> (k::int - 1)) & 1 = 1) AS a,
                           array_agg(e ORDER BY e) FILTER (WHERE (m >> (k::int - 1)) & 1 = 0) AS c
                    FROM unnest(x.items) WITH ORDINALITY u(e, k)) sp
      WHERE cardinality(x.items) > 1)
    SELECT s.a, s.c,
           CASE WHEN x.c1 >= mc1 THEN x.c1 END AS ac1, CASE WHEN x.c2 >= mc2 THEN x.c2 END AS ac2,
           a.c1 AS a1, a.c2 AS a2, c.c1 AS cc1, c.c2 AS cc2
    FROM splits s JOIN counted x ON x.items = s.items JOIN counted a ON a.items = s.a
         JOIN counted c ON c.items = s.c
    WHERE (x.c1 >= mc1 AND x.c1::float8 / a.c1 >= minconf) OR (x.c2 >= mc2 AND x.c2::float8 / a.c2 >= minconf);
  CREATE TEMP TABLE expect ON COMMIT DROP AS
    WITH t AS (
      SELECT o.*, CASE WHEN ac1 IS NOT NULL AND ac2 IS NOT NULL
                       THEN cxsell.p_value_two_sided(ac1, a1, ac1 + ac2, a1 + a2) END AS p
      FROM o),
    r AS (SELECT t.*, row_number() OVER (ORDER BY p, a, c) AS rk,
                 count(p) OVER () AS m FROM t WHERE p IS NOT NULL),
    q AS (SELECT r.a, r.c, min(least(1, r2.m * r2.p / r2.rk)) AS q
          FROM r JOIN r r2 ON r2.p >= r.p GROUP BY r.a, r.c)
    SELECT t.a, t.c, t.ac1, t.ac2, t.p, q.q,
           CASE WHEN t.ac1 IS NULL THEN 'emerging' WHEN t.ac2 IS NULL THEN 'vanishing'
                WHEN q.q < 0.05 AND t.ac2::float8 / t.a2 > t.ac1::float8 / t.a1 THEN 'strengthened'
                WHEN q.q < 0.05 AND t.ac2::float8 / t.a2 < t.ac1::float8 / t.a1 THEN 'weakened'
                ELSE 'stable' END AS status
    FROM t LEFT JOIN q ON q.a = t.a AND q.c = t.c;
  what := 'disagreements';
  SELECT count(*) INTO n
  FROM (SELECT antecedent::int[] AS a, consequent::int[] AS c, count_before, count_after, p_value,
               q_value, status FROM got) g
  FULL JOIN expect e USING (a, c)
  WHERE g.a IS NULL OR e.a IS NULL OR g.count_before IS DISTINCT FROM e.ac1
     OR g.count_after IS DISTINCT FROM e.ac2 OR g.p_value IS DISTINCT FROM e.p
     OR abs(g.q_value - e.q) > 1e-12 OR (g.q_value IS NULL) <> (e.q IS NULL)
     OR g.status IS DISTINCT FROM e.status;
  RETURN NEXT;
  FOR what, n IN SELECT 'rules ' || status, count(*) FROM got GROUP BY status ORDER BY status LOOP
    RETURN NEXT;
  END LOOP;
END $$;

CREATE FUNCTION pg_temp.check_all() RETURNS TABLE (seed float8, what text, n bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v record;
BEGIN
  FOR v IN SELECT * FROM (VALUES (0.12, 300, 8, 0.25, 0.01, 0.0), (0.34, 500, 10, 0.2, 0.015, 0.3),
                                 (0.56, 250, 6, 0.35, 0.03, 0.5)) x(seed, nb, ni, p, minsup, minconf)
                         ORDER BY 1
  LOOP
    PERFORM pg_temp.gen(v.seed, v.nb, v.ni, v.p);
    seed := v.seed;
    FOR what, n IN SELECT * FROM pg_temp.check(v.minsup, v.minconf) LOOP
      RETURN NEXT;
    END LOOP;
  END LOOP;
END $$;
SELECT * FROM pg_temp.check_all();
