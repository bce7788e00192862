-- Next-product rules: sequences of items customers take one after another.
-- A bank's customers open accounts over time (dates; the window 90 days).
CREATE TABLE acq(customer int, opened date, product text);
INSERT INTO acq VALUES
 (1, '2024-01-01', 'checking'), (1, '2024-02-01', 'savings'), (1, '2024-03-01', 'card'),
 (2, '2024-01-05', 'checking'), (2, '2024-01-20', 'savings'),
 (3, '2024-01-01', 'checking'), (3, '2024-06-01', 'savings'),   -- 152 days: too late
 (4, '2024-01-01', 'checking'), (4, '2024-01-01', 'savings'),   -- the same day: not later
 (4, '2024-02-01', 'card'),
 (5, '2024-03-01', 'savings'), (5, '2024-04-01', 'card'),
 (5, '2024-04-01', 'card'),                                      -- a repeated row counts once
 (6, NULL, 'card'), (NULL, '2024-01-01', 'card'), (7, '2024-01-01', NULL);  -- skipped
CREATE TABLE acq_seq AS
SELECT cxsell.mine_sequences(customer, opened, product, 0.2, 0, interval '90 days') AS s FROM acq;

SELECT * FROM cxsell.summary((SELECT s FROM acq_seq));
SELECT * FROM cxsell.sequences((SELECT s FROM acq_seq));
-- checking => savings: 2 of the 4 customers with checking took savings within
-- 90 days after it (15 and 31 days: median 23); 2 of 5 customers took savings
-- after an earlier account within 90 days, so the lift is 0.5 / 0.4
SELECT * FROM cxsell.sequence_rules((SELECT s FROM acq_seq));
SELECT antecedent, consequent, confidence FROM cxsell.sequence_rules((SELECT s FROM acq_seq),
    min_confidence => 0.55);
SELECT antecedent, consequent FROM cxsell.sequence_rules((SELECT s FROM acq_seq), min_lift => 1.1);
SELECT count(*) FROM cxsell.sequence_rules((SELECT s FROM acq_seq), max_antecedent => 1);

-- what a customer who opened checking on 1 May takes up next: savings by the
-- rule, then the commonest follow-on product
SELECT * FROM cxsell.recommend_next((SELECT s FROM acq_seq), ARRAY['checking'],
    ARRAY[date '2024-05-01'], 3);
-- as of September the checking account is past the window: popularity only
SELECT rank, item, source FROM cxsell.recommend_next((SELECT s FROM acq_seq), ARRAY['checking'],
    ARRAY[date '2024-05-01'], 3, as_of => date '2024-09-01');
-- rows after as_of are not history yet
SELECT rank, item, antecedent, source FROM cxsell.recommend_next((SELECT s FROM acq_seq),
    ARRAY['checking', 'savings'], ARRAY[date '2024-05-01', date '2024-06-01'], 3,
    as_of => date '2024-05-15');
-- checking then savings: three rules give card; the most confident fires
-- (savings => card 0.6 against checking, savings => card and checking => card 0.5)
SELECT rank, item, confidence, antecedent, median_gap FROM cxsell.recommend_next((SELECT s FROM acq_seq),
    ARRAY['savings', 'checking'], ARRAY[date '2024-05-20', date '2024-05-01'], 3, fallback => false);
SELECT rank, item, source FROM cxsell.recommend_next((SELECT s FROM acq_seq), NULL, NULL::date[], 2);
SELECT rank, item, source FROM cxsell.recommend_next((SELECT s FROM acq_seq), ARRAY['checking'],
    ARRAY[date '2024-05-01'], 3, rank_by => 'popularity');
SELECT count(*) FROM cxsell.recommend_next(NULL, ARRAY['checking'], ARRAY[date '2024-05-01'], 3);

-- integer times (periods) and timestamps give the same sequences
SELECT (SELECT array_agg(items::text || customers ORDER BY items::text)
        FROM cxsell.sequences(cxsell.mine_sequences(customer, opened - date '2024-01-01', product, 0.2, 0, 90)))
     = (SELECT array_agg(items::text || customers ORDER BY items::text)
        FROM cxsell.sequences(cxsell.mine_sequences(customer, opened::timestamptz, product, 0.2, 0, interval '90 days')))
       AS same
FROM acq;
SELECT time_kind, within FROM cxsell.summary((SELECT cxsell.mine_sequences(customer, opened::timestamp, product,
    0.2, 0, interval '36 hours') FROM acq));
-- a month counts 30 days; dates count whole days
SELECT within FROM cxsell.summary((SELECT cxsell.mine_sequences(customer, opened, product,
    0.2, 0, interval '1 month 36 hours') FROM acq));
-- max_len bounds the length
SELECT max(length) FROM cxsell.sequences((SELECT cxsell.mine_sequences(customer, opened, product, 0.2, 2, interval '90 days') FROM acq));
-- no rows: NULL
SELECT cxsell.mine_sequences(customer, opened, product, 0.2, 0, interval '90 days') IS NULL AS none FROM acq WHERE false;
-- groups
SELECT customer % 2 AS g, (cxsell.summary(cxsell.mine_sequences(customer, opened, product, 0.5, 0, interval '90 days'))).sequences
FROM acq WHERE customer IS NOT NULL GROUP BY 1 ORDER BY 1;
-- the value's text form reads back
SELECT (s::text::cxsell.sequences)::text = s::text AS round_trip FROM acq_seq;

-- windows are exact: a span equal to the window is in, one unit more is out,
-- beyond double precision too; a window past every difference is no limit
SELECT w, (SELECT array_agg(items::text ORDER BY items::text)
           FROM cxsell.sequences(cxsell.mine_sequences(c, t, i, 0.5, 0, w)))
FROM (VALUES (1, 0::bigint, 'a'), (1, 9007199254740993, 'b')) v(c, t, i),
     (VALUES (9007199254740992::bigint), (9007199254740993), (9223372036854775807)) x(w)
GROUP BY w ORDER BY w;
SELECT w, (SELECT array_agg(items::text ORDER BY items::text)
           FROM cxsell.sequences(cxsell.mine_sequences(c, t, i, 0.5, 0, w)))
FROM (VALUES (1, timestamp '2000-01-01', 'a'),
             (1, timestamp '2000-01-01' + interval '108000 days 0.000004 seconds', 'b')) v(c, t, i),
     (VALUES (interval '108000 days 0.000003 seconds'), (interval '108000 days 0.000004 seconds'),
             (interval '100000 years')) x(w)
GROUP BY w ORDER BY w;
SELECT within FROM cxsell.summary((SELECT cxsell.mine_sequences(1, date '2000-01-01', 'a', 0.5, 0,
    interval '2 days -1 microsecond')));
-- a long history in a long window stays cancellable
CREATE TEMP TABLE long_history AS SELECT 1 AS c, g::bigint AS t, 'a' AS item FROM generate_series(1, 100000) g;
SET statement_timeout = '300ms';
\set VERBOSITY terse
SELECT cxsell.mine_sequences(c, t, item, 0.5, 2, 1000000000) IS NULL FROM long_history;
\set VERBOSITY default
RESET statement_timeout;

-- bad inputs
SELECT cxsell.mine_sequences(customer, opened, product, 0, 0, interval '90 days') FROM acq;
SELECT cxsell.mine_sequences(customer, opened, product, 1.5, 0, interval '90 days') FROM acq;
SELECT cxsell.mine_sequences(customer, opened, product, 0.2, -1, interval '90 days') FROM acq;
SELECT cxsell.mine_sequences(customer, opened, product, 0.2, 0, interval '0 days') FROM acq;
SELECT cxsell.mine_sequences(customer, opened, product, 0.2, 0, interval '-3 days') FROM acq;
SELECT cxsell.mine_sequences(customer, opened, product, 0.2, 0, interval '12 hours') FROM acq;
SELECT cxsell.mine_sequences(customer, opened, product, 0.2, 0, interval '1 day -1 microsecond') FROM acq;
SELECT cxsell.mine_sequences(customer, opened, product, 0.2, 0, NULL::interval) FROM acq;
SELECT cxsell.mine_sequences(customer, opened - date '2024-01-01', product, 0.2, 0, 0) FROM acq;
SELECT cxsell.mine_sequences(customer, opened, product, 0.2, 0, customer * interval '1 day') FROM acq
WHERE customer IS NOT NULL;
SELECT cxsell.mine_sequences(customer, opened, product, NULL, 0, interval '90 days') FROM acq;
SELECT cxsell.mine_sequences(1, 'infinity'::date, 'x', 0.2, 0, interval '90 days');
SELECT cxsell.mine_sequences(1, '-infinity'::timestamptz, 'x', 0.2, 0, interval '90 days');
SELECT cxsell.mine_sequences(1, 1.5, 'x', 0.2, 0, 3);
-- two items that print alike (operators + of integer and bigint), here and in mine()
SELECT cxsell.mine_sequences(1, t, i, 0.5, 0, 5)
FROM (VALUES (1::bigint, 551::oid::regoper), (2, 684::oid::regoper)) v(t, i);
SELECT cxsell.mine(1, i, 0.5) FROM (VALUES (551::oid::regoper), (684::oid::regoper)) v(i);
SELECT * FROM cxsell.sequence_rules((SELECT s FROM acq_seq), min_confidence => 1.5);
SELECT * FROM cxsell.sequence_rules((SELECT s FROM acq_seq), max_antecedent => -1);
SELECT * FROM cxsell.sequence_rules((SELECT s FROM acq_seq), min_lift => NULL);
SELECT * FROM cxsell.recommend_next((SELECT s FROM acq_seq), ARRAY['checking'], ARRAY[5], 3);
SELECT * FROM cxsell.recommend_next((SELECT s FROM acq_seq), ARRAY['checking'], ARRAY[timestamp '2024-05-01'], 3);
SELECT * FROM cxsell.recommend_next((SELECT s FROM acq_seq), ARRAY['checking', 'card'], ARRAY[date '2024-05-01'], 3);
SELECT * FROM cxsell.recommend_next((SELECT s FROM acq_seq), ARRAY['checking'], ARRAY[date '2024-05-01'], 0);
SELECT * FROM cxsell.recommend_next((SELECT s FROM acq_seq), ARRAY['checking'], ARRAY[date '2024-05-01'], 3,
    rank_by => 'support');
SELECT * FROM cxsell.recommend_next((SELECT s FROM acq_seq), ARRAY['checking'], ARRAY['infinity'::date], 3);
SELECT * FROM cxsell.recommend_next((SELECT s FROM acq_seq), ARRAY[['checking']], ARRAY[[date '2024-05-01']], 3);
SELECT * FROM cxsell.backtest_next('SELECT customer, opened AS at, product AS item FROM acq', 0.2, '90 days');
SELECT * FROM cxsell.backtest_next('SELECT customer, opened AS at, product AS item FROM acq', 0.2,
    interval '90 days', holdout => 1);
SELECT * FROM cxsell.backtest_next('SELECT customer, product AS item FROM acq', 0.2, interval '90 days');
SELECT * FROM cxsell.backtest_next('SELECT customer, opened AS at, product AS item FROM acq', 0.2, 90);
SELECT * FROM cxsell.backtest_next('SELECT customer, opened::text AS at, product AS item FROM acq', 0.2,
    interval '90 days');

-- hand-made values: each broken invariant is refused
CREATE FUNCTION pg_temp.patched(v cxsell.sequences, pos int, bytes bytea) RETURNS text
LANGUAGE sql AS $$
  SELECT encode(overlay(decode(v::text, 'hex') PLACING bytes FROM pos), 'hex')
$$;
SELECT 'zz'::cxsell.sequences;
SELECT '435853'::cxsell.sequences;
SELECT (s::text || '00')::cxsell.sequences FROM acq_seq;
SELECT pg_temp.patched(s, 4, '\x02')::cxsell.sequences FROM acq_seq;                -- version
SELECT pg_temp.patched(s, 5, '\x0000000000000000')::cxsell.sequences FROM acq_seq;  -- no customers
SELECT pg_temp.patched(s, 25, '\x0000000000000002')::cxsell.sequences FROM acq_seq; -- min_count
SELECT pg_temp.patched(s, 33, '\x07')::cxsell.sequences FROM acq_seq;               -- time kind
SELECT pg_temp.patched(s, 34, '\x0000000000000000')::cxsell.sequences FROM acq_seq; -- window
-- then the items card, checking, savings (names from byte 46), their counts and
-- follow counts (from byte 77), and the 7 sequences (from byte 133)
SELECT pg_temp.patched(s, 21, '\x00000002')::cxsell.sequences FROM acq_seq;         -- max_len 2, a 3-sequence
SELECT pg_temp.patched(s, 50, '\xff')::cxsell.sequences FROM acq_seq;               -- not text
SELECT pg_temp.patched(s, 77, '\x0000000000000009')::cxsell.sequences FROM acq_seq; -- count > customers
SELECT pg_temp.patched(s, 85, '\x0000000000000004')::cxsell.sequences FROM acq_seq; -- follow > count
SELECT pg_temp.patched(s, 177, '\x00000000')::cxsell.sequences FROM acq_seq;        -- single items' order
SELECT pg_temp.patched(s, 205, '\x00000000')::cxsell.sequences FROM acq_seq;        -- length 0
SELECT pg_temp.patched(s, 217, '\x0000000000000000')::cxsell.sequences FROM acq_seq; -- gap 0
SELECT pg_temp.patched(s, 217, '\x408f400000000000')::cxsell.sequences FROM acq_seq; -- gap 1000 > window
SELECT pg_temp.patched(s, 217, '\x7ff8000000000000')::cxsell.sequences FROM acq_seq; -- gap NaN
SELECT pg_temp.patched(s, 253, '\x0000000000000002')::cxsell.sequences FROM acq_seq; -- out of order
SELECT pg_temp.patched(s, 257, '\x00000009')::cxsell.sequences FROM acq_seq;        -- unknown item
SELECT pg_temp.patched(s, 293, '\x0000000000000003')::cxsell.sequences FROM acq_seq; -- more than its prefix
SELECT pg_temp.patched(s, 209, '\x0000000000000004')::cxsell.sequences FROM acq_seq; -- more than card's follow count
SELECT pg_temp.patched(s, 1, '\x435850')::cxsell.sequences FROM acq_seq;            -- a patterns value's magic
