-- per-customer recommendations and their backtest
-- 10 baskets; counts A 4, B 3, C 6, D 3; pairs AB 2, AC 2, CD 2
CREATE TABLE rec_b (basket int, item text);
INSERT INTO rec_b VALUES (1, 'A'), (1, 'B'), (2, 'A'), (2, 'B'), (3, 'A'), (3, 'C'),
  (4, 'C'), (4, 'D'), (5, 'C'), (5, 'D'), (6, 'C'), (7, 'C'), (8, 'C'), (8, 'A'),
  (9, 'D'), (10, 'B');
CREATE TABLE rec_p AS SELECT cxsell.mine(basket, item, 0.2) AS p FROM rec_b;

-- holds A: A -> B (confidence 2/4, lift 0.5/0.3) and A -> C (2/4, 0.5/0.6)
-- tie on confidence, broken by lift; D has no rule and comes from popularity
SELECT r.* FROM rec_p, cxsell.recommend(p, '{A}', 5) r;
-- holds A and D: C's best rule is D -> C (2/3) rather than A -> C (2/4);
-- by confidence C comes first, by lift B does
SELECT r.* FROM rec_p, cxsell.recommend(p, '{A,D}', 5) r;
SELECT r.* FROM rec_p, cxsell.recommend(p, '{A,D}', 5, rank_by => 'lift') r;
-- n caps the list
SELECT r.rank, r.item FROM rec_p, cxsell.recommend(p, '{A}', 1) r;
-- thresholds: lift >= 1 drops A -> C, so C comes from popularity
SELECT r.rank, r.item, r.source FROM rec_p, cxsell.recommend(p, '{A}', 5, min_lift => 1) r;
SELECT r.rank, r.item, r.source FROM rec_p, cxsell.recommend(p, '{A}', 5, min_confidence => 0.6) r;
-- without the popularity fallback only rules answer
SELECT r.rank, r.item, r.source FROM rec_p, cxsell.recommend(p, '{A}', 5, min_lift => 1, fallback => false) r;
-- popularity alone: count descending, ties (B 3, D 3) in item order
SELECT r.* FROM rec_p, cxsell.recommend(p, '{A}', 5, rank_by => 'popularity') r;
-- unknown items and NULL elements are ignored; NULL held = holds nothing
SELECT r.rank, r.item, r.source FROM rec_p, cxsell.recommend(p, ARRAY['A', NULL, 'zzz'], 5) r;
SELECT r.rank, r.item, r.source FROM rec_p, cxsell.recommend(p, NULL, 2) r;
-- held items none of which is a frequent item (case and spaces count): a
-- notice, once per call site, says so; the list is popularity alone
SELECT r.rank, r.item, r.source
FROM rec_p, (VALUES (1, ARRAY['a', 'B ']), (2, ARRAY['zzz'])) h(customer, held),
     LATERAL cxsell.recommend(p, h.held, 1) r ORDER BY h.customer;
-- holding everything leaves nothing to recommend; NULL patterns give no rows
SELECT count(*) FROM rec_p, cxsell.recommend(p, '{A,B,C,D}', 5) r;
SELECT count(*) FROM cxsell.recommend(NULL, '{A}', 5);

-- per customer through LATERAL over a holdings query
CREATE TABLE rec_holdings (customer text, product text);
INSERT INTO rec_holdings VALUES ('ann', 'A'), ('bob', 'D'), ('bob', 'A'), ('cy', 'B'), ('cy', 'zzz');
SELECT h.customer, r.rank, r.item, round(r.score::numeric, 4) AS score, r.antecedent, r.source
FROM (SELECT customer, array_agg(product) AS held FROM rec_holdings GROUP BY customer) h
     CROSS JOIN rec_p,
     LATERAL cxsell.recommend(rec_p.p, h.held, 2) r
ORDER BY h.customer, r.rank;

-- input rules
SELECT regress.err($$SELECT * FROM rec_p, cxsell.recommend(p, '{A}', 0)$$);
SELECT regress.err($$SELECT * FROM rec_p, cxsell.recommend(p, '{A}', NULL)$$);
SELECT regress.err($$SELECT * FROM rec_p, cxsell.recommend(p, '{A}', 3, rank_by => 'support')$$);
SELECT regress.err($$SELECT * FROM rec_p, cxsell.recommend(p, '{A}', 3, min_confidence => 1.5)$$);
SELECT regress.err($$SELECT * FROM rec_p, cxsell.recommend(p, '{A}', 3, min_lift => -1)$$);
SELECT regress.err($$SELECT * FROM rec_p, cxsell.recommend(p, '{{A,B}}', 3)$$);
-- the checks hold with no patterns too
SELECT regress.err($$SELECT * FROM cxsell.recommend(NULL, '{A}', -2)$$);

-- randomised check against a plain-SQL reading of the documented rule
-- (customers holding only infrequent items are common here: no notices)
-- (best firing rule per item from cxsell.rules, ranked, topped up by
-- popularity), over seeded datasets, customers and options
CREATE FUNCTION regress.recommend_oracle(p cxsell.patterns, held text[], n int,
  rank_by text, min_conf float8, min_lift float8, fallback bool)
RETURNS TABLE (rank bigint, item text, score float8, antecedent text[], source text)
LANGUAGE sql AS $$
WITH r AS (
  SELECT consequent[1] AS item, confidence, lift, count, antecedent
  FROM cxsell.rules(p, max_consequent => 1)
  WHERE antecedent <@ held AND NOT (consequent[1] = ANY (held))
    AND confidence >= min_conf AND lift >= min_lift AND rank_by <> 'popularity'),
best AS (
  SELECT DISTINCT ON (item) * FROM r
  ORDER BY item, confidence DESC, count DESC, cardinality(antecedent), antecedent),
ranked AS (
  SELECT row_number() OVER (ORDER BY CASE WHEN rank_by = 'lift' THEN lift ELSE confidence END DESC,
                                     CASE WHEN rank_by = 'lift' THEN confidence ELSE lift END DESC,
                                     count DESC, item) AS pos,
         item, CASE WHEN rank_by = 'lift' THEN lift ELSE confidence END AS score, antecedent
  FROM best),
pop AS (
  SELECT (SELECT count(*) FROM best) + row_number() OVER (ORDER BY i.count DESC, i.items[1]) AS pos,
         i.items[1] AS item, i.support
  FROM cxsell.itemsets(p) i
  WHERE i.size = 1 AND NOT (i.items[1] = ANY (held))
    AND i.items[1] NOT IN (SELECT item FROM best))
SELECT pos, item, score, antecedent, 'rule' FROM ranked WHERE pos <= n
UNION ALL
SELECT pos, item, support, '{}', 'popularity' FROM pop
WHERE pos <= n AND (fallback OR rank_by = 'popularity')
$$;

CREATE TABLE rec_cases (ds int, customer int, p cxsell.patterns, held text[], n int,
  rank_by text, min_conf float8, min_lift float8, fallback bool);
DO $$
DECLARE ds int; nb int; ni int; ms float8; pat cxsell.patterns;
BEGIN
  PERFORM setseed(0.4242);
  FOR ds IN 1..50 LOOP
    nb := 40 + floor(random() * 160)::int;
    ni := 6 + floor(random() * 10)::int;
    CREATE TEMP TABLE lines AS
    SELECT b AS basket, 'i' || lpad(floor(ni * power(random(), 1.5))::int::text, 2, '0') AS item
    FROM generate_series(1, nb) b, LATERAL generate_series(1, 1 + floor(random() * 5)::int) k;
    ms := 0.03 + random() * 0.1;
    SELECT cxsell.mine(basket, item, ms) INTO pat FROM lines;
    INSERT INTO rec_cases
    SELECT ds, c, pat,
           ARRAY(SELECT 'i' || lpad(floor(random() * (ni + 2) + c * 0)::int::text, 2, '0')
                 FROM generate_series(1, floor(random() * 5)::int)),
           1 + floor(random() * 6)::int,
           (ARRAY['confidence', 'lift', 'popularity'])[1 + floor(random() * 2.2)::int],
           (ARRAY[0, 0.3])[1 + floor(random() * 2)::int],
           (ARRAY[0, 1])[1 + floor(random() * 2)::int],
           random() < 0.7
    FROM generate_series(1, 25) c;
    DROP TABLE lines;
  END LOOP;
END $$;
SELECT count(*) AS cases, count(DISTINCT ds) AS datasets FROM rec_cases;
SET client_min_messages = warning;
WITH got AS (
  SELECT c.ds, c.customer, r.rank::bigint AS rank, r.item, r.score, r.antecedent, r.source
  FROM rec_cases c,
       LATERAL cxsell.recommend(c.p, c.held, c.n, c.rank_by, c.min_conf, c.min_lift, c.fallback) r),
want AS (
  SELECT c.ds, c.customer, o.*
  FROM rec_cases c,
       LATERAL regress.recommend_oracle(c.p, c.held, c.n, c.rank_by, c.min_conf, c.min_lift, c.fallback) o)
SELECT (SELECT count(*) FROM want) AS rows_expected,
       (SELECT count(*) FROM want WHERE source = 'rule') AS rule_rows,
       count(*) AS disagreements
FROM (SELECT * FROM got EXCEPT SELECT * FROM want
      UNION ALL
      SELECT * FROM want EXCEPT SELECT * FROM got) d;
RESET client_min_messages;

-- backtest: hold out a seeded fifth of the baskets, hide one item of each,
-- recommend from the rest with rules mined on the other baskets
SELECT setseed(0.77);
CREATE TABLE rec_bt AS
SELECT b AS basket, 'i' || lpad(floor(12 * power(random(), 1.4))::int::text, 2, '0') AS item
FROM generate_series(1, 600) b,
     LATERAL generate_series(1, 1 + floor(random() * 4)::int + b * 0) k;
-- some items go together: i00 mostly with i01, i09 with i10 and i11
INSERT INTO rec_bt SELECT basket, 'i01' FROM rec_bt WHERE item = 'i00' AND basket % 5 <> 0;
INSERT INTO rec_bt SELECT basket, 'i10' FROM rec_bt WHERE item = 'i09';
INSERT INTO rec_bt SELECT basket, 'i11' FROM rec_bt WHERE item = 'i09' AND basket % 3 <> 0;
SELECT method, train_baskets, test_baskets, hits, round(hit_rate::numeric, 4) AS hit_rate,
       round(hit_rate_lower::numeric, 4) AS lower, round(hit_rate_upper::numeric, 4) AS upper,
       round(coverage::numeric, 4) AS coverage, items_recommended
FROM cxsell.backtest('SELECT basket, item FROM rec_bt', 0.02, 3);
-- the same figures from the documented definition, in plain SQL
WITH lines AS (SELECT DISTINCT basket::text AS basket, item FROM rec_bt),
split AS (
  SELECT *, ((hashtextextended(basket, 0) & 9223372036854775807)::float8
             / 9223372036854775808.0) < 0.2 AS test FROM lines),
model AS (SELECT cxsell.mine(basket, item, 0.02) AS p FROM split WHERE NOT test),
ranked AS (
  SELECT basket, item,
         row_number() OVER (PARTITION BY basket ORDER BY hashtextextended(item, hashtextextended(basket, 0)), item) AS pos,
         count(*) OVER (PARTITION BY basket) AS size
  FROM split WHERE test),
cases AS (
  SELECT basket, max(item) FILTER (WHERE pos = 1) AS hidden,
         array_agg(item) FILTER (WHERE pos > 1) AS held
  FROM ranked WHERE size >= 2 GROUP BY basket)
SELECT m.method, count(*) AS test_baskets,
       count(*) FILTER (WHERE EXISTS (
         SELECT FROM regress.recommend_oracle(model.p, c.held, 3, m.rank_by, 0, 0, true) o
         WHERE o.item = c.hidden)) AS hits
FROM cases c, model, (VALUES (1, 'rules', 'confidence'), (2, 'popularity', 'popularity')) m(ord, method, rank_by)
GROUP BY m.ord, m.method ORDER BY m.ord;
-- other seeds, holdouts and options
SELECT method, test_baskets, hits FROM cxsell.backtest('SELECT basket, item FROM rec_bt', 0.02, 3, holdout => 0.5, seed => 7);
SELECT method, hits, round(coverage::numeric, 4) AS coverage
FROM cxsell.backtest('SELECT basket, item FROM rec_bt', 0.02, 1, rank_by => 'lift', min_lift => 1, fallback => false);
-- empty input: no rows
SELECT count(*) FROM cxsell.backtest('SELECT basket, item FROM rec_bt WHERE false', 0.02);

-- backtest input rules
SELECT regress.err($$SELECT * FROM cxsell.backtest(NULL, 0.02)$$);
SELECT regress.err($$SELECT * FROM cxsell.backtest('SELECT basket, item FROM rec_bt', 0.02, holdout => 1)$$);
SELECT regress.err($$SELECT * FROM cxsell.backtest('SELECT basket, item FROM rec_bt', 0.02, holdout => 0)$$);
SELECT regress.err($$SELECT * FROM cxsell.backtest('SELECT basket, item FROM rec_bt', 0.02, seed => NULL)$$);
SELECT regress.err($$SELECT * FROM cxsell.backtest('SELECT basket, item FROM rec_bt', 0)$$);
SELECT regress.err($$SELECT * FROM cxsell.backtest('SELECT basket, item FROM rec_bt', 0.02, max_len => -1)$$);
SELECT regress.err($$SELECT * FROM cxsell.backtest('SELECT basket, item FROM rec_bt', 0.02, 0)$$);
SELECT regress.err($$SELECT * FROM cxsell.backtest('SELECT basket, item FROM rec_bt', 0.02, rank_by => 'x')$$);
SELECT regress.err($$SELECT * FROM cxsell.backtest('SELECT basket FROM rec_bt', 0.02)$$);
