-- the measure functions on raw counts: n_ac, n_a, n_c, n
-- 100 baskets, 40 hold A, 50 hold C, 30 hold both
SELECT cxsell.support(30, 40, 50, 100) AS support,
       cxsell.confidence(30, 40, 50, 100) AS confidence,
       cxsell.lift(30, 40, 50, 100) AS lift,
       round(cxsell.leverage(30, 40, 50, 100)::numeric, 12) AS leverage,
       cxsell.conviction(30, 40, 50, 100) AS conviction,
       cxsell.jaccard(30, 40, 50, 100) AS jaccard,
       cxsell.kulczynski(30, 40, 50, 100) AS kulczynski,
       cxsell.certainty(30, 40, 50, 100) AS certainty,
       round(cxsell.zhang(30, 40, 50, 100)::numeric, 12) AS zhang;
-- by hand: support 0.3, confidence 0.75, lift 1.5, leverage 0.3 - 0.2 = 0.1,
-- conviction 0.5/0.25 = 2, jaccard 30/60 = 0.5, kulczynski (0.75+0.6)/2 = 0.675,
-- certainty (0.75-0.5)/0.5 = 0.5, zhang 0.1/max(0.3*0.6, 0.4*0.2) = 0.1/0.18

-- a negative association: 10 of 40 A-baskets hold C, against 50% overall
SELECT cxsell.lift(10, 40, 50, 100) AS lift,
       round(cxsell.leverage(10, 40, 50, 100)::numeric, 12) AS leverage,
       round(cxsell.certainty(10, 40, 50, 100)::numeric, 12) AS certainty,
       round(cxsell.zhang(10, 40, 50, 100)::numeric, 12) AS zhang;
-- zhang = -0.1 / max(0.1*0.6, 0.4*0.4) = -0.625

-- edge cases: confidence 1 gives infinite conviction; C in every basket
-- makes certainty 0/0, reported as 0; so is zhang's 0/0
SELECT cxsell.conviction(20, 20, 50, 100) AS conviction,
       cxsell.certainty(40, 40, 100, 100) AS certainty,
       cxsell.zhang(100, 100, 100, 100) AS zhang;
-- A or C that never occurs: the measures are undefined (NULL), support is 0
SELECT cxsell.support(0, 0, 5, 10) AS support, cxsell.confidence(0, 0, 5, 10) AS confidence,
       cxsell.lift(0, 5, 0, 10) AS lift, cxsell.p_value(0, 0, 5, 10) AS p_value;

-- Fisher exact tests of the 2x2 table [[n_ac, n_a-n_ac], [n_c-n_ac, n-n_a-n_c+n_ac]]
-- Fisher's tea tasting: [[3,1],[1,3]]: one-sided 17/70, two-sided 34/70
SELECT round(cxsell.p_value(3, 4, 4, 8)::numeric, 12) AS one_sided,
       round((17.0 / 70)::numeric, 12) AS expected_one_sided,
       round(cxsell.p_value_two_sided(3, 4, 4, 8)::numeric, 12) AS two_sided,
       round((34.0 / 70)::numeric, 12) AS expected_two_sided;
-- perfect association [[5,0],[0,5]]: 1/C(10,5) one-sided, twice that two-sided
SELECT cxsell.p_value(5, 5, 5, 10) = 1.0 / 252 AS one_sided_ok,
       abs(cxsell.p_value_two_sided(5, 5, 5, 10) - 2.0 / 252) < 1e-15 AS two_sided_ok;
-- no association at all gives p = 1 two-sided
SELECT cxsell.p_value_two_sided(25, 50, 50, 100) AS two_sided;
-- large counts stay finite and in [0, 1]
SELECT cxsell.p_value(1000, 10000, 20000, 1000000) < 1e-100 AS tiny,
       cxsell.p_value(1, 10000, 20000, 1000000) AS one,
       cxsell.p_value_two_sided(200, 10000, 20000, 1000000) BETWEEN 0 AND 1 AS in_range;

-- counts that cannot come from one set of baskets are errors
SELECT cxsell.lift(5, 4, 10, 100);
SELECT cxsell.lift(5, 10, 4, 100);
SELECT cxsell.lift(1, 60, 60, 100);
SELECT cxsell.lift(1, 2, 3, 0);
SELECT cxsell.confidence(-1, 2, 3, 10);
SELECT cxsell.p_value_two_sided(1, 200, 3, 100);
