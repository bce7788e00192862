-- cxsell.mine_sequences against the definition, recounted by brute force in
-- SQL over the customers' histories: every sequence of up to 3 items within
-- the window, its customers, the median gap of the earliest occurrences, the
-- items' follow counts and every rule's confidence and lift.  Each data set
-- plants a sequence (A then B a few days later, for a share of A's
-- customers) that the rules must find with the planted strength.

-- n customers, each with up to 9 events on days 0..199 of 1 or 2 of 14
-- skewed items; 'A' customers take 'B' 1..min(20, w) days after A with
-- probability `strength` (B is otherwise rare)
SET check_function_bodies = off;  -- the functions read a table made later
CREATE FUNCTION pg_temp.generate(seed float8, n int, strength float8, w int) RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE
  planted numeric;
BEGIN
  PERFORM setseed(seed);
  DROP TABLE IF EXISTS ev;
  CREATE TABLE ev AS
  SELECT c, t, i FROM (
    SELECT c, (random() * 199)::int AS t,
           'i' || least(13, floor(-ln(1 - random()) * 4))::int AS i
    FROM generate_series(1, n) c, generate_series(1, 1 + (random() * 12)::int) k
    WHERE random() < 0.7) x;
  -- some customers take A; of them a share take B soon after
  INSERT INTO ev
  SELECT c, t, 'A' FROM (SELECT c, (random() * 170)::int AS t FROM generate_series(1, n) c) x
  WHERE c % 3 = 0;
  INSERT INTO ev
  SELECT e.c, e.t + 1 + (random() * (least(20, w) - 1))::int, 'B' FROM ev e
  WHERE e.i = 'A' AND random() < strength;
  -- the share of A's customers planted with B (what the rule must find)
  SELECT round((SELECT count(DISTINCT c) FROM ev WHERE i = 'B')::numeric
               / (SELECT count(DISTINCT c) FROM ev WHERE i = 'A'), 2) INTO planted;
  INSERT INTO ev SELECT c, (random() * 199)::int, 'B' FROM generate_series(1, n) c WHERE random() < 0.03;
  ANALYZE ev;
  RETURN planted;
END
$$;

-- the brute-force recount: occurrences of every sequence of 1 to 3 items
-- within the window w, the earliest occurrence of each per customer
CREATE FUNCTION pg_temp.recount(w int, min_count bigint)
RETURNS TABLE (items text[], customers bigint, median_gap float8)
LANGUAGE sql AS $$
  WITH e AS (SELECT DISTINCT c, t, i FROM ev),
  occ AS (
    (SELECT DISTINCT ON (a.c, a.i, b.i) ARRAY[a.i, b.i] AS items, a.c, b.t - a.t AS gap
     FROM e a JOIN e b ON b.c = a.c AND b.t > a.t AND b.t - a.t <= w
     ORDER BY a.c, a.i, b.i, a.t, b.t)
    UNION ALL
    (SELECT DISTINCT ON (a.c, a.i, b.i, d.i) ARRAY[a.i, b.i, d.i], a.c, d.t - b.t
     FROM e a JOIN e b ON b.c = a.c AND b.t > a.t
              JOIN e d ON d.c = a.c AND d.t > b.t AND d.t - a.t <= w
     ORDER BY a.c, a.i, b.i, d.i, a.t, b.t, d.t))
  SELECT ARRAY[i], count(DISTINCT c), NULL::float8 FROM e GROUP BY i
  HAVING count(DISTINCT c) >= min_count
  UNION ALL
  SELECT items, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY gap)
  FROM occ GROUP BY items HAVING count(*) >= min_count
$$;

-- customers who took each item after an earlier event within the window
CREATE FUNCTION pg_temp.follow(w int) RETURNS TABLE (item text, customers bigint)
LANGUAGE sql AS $$
  SELECT b.i, count(DISTINCT b.c)
  FROM ev b WHERE EXISTS (SELECT 1 FROM ev a WHERE a.c = b.c AND a.t < b.t AND b.t - a.t <= w)
  GROUP BY b.i
$$;

-- disagreements between the miner and the recount, and the planted rule
CREATE FUNCTION pg_temp.check(w int, min_support float8)
RETURNS TABLE (sequences bigint, longest int, missing bigint, extra bigint, wrong_count bigint,
               wrong_gap bigint, wrong_rule bigint, planted_confidence numeric,
               planted_best_lift boolean)
LANGUAGE plpgsql AS $$
DECLARE
  s cxsell.sequences;
  n bigint;
BEGIN
  SELECT cxsell.mine_sequences(c, t, i, min_support, 3, w::int8) INTO s FROM ev;
  SELECT customers INTO n FROM cxsell.summary(s);
  CREATE TEMP TABLE mined AS SELECT * FROM cxsell.sequences(s);
  CREATE TEMP TABLE truth AS SELECT * FROM pg_temp.recount(w, (SELECT min_count FROM cxsell.summary(s)));
  CREATE TEMP TABLE rules AS SELECT * FROM cxsell.sequence_rules(s);
  RETURN QUERY
  SELECT (SELECT count(*) FROM mined), (SELECT max(length) FROM mined),
         (SELECT count(*) FROM truth t WHERE NOT EXISTS (SELECT 1 FROM mined m WHERE m.items = t.items)),
         (SELECT count(*) FROM mined m WHERE NOT EXISTS (SELECT 1 FROM truth t WHERE m.items = t.items)),
         (SELECT count(*) FROM mined m JOIN truth t USING (items) WHERE m.customers <> t.customers),
         (SELECT count(*) FROM mined m JOIN truth t USING (items)
          WHERE m.median_gap IS DISTINCT FROM t.median_gap),
         -- each rule against counts recounted: confidence, base rate, lift
         (SELECT count(*) FROM rules r
            JOIN truth ta ON ta.items = r.antecedent
            JOIN truth tp ON tp.items = r.antecedent || r.consequent
            JOIN pg_temp.follow(w) f ON f.item = r.consequent
          WHERE r.customers <> tp.customers OR r.antecedent_customers <> ta.customers
             OR r.confidence <> tp.customers::float8 / ta.customers
             OR abs(r.base_rate - f.customers::float8 / n) > 1e-15
             OR abs(r.lift - (tp.customers::float8 / ta.customers) / (f.customers::float8 / n)) > 1e-12)
         + (SELECT count(*) FROM mined WHERE length > 1)
         - (SELECT count(*) FROM rules),
         (SELECT round(confidence::numeric, 2) FROM rules
          WHERE antecedent = '{A}' AND consequent = 'B'),
         (SELECT antecedent = '{A}' AND consequent = 'B' FROM rules
          WHERE cardinality(antecedent) = 1 ORDER BY lift DESC LIMIT 1);
  DROP TABLE mined, truth, rules;
END
$$;

-- (generate returns the share of A's customers planted with B; the rule's
-- confidence is that share plus B taken by chance)
SELECT pg_temp.generate(0.11, 300, 0.6, 30);
SELECT * FROM pg_temp.check(30, 0.02);
SELECT pg_temp.generate(0.22, 400, 0.4, 60);
SELECT * FROM pg_temp.check(60, 0.01);
SELECT pg_temp.generate(0.33, 250, 0.8, 15);
SELECT * FROM pg_temp.check(15, 0.015);
-- a wide window: most sequences of three items are within it
SELECT pg_temp.generate(0.44, 300, 0.5, 400);
SELECT * FROM pg_temp.check(400, 0.05);
