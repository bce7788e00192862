-- The cxsell demo: mine the sample baskets and print what a marketer needs.
\pset footer off
\echo
\echo '== The data: baskets, customers, products'
SELECT count(DISTINCT basket) AS baskets, count(DISTINCT customer) AS customers,
       count(DISTINCT item) AS products, count(*) AS lines
FROM sample_lines;

\echo
\echo '== Mine once (itemsets of at least 1% of baskets), keep the result'
CREATE TABLE mined AS SELECT cxsell.mine(basket, item, 0.01) AS p FROM sample_lines;
SELECT baskets, min_count, items, itemsets, max_itemset_size FROM mined, cxsell.summary(p);

\echo
\echo '== Do the right things: the strongest cross-sell rules (confidence >= 0.3, by lift)'
SELECT array_to_string(antecedent, ' + ') AS "who buys", array_to_string(consequent, ' + ') AS "also buys",
       round(support::numeric, 3) AS support, round(confidence::numeric, 3) AS confidence,
       round(lift::numeric, 2) AS lift, count AS baskets, to_char(p_value, '9.9EEEE') AS p_value
FROM mined, cxsell.rules(p, min_confidence => 0.3, max_consequent => 1, max_rules => 10, rank_by => 'lift');

\echo
\echo '== Complements and substitutes among the frequent products (two-sided Fisher, q-value below 0.001)'
SELECT item_a, item_b, observed, round(expected::numeric, 1) AS expected,
       round(lift::numeric, 2) AS lift, to_char(q_value, '9.9EEEE') AS q_value, relation
FROM mined, cxsell.item_pairs(p, alpha => 0.001)
WHERE relation <> 'independent'
ORDER BY relation, q_value, item_a, item_b
LIMIT 14;

\echo
\echo '== Only rules that recommend a screen protector'
SELECT array_to_string(antecedent, ' + ') AS "who buys", round(confidence::numeric, 3) AS confidence,
       round(lift::numeric, 2) AS lift, count AS baskets
FROM mined, cxsell.rules(p, consequents => ARRAY['screen protector'], min_confidence => 0.1);

\echo
\echo '== Find the right people: segment customers by what they buy (k-means, standardised)'
CREATE TABLE usage AS
SELECT customer,
       ARRAY[count(DISTINCT basket),
             count(*)::float8 / count(DISTINCT basket),
             avg((item IN ('smartphone', 'phone case', 'screen protector'))::int),
             avg((item IN ('pasta', 'pasta sauce', 'parmesan'))::int)]::float8[] AS f
FROM sample_lines GROUP BY customer;
CREATE TABLE model AS SELECT cxsell.kmeans(f, 3, '{"standardize": true}') AS m FROM usage;
SELECT cluster, size, round(centroid[1]::numeric, 2) AS baskets,
       round(centroid[2]::numeric, 2) AS "lines per basket",
       round(centroid[3]::numeric, 2) AS "phone share", round(centroid[4]::numeric, 2) AS "pasta share"
FROM model, cxsell.centroids(m);

\echo
\echo '== Offer the right product: the next three products for five customers'
SELECT c.customer, r.rank, r.item AS offer, round(r.score::numeric, 3) AS confidence,
       round(r.lift::numeric, 2) AS lift, array_to_string(r.antecedent, ' + ') AS "because they bought",
       r.source
FROM (SELECT customer, array_agg(DISTINCT item) AS held
      FROM sample_lines GROUP BY customer ORDER BY customer LIMIT 5) c
     CROSS JOIN mined,
     LATERAL cxsell.recommend(mined.p, c.held, 3) r
ORDER BY c.customer, r.rank;

\echo
\echo '== Are the offers any good? Backtest: hide one product of each held-out basket'
SELECT method, test_baskets, hits, round(hit_rate::numeric, 3) AS hit_rate,
       '[' || round(hit_rate_lower::numeric, 3) || ', ' || round(hit_rate_upper::numeric, 3) || ']' AS "95% interval",
       round(coverage::numeric, 3) AS coverage
FROM cxsell.backtest('SELECT basket, item FROM sample_lines', 0.01, 3);
