-- cxsell.rules: every measure on the hand-checkable example of mine.sql
CREATE TABLE rl (basket int, item text);
INSERT INTO rl VALUES
  (1, 'bread'), (1, 'milk'),
  (2, 'bread'), (2, 'diaper'), (2, 'beer'), (2, 'eggs'),
  (3, 'milk'), (3, 'diaper'), (3, 'beer'), (3, 'cola'),
  (4, 'bread'), (4, 'milk'), (4, 'diaper'), (4, 'beer'),
  (5, 'bread'), (5, 'milk'), (5, 'diaper'), (5, 'cola');
CREATE TABLE rp AS SELECT cxsell.mine(basket, item, 0.4) AS p FROM rl;

-- all rules with confidence >= 0.75, every column.  By hand, for
-- {beer} -> {diaper}: n = 5, n_a = 3, n_c = 4, n_ac = 3, so support 0.6,
-- confidence 1, lift 1.25, leverage 0.6 - 0.6*0.8 = 0.12, conviction
-- Infinity, jaccard 3/4, kulczynski (1 + 3/4)/2 = 0.875, certainty 1,
-- zhang 0.12 / max(0.6*0.4, 0.6*0.2) = 0.5, and p_value
-- P(X >= 3 | hypergeometric N=5, K=4, n=3) = 0.4.
SELECT antecedent, consequent,
       round(antecedent_support::numeric, 4) AS s_a, round(consequent_support::numeric, 4) AS s_c,
       round(support::numeric, 4) AS supp, round(confidence::numeric, 4) AS conf,
       round(lift::numeric, 4) AS lift, round(leverage::numeric, 4) AS lev,
       round(conviction::numeric, 4) AS conv, round(jaccard::numeric, 4) AS jacc,
       round(kulczynski::numeric, 4) AS kulc, round(certainty::numeric, 4) AS cert,
       round(zhang::numeric, 4) AS zhang, count, round(p_value::numeric, 4) AS p
FROM rp, cxsell.rules(p, 0.75);

-- a lift threshold
SELECT antecedent, consequent, round(lift::numeric, 4) AS lift
FROM rp, cxsell.rules(p, min_lift => 1.2);

-- rules of one antecedent item and one consequent item only
SELECT antecedent, consequent, round(confidence::numeric, 4) AS conf
FROM rp, cxsell.rules(p, 0.7, max_antecedent => 1, max_consequent => 1);

-- only rules that recommend cola
SELECT antecedent, consequent, round(confidence::numeric, 4) AS conf
FROM rp, cxsell.rules(p, consequents => ARRAY['cola']);

-- only rules whose antecedent is drawn from beer and diaper; unknown names
-- and NULLs in the list are ignored
SELECT antecedent, consequent
FROM rp, cxsell.rules(p, antecedents => ARRAY['beer', 'diaper', 'caviar', NULL]);

-- the three best rules by lift, by count, by p_value (smallest first)
SELECT antecedent, consequent, round(lift::numeric, 4) AS lift
FROM rp, cxsell.rules(p, max_rules => 3, rank_by => 'lift');
SELECT antecedent, consequent, count
FROM rp, cxsell.rules(p, max_rules => 3, rank_by => 'count');
SELECT antecedent, consequent, round(p_value::numeric, 4) AS p
FROM rp, cxsell.rules(p, max_rules => 3, rank_by => 'p_value');
-- every measure can order the rules
SELECT m, (SELECT count(*) FROM rp, cxsell.rules(p, rank_by => m)) AS rules
FROM unnest(ARRAY['confidence','lift','support','leverage','conviction','jaccard',
                  'kulczynski','certainty','zhang','count','p_value']) AS m;

-- the set-returning function and the scalar measures share one
-- implementation: recompute every measure from the rule's counts
WITH r AS (
  SELECT r.*, round(antecedent_support * 5)::bigint AS n_a,
         round(consequent_support * 5)::bigint AS n_c
  FROM rp, cxsell.rules(p) r)
SELECT count(*) AS rules,
       bool_and(support = cxsell.support(count, n_a, n_c, 5)
            AND confidence = cxsell.confidence(count, n_a, n_c, 5)
            AND lift = cxsell.lift(count, n_a, n_c, 5)
            AND leverage = cxsell.leverage(count, n_a, n_c, 5)
            AND conviction = cxsell.conviction(count, n_a, n_c, 5)
            AND jaccard = cxsell.jaccard(count, n_a, n_c, 5)
            AND kulczynski = cxsell.kulczynski(count, n_a, n_c, 5)
            AND certainty = cxsell.certainty(count, n_a, n_c, 5)
            AND zhang = cxsell.zhang(count, n_a, n_c, 5)
            AND p_value = cxsell.p_value(count, n_a, n_c, 5)) AS all_equal
FROM r;

-- a NULL patterns value gives no rules
SELECT count(*) FROM cxsell.rules(NULL);

-- q_value: the p-values of every rule that passes the filters, adjusted
-- together (before max_rules cuts the list), checked against the
-- definitions in SQL on 60 seeded baskets
CREATE TABLE rq AS
SELECT cxsell.mine(b, i, 0.1) AS p
FROM (SELECT b, 'i' || (abs(hashint4(b * 7 + k)) % 9) AS i
      FROM generate_series(1, 60) b, generate_series(1, 4) k
      UNION ALL
      SELECT b, unnest(ARRAY['x', 'y']) FROM generate_series(1, 60) b WHERE b % 3 = 0) l;
SELECT a.method, count(*) AS rules,
       regress.wrong_q(a.method, array_agg(x.p_value), array_agg(x.q_value)) AS wrong_q,
       count(*) FILTER (WHERE x.q_value < x.p_value) AS below_p,
       count(*) FILTER (WHERE x.q_value < 0.05) AS significant
FROM rq, unnest(ARRAY['bh', 'holm', 'none']) a(method),
     cxsell.rules(p, min_confidence => 0.2, adjust => a.method) x
GROUP BY a.method ORDER BY a.method;
-- max_rules keeps the q-values of the full list
SELECT bool_and(a.q_value = b.q_value) AS same_q
FROM (SELECT * FROM rq, cxsell.rules(p, min_confidence => 0.2, max_rules => 10)) a
JOIN (SELECT * FROM rq, cxsell.rules(p, min_confidence => 0.2)) b USING (antecedent, consequent);
SELECT regress.err($$SELECT * FROM rq, cxsell.rules(p, adjust => 'BH')$$);
SELECT regress.err($$SELECT * FROM rq, cxsell.rules(p, adjust => NULL)$$);
