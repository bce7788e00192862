-- gains / lift tables and AUC
-- 20 customers scored 20..1; responders at scores 20, 19, 17, 14, 10 and 3
CREATE TABLE gn AS
SELECT s AS score, s IN (20, 19, 17, 14, 10, 3) AS responded FROM generate_series(1, 20) s;
INSERT INTO gn VALUES (NULL, true), (5.5, NULL);    -- skipped

-- deciles: 2 customers per bucket, highest scores first.  Overall rate
-- 6/20 = 0.3; the top bucket holds 2 responders: rate 1, lift 1/0.3, and
-- 33.3% of all responders (the gain) from 10% of customers
SELECT (g).* FROM (SELECT unnest(cxsell.gains(score, responded)) AS g FROM gn) x;
-- quartiles
SELECT (g).bucket, (g).customers, (g).responders, round((g).cumulative_responders_pct::numeric, 2) AS gain,
       round((g).cumulative_lift::numeric, 4) AS cumulative_lift
FROM (SELECT unnest(cxsell.gains(score, responded, 4)) AS g FROM gn) x;

-- ties are never split: the four customers scored 1 (two responders) fall
-- into bucket 2 of 3, whose nominal end cuts the tie group
SELECT (g).bucket, (g).customers, (g).responders
FROM (SELECT unnest(cxsell.gains(score, responded, 3)) AS g
      FROM (VALUES (3.0, true), (2, false), (1, true), (1, false), (1, true), (1, false)) v(score, responded)) x;
-- and do not depend on row order
SELECT (SELECT cxsell.gains(score, responded, 3)::text FROM (SELECT * FROM gn ORDER BY score) s) =
       (SELECT cxsell.gains(score, responded, 3)::text FROM (SELECT * FROM gn ORDER BY score DESC) s) AS order_free;

-- AUC: P(score of a responder > score of a non-responder), ties count half
SELECT cxsell.auc(score, responded) FROM gn;
SELECT count(*) FILTER (WHERE p.score > q.score) + 0.5 * count(*) FILTER (WHERE p.score = q.score) AS wins,
       count(*) AS pairs
FROM gn p, gn q
WHERE p.responded AND NOT q.responded AND p.score IS NOT NULL AND q.score IS NOT NULL;
SELECT cxsell.auc(score, responded) FROM (VALUES (1.0, true), (1.0, false)) v(score, responded);
SELECT cxsell.auc(score, responded) FROM (VALUES (2.0, true), (1.0, false), (3.0, false)) v(score, responded);
-- one class only: no AUC; no responders: gains without lift
SELECT cxsell.auc(score, responded) IS NULL AS no_auc FROM gn WHERE responded;
SELECT (g).bucket, (g).responders, (g).lift FROM (SELECT unnest(cxsell.gains(score, responded, 2)) AS g FROM gn WHERE NOT responded) x;
-- empty input
SELECT cxsell.gains(score, responded) IS NULL AS empty, cxsell.auc(score, responded) IS NULL AS empty_auc FROM gn WHERE false;

-- parallel plan = serial plan
CREATE TABLE gp AS SELECT g, sin(g) AS score, (g * 7919) % 13 < 4 AS responded FROM generate_series(1, 30000) g;
ALTER TABLE gp SET (parallel_workers = 2);
ANALYZE gp;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE gserial AS SELECT cxsell.gains(score, responded)::text AS t, cxsell.auc(score, responded) AS a FROM gp;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT cxsell.gains(score, responded) FROM gp;
SELECT (SELECT cxsell.gains(score, responded)::text FROM gp) = t AS gains_same,
       (SELECT cxsell.auc(score, responded) FROM gp) = a AS auc_same FROM gserial;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;

-- input rules
SELECT regress.err($$SELECT cxsell.gains(score, responded, 0) FROM gn$$);
SELECT regress.err($$SELECT cxsell.gains(score, responded, NULL) FROM gn$$);
SELECT regress.err($$SELECT cxsell.gains(score, responded, score::int % 2 + 1) FROM gn$$);
SELECT regress.err($$SELECT cxsell.auc(score, responded) FROM (VALUES ('NaN'::float8, true)) v(score, responded)$$);

-- chi-square test of independence over channel x responded, one row per
-- contact: SMS 30 of 200 responded, flyer 12 of 150, bill insert 25 of 250
CREATE TABLE contacts AS
SELECT channel, g <= responders AS responded
FROM (VALUES ('sms', 200, 30), ('flyer', 150, 12), ('bill insert', 250, 25)) c(channel, contacts, responders),
     generate_series(1, contacts) g;
INSERT INTO contacts VALUES (NULL, true), ('sms', NULL);   -- skipped
SELECT (c).* FROM (SELECT cxsell.chi_square(channel, responded) AS c FROM contacts) x;
-- against scipy.stats.chi2_contingency(correction=False) to 1e-12
WITH cases(t, stat, df, p) AS (VALUES
  ('{{30,170},{12,138},{25,225}}'::int[], 4.822043628013776, 2, 0.089723566918502751),
  ('{{10,20,30},{20,20,20},{30,20,10}}', 20, 4, 0.00049939922738733355),
  ('{{500,100},{100,500}}', 533.33333333333337, 1, 5.3182449538972862e-118),
  ('{{5,5},{5,5}}', 0, 1, 1)),
obs AS (
  SELECT t, i, j FROM cases, generate_subscripts(t, 1) i, generate_subscripts(t, 2) j,
       generate_series(1, t[i][j]) k)
SELECT array_length(c.t, 1) AS rows, array_length(c.t, 2) AS columns,
       abs((r).statistic - c.stat) <= 1e-12 * c.stat AS statistic_ok, (r).df = c.df AS df_ok,
       abs((r).p_value - c.p) <= 1e-12 * c.p AS p_ok
FROM cases c, LATERAL (SELECT cxsell.chi_square(i, j) AS r FROM obs WHERE obs.t = c.t) x;
-- one label only: no test
SELECT (c).* FROM (SELECT cxsell.chi_square(channel, responded) AS c FROM contacts WHERE channel = 'sms') x;
SELECT cxsell.chi_square(channel, responded) IS NULL AS empty FROM contacts WHERE false;
-- the same under a parallel plan
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
SELECT (cxsell.chi_square(channel, responded)).p_value = 0.089723566918502751 OR
       abs((cxsell.chi_square(channel, responded)).p_value - 0.089723566918502751) < 1e-13 AS parallel_ok
FROM contacts;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;

-- the channel table: rate, Wilson interval and p-value against the best
SELECT channel, contacts, responses, round(rate::numeric, 4) AS rate,
       round(lower::numeric, 4) AS lower, round(upper::numeric, 4) AS upper, best,
       round(p_value_vs_best::numeric, 6) AS p_value_vs_best
FROM cxsell.channel_report('SELECT channel, responded FROM contacts');
SELECT bool_and(p_value_vs_best IS NOT DISTINCT FROM
                (SELECT t.p_value FROM cxsell.two_proportion_test(responses, contacts, 30, 200) t
                 WHERE NOT best)) AS matches_z_test
FROM cxsell.channel_report('SELECT channel, responded FROM contacts');
SELECT regress.err($$SELECT * FROM cxsell.channel_report('SELECT channel, responded FROM contacts', 1.5)$$);
SELECT regress.err($$SELECT * FROM cxsell.channel_report(NULL)$$);
-- likely mistakes: a table name, a responded column that is not a yes/no
SELECT regress.err($$SELECT * FROM cxsell.channel_report('contacts')$$);
SELECT regress.err($$SELECT * FROM cxsell.channel_report('SELECT channel, now() FROM contacts')$$);
SELECT regress.err($$SELECT * FROM cxsell.channel_report('SELECT channel FROM contacts')$$);
-- a responded column of 0 and 1 is read as false and true
SELECT channel, contacts, responses
FROM cxsell.channel_report('SELECT channel, responded::int FROM contacts');
