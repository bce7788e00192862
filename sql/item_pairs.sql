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

-- q_value: every pair's p-value adjusted for all the pairs tested (here 10),
-- Benjamini-Hochberg by default; relation is decided on it, so adjust =>
-- 'none' decides on the raw p-value
SELECT a.method, count(*) AS pairs,
       regress.wrong_q(a.method, array_agg(x.p_value), array_agg(x.q_value)) AS wrong_q,
       count(*) FILTER (WHERE x.relation <> CASE WHEN x.q_value >= 0.05 THEN 'independent'
                                                 WHEN x.observed > x.expected THEN 'complement'
                                                 ELSE 'substitute' END) AS wrong_relation,
       string_agg(x.item_a || x.item_b || ' ' || x.relation, ', ' ORDER BY x.item_a, x.item_b)
         FILTER (WHERE x.relation <> 'independent') AS found
FROM ipp, unnest(ARRAY['bh', 'holm', 'none']) a(method), cxsell.item_pairs(p, adjust => a.method) x
GROUP BY a.method ORDER BY a.method;
SELECT regress.err($$SELECT * FROM ipp, cxsell.item_pairs(p, adjust => 'fdr')$$);
SELECT regress.err($$SELECT * FROM ipp, cxsell.item_pairs(p, alpha => NULL)$$);
SELECT count(*) FROM cxsell.item_pairs(NULL);
