-- values that must survive, loops that must stop, answers that must not
-- depend on the session, the row order or the plan
SET extra_float_digits = 0;

-- k-means on huge finite features: in range, or refused; never a model
-- that its own input rejects
SELECT regress.err($$SELECT cxsell.kmeans(ARRAY[x * 1e307, -x * 1e307]::float8[], 2) FROM generate_series(1, 10) x$$);
SELECT regress.err($$SELECT cxsell.kmeans(ARRAY[x * 1e154, 1]::float8[], 2) FROM generate_series(1, 10) x$$);
CREATE TABLE hd_models AS
SELECT cxsell.kmeans(ARRAY[x * 1e200, -x * 1e200]::float8[], 2, '{"standardize": true}') AS m
FROM generate_series(1, 10) x;
SELECT (SELECT m::text::cxsell.kmodel::text = m::text FROM hd_models) AS text_round_trip,
       (SELECT cxsell.cluster(m, ARRAY[1e201, -1e201]) FROM hd_models) AS cluster;
SELECT c.cluster, c.size, c.centroid FROM hd_models, cxsell.centroids(m) c ORDER BY 1;

-- item names do not depend on the session's output settings
CREATE TABLE hd_typed (basket int, f float8, d date, ts timestamptz, iv interval);
INSERT INTO hd_typed VALUES
  (1, 0.1, '2024-01-31', '2024-01-31 23:30:00+00', '1 day 2 hours'),
  (1, 0.1000000000000001, '2024-02-01', '2024-02-01 00:30:00+00', '-1 day'),
  (2, 0.1, '2024-01-31', '2024-01-31 23:30:00+00', '1 day 2 hours');
CREATE FUNCTION hd_names() RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(x, ' | ' ORDER BY x) FROM (
    SELECT array_to_string(items, ',') AS x FROM cxsell.itemsets((SELECT cxsell.mine(basket, f, 0.1) FROM hd_typed))
    UNION ALL SELECT array_to_string(items, ',') FROM cxsell.itemsets((SELECT cxsell.mine(basket, d, 0.1) FROM hd_typed))
    UNION ALL SELECT array_to_string(items, ',') FROM cxsell.itemsets((SELECT cxsell.mine(basket, ts, 0.1) FROM hd_typed))
    UNION ALL SELECT array_to_string(items, ',') FROM cxsell.itemsets((SELECT cxsell.mine(basket, iv, 0.1) FROM hd_typed))) s
$$;
SELECT hd_names() AS names;
SET extra_float_digits = -3;
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Asia/Kolkata';
SET IntervalStyle = 'sql_standard';
SELECT hd_names() AS names_in_another_session;
RESET extra_float_digits;
RESET DateStyle;
RESET TimeZone;
RESET IntervalStyle;
SET extra_float_digits = 0;

-- long statistics stop on cancel
SET statement_timeout = '500ms';
SELECT cxsell.p_value(2305843009213693951, 4611686018427387903, 4611686018427387903, 9223372036854775806);
SELECT cxsell.p_value_two_sided(2305843009213693951, 4611686018427387903, 4611686018427387903, 9223372036854775806);
RESET statement_timeout;
-- ... and so do rules and item pairs of a valid patterns value made by hand:
-- n = 2^60 baskets, items a and b each in half of them, together in a
-- quarter plus 2^29 (each Fisher tail runs over some 10^9 terms: about 8 s
-- uncancelled)
CREATE FUNCTION pg_temp.u32(v bigint) RETURNS bytea LANGUAGE sql
AS $$ SELECT decode(lpad(to_hex(v), 8, '0'), 'hex') $$;
CREATE FUNCTION pg_temp.u64(v numeric) RETURNS bytea LANGUAGE sql
AS $$ SELECT decode(lpad(to_hex((v / 4294967296)::bigint), 8, '0')
                    || lpad(to_hex((v % 4294967296)::bigint), 8, '0'), 'hex') $$;
CREATE TABLE hd_huge AS
SELECT encode('CXP'::bytea || '\x01'::bytea || pg_temp.u64(2::numeric ^ 60)
  || float8send(2::float8 ^ -40) || pg_temp.u32(0) || pg_temp.u64(2::numeric ^ 20)
  || pg_temp.u32(2) || pg_temp.u32(1) || 'a'::bytea || pg_temp.u32(1) || 'b'::bytea
  || pg_temp.u64(3)
  || pg_temp.u32(1) || pg_temp.u64(2::numeric ^ 59) || pg_temp.u32(0)
  || pg_temp.u32(1) || pg_temp.u64(2::numeric ^ 59) || pg_temp.u32(1)
  || pg_temp.u32(2) || pg_temp.u64(2::numeric ^ 58 + 2::numeric ^ 29) || pg_temp.u32(0) || pg_temp.u32(1)
  || pg_temp.u64(1) || pg_temp.u32(0) || pg_temp.u32(1) || pg_temp.u64(2::numeric ^ 58 + 2::numeric ^ 29),
  'hex')::cxsell.patterns AS p;
SELECT baskets, items, itemsets, co_occurring_pairs FROM hd_huge, cxsell.summary(p);
SET statement_timeout = '500ms';
SELECT count(*) FROM hd_huge, cxsell.rules(p);
SELECT count(*) FROM hd_huge, cxsell.item_pairs(p);
RESET statement_timeout;
DROP TABLE hd_huge;

-- counts whose sums overflow are inconsistent, not negative measures
SELECT regress.err($$SELECT cxsell.jaccard(3, 9223372036854775807, 9223372036854775807, 9223372036854775807)$$);
SELECT regress.err($$SELECT cxsell.lift(1, 9223372036854775807, 9223372036854775806, 9223372036854775807)$$);
SELECT cxsell.support(9223372036854775807, 9223372036854775807, 9223372036854775807, 9223372036854775807);

-- a confidence so close to 1 that 0.5 + confidence / 2 rounds to 1
SELECT round(rate::numeric, 3) AS rate, lower > 0 AND lower < 0.5 AS lower_ok,
       upper < 1 AND upper > 0.5 AS upper_ok
FROM cxsell.wilson_interval(1, 2, 0.9999999999999999);

-- huge counts of buckets or clusters: range errors or answers, never a
-- memory allocation error
SELECT (g).bucket, (g).customers
FROM (SELECT unnest(cxsell.gains(s::float8, s % 2 = 0, 2147483647)) AS g
      FROM generate_series(1, 3) s) x;
SELECT regress.err($$SELECT cxsell.kmeans_sweep(ARRAY[x]::float8[], 1, 2147483647) FROM generate_series(1, 5) x$$);
SELECT regress.err($$SELECT '{"k": 100000, "features": 100000, "means": [0]}'::cxsell.kmodel$$);
SELECT regress.err($$SELECT '{"k": 2, "features": 1, "means": [0], "scales": [1], "clusters": []}'::cxsell.kmodel$$);

-- a type with a hash operator class but no binary I/O
CREATE ROLE regress_cx_grantee;
CREATE ROLE regress_cx_grantor;
SELECT items, count FROM cxsell.itemsets((
  SELECT cxsell.mine(b, a, 0.5)
  FROM (VALUES (1, 'regress_cx_grantee=r/regress_cx_grantor'::aclitem),
               (1, 'regress_cx_grantee=w/regress_cx_grantor'::aclitem),
               (2, 'regress_cx_grantee=r/regress_cx_grantor'::aclitem)) v(b, a)))
ORDER BY 1;
DROP ROLE regress_cx_grantee, regress_cx_grantor;

-- chi_square sums in a canonical order: the same bits for any row order
CREATE TABLE hd_contacts AS
SELECT (ARRAY['cellular', 'telephone', 'unknown', 'post'])[1 + (i * 7) % 4] AS channel,
       (i * 13) % 5 = 0 AS responded, i
FROM generate_series(1, 997) i;
SELECT count(DISTINCT float8send((c).statistic)) AS distinct_statistics,
       count(DISTINCT float8send((c).p_value)) AS distinct_p_values
FROM (SELECT cxsell.chi_square(channel, responded ORDER BY i) AS c FROM hd_contacts
      UNION ALL SELECT cxsell.chi_square(channel, responded ORDER BY -i) FROM hd_contacts
      UNION ALL SELECT cxsell.chi_square(channel, responded ORDER BY md5(i::text)) FROM hd_contacts
      UNION ALL SELECT cxsell.chi_square(channel, responded ORDER BY responded, channel) FROM hd_contacts) x;
-- its messages speak of chi_square, not of mining
SET cxsell.max_memory = '1MB';
SELECT regexp_replace(regress.err_context($$SELECT cxsell.chi_square(i, i % 7) FROM generate_series(1, 200000) i$$),
                      '\d+ kB', 'N kB', 'g');
RESET cxsell.max_memory;

-- cxsell.max_memory bounds every group of a GROUP BY together
CREATE TABLE hd_groups AS
SELECT g, b, (ARRAY['x', 'y', 'z'])[1 + (b + g) % 3] AS item
FROM generate_series(1, 400) g, generate_series(1, 4) b;
SET cxsell.max_memory = '2MB';
SET enable_sort = off;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT g, cxsell.mine(b, item, 0.5) FROM hd_groups GROUP BY g;
SELECT regexp_replace(regress.err_context($$SELECT count(p) FROM (SELECT g, cxsell.mine(b, item, 0.5) AS p FROM hd_groups GROUP BY g) s$$),
                      '\d+ kB', 'N kB', 'g');
-- one group at a time (sorted grouping) stays within it
RESET enable_sort;
SET enable_hashagg = off;
SELECT count(p) FROM (SELECT g, cxsell.mine(b, item, 0.5) AS p FROM hd_groups GROUP BY g) s;
RESET enable_hashagg;
RESET max_parallel_workers_per_gather;
RESET cxsell.max_memory;

-- an unchanged stored value is decoded once per call site, whatever the
-- number of rows (the decoding is logged at DEBUG1)
CREATE TABLE hd_stored (p cxsell.patterns, m cxsell.kmodel);
ALTER TABLE hd_stored ALTER COLUMN p SET STORAGE external, ALTER COLUMN m SET STORAGE external;
INSERT INTO hd_stored
SELECT (SELECT cxsell.mine(b, 'item ' || ((b * k) % 300), 0.001)
        FROM generate_series(1, 300) b, generate_series(1, 3) k),
       (SELECT cxsell.kmeans(array_fill(i::float8, ARRAY[100]), 2) FROM generate_series(1, 30) i);
SELECT pg_column_size(p) > 2000 AS p_out_of_line, pg_column_size(m) > 2000 AS m_out_of_line
FROM hd_stored;
-- (the same queries once before, so that no catalog cache grows while
-- DEBUG1 messages are shown)
SELECT count(*) FROM hd_stored s, generate_series(1, 50) c,
       LATERAL cxsell.recommend(s.p, ARRAY['item ' || c], 2) r;
SELECT sum(cxsell.cluster(s.m, array_fill(c::float8, ARRAY[100]))) FROM hd_stored s,
       generate_series(1, 50) c;
SET client_min_messages = debug1;
SELECT count(*) FROM hd_stored s, generate_series(1, 50) c,
       LATERAL cxsell.recommend(s.p, ARRAY['item ' || c], 2) r;
SELECT sum(cxsell.cluster(s.m, array_fill(c::float8, ARRAY[100]))) FROM hd_stored s,
       generate_series(1, 50) c;
RESET client_min_messages;

DROP TABLE hd_models, hd_typed, hd_contacts, hd_groups, hd_stored;
DROP FUNCTION hd_names();
