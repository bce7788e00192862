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
SELECT regress.err($$SELECT * FROM cxsell.segment_profiles('SELECT 1, 2', 'SELECT 1, 2', adjust => 'fdr')$$);
SELECT regress.err($$SELECT * FROM cxsell.segment_profiles('SELECT 1, 2', 'SELECT 1, 2', adjust => NULL)$$);

-- likely mistakes with query text, each reported in one line naming the
-- argument: a table name, a syntax error, several statements, a write
SELECT regress.err($$SELECT * FROM cxsell.segment_profiles('sg_customers', 'SELECT customer, product FROM sg_holdings')$$);
SELECT regress.err($$SELECT * FROM cxsell.segment_profiles('SELECT customer, segment FROM sg_customers', 'public.sg_holdings;')$$);
SELECT regress.err($$SELECT * FROM cxsell.segment_profiles('SELECT customer segment FROM FROM sg_customers', 'SELECT 1, 2')$$);
SELECT regress.err($$SELECT * FROM cxsell.segment_propensity('SELECT 1, 2; SELECT 3, 4', 'SELECT 1, 2', 'sms')$$);
SELECT regress.err($$SELECT * FROM cxsell.segment_propensity('SELECT 1, 2', 'DELETE FROM sg_holdings RETURNING customer, product', 'sms')$$);
SELECT regress.err($$SELECT * FROM cxsell.segment_profiles('SELECT customer, segment FROM no_such_table', 'SELECT 1, 2')$$);
-- a trailing semicolon is fine
SELECT count(*) FROM cxsell.segment_profiles('SELECT customer, segment FROM sg_customers;',
                                             'SELECT customer, product FROM sg_holdings ; ');
-- columns swapped (segment, customer): no customer matches, a warning says
-- so instead of a silent empty answer
SELECT count(*) FROM cxsell.segment_profiles('SELECT segment, customer FROM sg_customers',
                                             'SELECT customer, product FROM sg_holdings');

-- q_value: the p-values adjusted for the whole table, Benjamini-Hochberg by
-- default, Holm or none on request, against their definitions in SQL;
-- direction is decided on q_value
CREATE TABLE sg_many (customer int, segment text, product text);
INSERT INTO sg_many
SELECT c, 's' || (c % 6), 'p' || k
FROM generate_series(1, 600) c, generate_series(1, 8) k
WHERE abs(hashint4(c * 31 + k)) % 100 < 20 + 25 * (c % 6 = k % 6)::int + 2 * k;
SELECT a.method, count(*) AS tests,
       regress.wrong_q(a.method, array_agg(x.p_value), array_agg(x.q_value)) AS wrong_q,
       count(*) FILTER (WHERE x.direction <> CASE WHEN x.q_value >= 0.05 THEN 'none'
                                                  WHEN x.adoption_rate > x.overall_rate THEN 'over'
                                                  ELSE 'under' END) AS wrong_direction,
       count(*) FILTER (WHERE x.direction <> 'none') AS significant
FROM unnest(ARRAY['bh', 'holm', 'none']) a(method),
     cxsell.segment_profiles('SELECT DISTINCT customer, segment FROM sg_many',
                             'SELECT customer, product FROM sg_many', 0.05, a.method) x
GROUP BY a.method ORDER BY a.method;

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
