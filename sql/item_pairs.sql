-- cxsell.item_pairs: the association matrix, with complements and substitutes
-- 40 baskets: A and B go together (12 together, 2 each alone), C and D
-- exclude each other (12 each, never together), E is in every fourth basket
CREATE TABLE ip AS
SELECT b AS basket, item
FROM generate_series(1, 40) b,
     LATERAL (VALUES ('A', b <= 14), ('B', b <= 12 OR b IN (15, 16)),
                     ('C', b BETWEEN 17 AND 28), ('D', b > 28), ('E', b % 4 = 0)) v(item, holds)
WHERE holds;
CREATE TABLE ipp AS SELECT cxsell.mine(basket, item, 0.2) AS p FROM ip;

-- every pair of frequent items, including C-D that never co-occur
-- (expected 12 * 12 / 40 = 3.6)
SELECT item_a, item_b, count_a, count_b, observed, round(expected::numeric, 4) AS expected,
       round(support::numeric, 4) AS support, round(lift::numeric, 4) AS lift,
       round(p_value::numeric, 8) AS p_value, relation
FROM ipp, cxsell.item_pairs(p);

-- a stricter significance level turns weaker findings independent
SELECT item_a, item_b, relation FROM ipp, cxsell.item_pairs(p, alpha => 0.0001)
WHERE relation <> 'independent';

-- p_value is the two-sided Fisher exact test of the pair's 2x2 table
SELECT bool_and(p_value = cxsell.p_value_two_sided(observed, count_a, count_b, 40)) AS same
FROM ipp, cxsell.item_pairs(p);

-- max_len = 1 mines single items only, but the pair counts are still there
SELECT count(*) AS pairs, sum(observed) AS co_occurrences
FROM cxsell.item_pairs((SELECT cxsell.mine(basket, item, 0.2, 1) FROM ip));
