-- segment profiles, propensity and rates with intervals
-- 100 customers in two segments; 'sms' is held by 80% of the young and 20%
-- of the old, 'tv' by half of each; customer 101 has no segment (ignored)
CREATE TABLE sg_customers (customer int, segment text);
INSERT INTO sg_customers SELECT g, CASE WHEN g <= 50 THEN 'young' ELSE 'old' END FROM generate_series(1, 100) g;
INSERT INTO sg_customers VALUES (NULL, 'young'), (102, NULL);
CREATE TABLE sg_holdings (customer int, product text);
INSERT INTO sg_holdings SELECT g, 'sms' FROM generate_series(1, 100) g WHERE (g <= 50 AND g % 5 <> 0) OR (g > 50 AND g % 5 = 0);
INSERT INTO sg_holdings SELECT g, 'tv' FROM generate_series(1, 100) g WHERE g % 2 = 0;
INSERT INTO sg_holdings VALUES (101, 'sms'), (1, 'sms'), (1, NULL);

-- per segment and product: the young over-index on sms (index 1.6), the old
-- under-index (0.4); tv is held evenly.  p_value is the two-sided Fisher
-- test of the segment x holder table.
SELECT segment, product, customers, holders, adoption_rate, overall_rate, index,
       to_char(p_value, '9.999EEEE') AS p_value, direction
FROM cxsell.segment_profiles('SELECT customer, segment FROM sg_customers',
                             'SELECT customer, product FROM sg_holdings');
SELECT abs(p_value - cxsell.p_value_two_sided(40, 50, 50, 100)) < 1e-20 AS fisher
FROM cxsell.segment_profiles('SELECT customer, segment FROM sg_customers',
                             'SELECT customer, product FROM sg_holdings')
WHERE segment = 'young' AND product = 'sms';

-- propensity for sms: the adoption rate in the customer's segment
SELECT segment, holds, propensity, count(*)
FROM cxsell.segment_propensity('SELECT customer, segment FROM sg_customers',
                               'SELECT customer, product FROM sg_holdings', 'sms')
GROUP BY 1, 2, 3 ORDER BY 1, 2;

-- the Wilson interval, against the textbook formula with the exact z
SELECT * FROM cxsell.wilson_interval(81, 263);
WITH cases(s, n, conf, z) AS (VALUES
  (81, 263, 0.95, 1.959963984540054), (1, 10, 0.90, 1.6448536269514722),
  (999, 1000, 0.99, 2.5758293035489004), (5000, 10000, 0.95, 1.959963984540054),
  (3, 7, 0.5, 0.6744897501960817))
SELECT s, n, conf,
       abs(w.lower - ((s::float8 / n + z * z / (2 * n) - z * sqrt((s::float8 / n) * (1 - s::float8 / n) / n + z * z / (4.0 * n * n))) / (1 + z * z / n))) < 1e-12 AS lower_ok,
       abs(w.upper - ((s::float8 / n + z * z / (2 * n) + z * sqrt((s::float8 / n) * (1 - s::float8 / n) / n + z * z / (4.0 * n * n))) / (1 + z * z / n))) < 1e-12 AS upper_ok
FROM cases, cxsell.wilson_interval(s, n, conf) w;
-- the interval of 0 and of n successes reaches the boundary
SELECT * FROM cxsell.wilson_interval(0, 20);
SELECT * FROM cxsell.wilson_interval(20, 20, 0.99);

-- input rules
SELECT regress.err($$SELECT * FROM cxsell.wilson_interval(5, 4)$$);
SELECT regress.err($$SELECT * FROM cxsell.wilson_interval(0, 0)$$);
SELECT regress.err($$SELECT * FROM cxsell.wilson_interval(1, 4, 1.0)$$);
SELECT regress.err($$SELECT * FROM cxsell.wilson_interval(1, 4, 0)$$);
SELECT regress.err($$SELECT * FROM cxsell.wilson_interval(1, 4, 'NaN')$$);
SELECT regress.err($$SELECT * FROM cxsell.segment_profiles('SELECT 1, 2', 'SELECT 1, 2', 0)$$);
SELECT regress.err($$SELECT * FROM cxsell.segment_profiles(NULL, 'SELECT 1, 2')$$);
SELECT regress.err($$SELECT * FROM cxsell.segment_propensity('SELECT 1, 2', 'SELECT 1, 2', NULL)$$);
SELECT regress.err($$SELECT * FROM cxsell.segment_profiles('SELECT 1', 'SELECT 1, 2')$$);

-- the pooled two-proportion z test, against scipy (norm.sf) to 1e-12
WITH cases(xa, na, xb, nb, z, p) AS (VALUES
  (120, 1000, 90, 1000, 2.1882658846227234, 0.028650240398448473),
  (83, 86, 90, 93, -0.097511633911980047, 0.9223200957342691),
  (5, 40, 15, 45, -2.2601267833736842, 0.023813383298197342),
  (4000, 100000, 4300, 100000, -3.3634590917760523, 0.00076972243114510174))
SELECT xa, na, xb, nb, round(t.difference::numeric, 6) AS difference,
       abs(t.z - c.z) < 1e-12 * abs(c.z) AS z_ok, abs(t.p_value - c.p) < 1e-12 * c.p AS p_ok
FROM cases c, cxsell.two_proportion_test(xa, na, xb, nb) t;
SELECT * FROM cxsell.two_proportion_test(0, 10, 0, 20);
SELECT regress.err($$SELECT * FROM cxsell.two_proportion_test(3, 2, 1, 5)$$);
