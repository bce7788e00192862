-- cxsell.kmeans_distributed: on a table that is not distributed it is
-- cxsell.kmeans; its steps (run by Citus on the workers) are checked here
-- against direct computations.  test/t/010_citus.pl runs it on a cluster.
SELECT setseed(0.5);
CREATE TABLE kd AS
SELECT g AS id, ARRAY[(g % 3) * 10 + random(), (g % 3) * -5 + random() * 2, random()]::float8[] AS f
FROM generate_series(1, 3000) g;
INSERT INTO kd VALUES (3001, NULL);

-- a local table: cxsell.kmeans itself
SELECT cxsell.kmeans_distributed('kd', 'f', 3)::text = (SELECT cxsell.kmeans(f, 3)::text FROM kd) AS plain,
       cxsell.kmeans_distributed('kd', 'f', 3, '{"standardize": true, "seed": 4}', 'id % 2 = 0')::text
       = (SELECT cxsell.kmeans(f, 3, '{"standardize": true, "seed": 4}')::text FROM kd WHERE id % 2 = 0) AS filtered;
SELECT cxsell.kmeans_distributed('kd', 'f', 3, '{}', 'false') IS NULL AS no_rows;
-- bad input
SELECT regress.err($$SELECT cxsell.kmeans_distributed(NULL, 'f', 3)$$);
SELECT regress.err($$SELECT cxsell.kmeans_distributed('kd', 'g', 3)$$);
SELECT regress.err($$SELECT cxsell.kmeans_distributed('kd', 'f', 0)$$);
SELECT regress.err($$SELECT cxsell.kmeans_distributed('kd', 'f', NULL)$$);
SELECT regress.err($$SELECT cxsell.kmeans_distributed('kd', 'f', 3, '{"restarts": 0}')$$);
SELECT regress.err($$SELECT cxsell.kmeans_distributed('kd', 'f', 3, '{"unknown": 1}')$$);
SELECT regress.err($$SELECT cxsell.kmeans_distributed('kd', 'f', 5000)$$);
SELECT regress.err($$SELECT cxsell.kmeans_distributed('kd', 'f', 3, '{}', '1/0 = 1')$$);

-- moments: count, means and squared deviations, as SQL computes them, also
-- when partial states of 1..5 parts pass through their text form
CREATE AGGREGATE regress.moments_of(float8[]) (
	SFUNC = cxsell._km_moments_combine, STYPE = float8[]);
WITH direct AS (
  SELECT count(*)::float8 AS n,
         ARRAY(SELECT avg(f[j]) FROM kd, generate_series(1, 3) j WHERE f IS NOT NULL GROUP BY j ORDER BY j) AS mean,
         ARRAY(SELECT var_pop(f[j]) * count(*) FROM kd, generate_series(1, 3) j WHERE f IS NOT NULL GROUP BY j ORDER BY j) AS m2
  FROM kd WHERE f IS NOT NULL),
parts AS (
  SELECT p, regress.moments_of(s::text::float8[]) AS m
  FROM (SELECT p, id % p AS part, cxsell._km_moments(f) AS s
        FROM kd, generate_series(1, 5) p GROUP BY p, id % p) x GROUP BY p)
SELECT p, m[1] = d.n AS n_ok,
       (SELECT bool_and(abs(m[1 + j] - d.mean[j]) <= 1e-12 * abs(d.mean[j]) + 1e-12) FROM generate_series(1, 3) j) AS means_ok,
       (SELECT bool_and(abs(m[4 + j] - d.m2[j]) <= 1e-9 * d.m2[j]) FROM generate_series(1, 3) j) AS m2_ok
FROM parts, direct d ORDER BY p;

-- a Lloyd pass: per centre of each set, the sum, count and squared
-- distances of its nearest points, against a brute-force assignment
CREATE TABLE kd_centres AS
SELECT '{0,0,0, 10,-5,0.5, 20,-10,1,  5,0,0, 15,-7,0.5, 25,-12,1}'::float8[] AS c;
CREATE TABLE kd_assign AS
SELECT s, id, f, (SELECT c FROM generate_series(0, 2) c
                  ORDER BY (f[1] - k.c[s * 9 + c * 3 + 1])^2 + (f[2] - k.c[s * 9 + c * 3 + 2])^2
                           + (f[3] - k.c[s * 9 + c * 3 + 3])^2 LIMIT 1) AS near
FROM kd, kd_centres k, generate_series(0, 1) s WHERE f IS NOT NULL;
WITH step AS (SELECT cxsell._km_step(f, (SELECT c FROM kd_centres), '{0,0,0,1,1,1}', 3) AS st FROM kd),
brute AS (
  SELECT a.s, a.near, sum(a.f[1]) AS s1, sum(a.f[2]) AS s2, sum(a.f[3]) AS s3, count(*) AS cnt,
         sum((a.f[1] - k.c[a.s * 9 + a.near * 3 + 1])^2 + (a.f[2] - k.c[a.s * 9 + a.near * 3 + 2])^2
             + (a.f[3] - k.c[a.s * 9 + a.near * 3 + 3])^2) AS sse
  FROM kd_assign a, kd_centres k GROUP BY a.s, a.near)
SELECT b.s AS restart, b.near AS centre, b.cnt,
       abs(st[(b.s * 3 + b.near) * 5 + 1] - b.s1) <= 1e-9 * abs(b.s1) + 1e-9
       AND abs(st[(b.s * 3 + b.near) * 5 + 2] - b.s2) <= 1e-9 * abs(b.s2) + 1e-9
       AND abs(st[(b.s * 3 + b.near) * 5 + 3] - b.s3) <= 1e-9 * abs(b.s3) + 1e-9 AS sums_ok,
       st[(b.s * 3 + b.near) * 5 + 4] = b.cnt AS count_ok,
       abs(st[(b.s * 3 + b.near) * 5 + 5] - b.sse) <= 1e-9 * b.sse AS sse_ok
FROM brute b, step ORDER BY 1, 2;
-- the update and its convergence test
SELECT cxsell._km_next('{1,1, 5,5}', '{2,4,2,0, 0,0,0,0}', 1) AS next,
       cxsell._km_converged('{1,1, 5,5}', '{1,2, 5,5}', 2, 1) AS within,
       cxsell._km_converged('{1,1, 5,5}', '{1,2, 5,5}', 2, 0.5) AS beyond;

-- the space clustered: means and population deviations when standardising
WITH m AS (SELECT cxsell._km_moments(f) AS m FROM kd)
SELECT cxsell._km_space(m, false) AS plain,
       (SELECT bool_and(abs((cxsell._km_space(m, true))[3 + j] - sd) <= 1e-12 * sd)
        FROM (SELECT j, stddev_pop(f[j]) AS sd FROM kd, generate_series(1, 3) j GROUP BY j) s) AS scales_ok,
       round(cxsell._km_tolerance(m, cxsell._km_space(m, true), 1e-4)::numeric, 12) AS tolerance_std
FROM m;
SELECT cxsell._km_standardize('{{1,2},{3,4}}', '{1,2,2,4}') AS standardized;

-- k-means|| draws: uniform, reproducible, and a point is kept with
-- probability min(1, factor x its cost)
SELECT round(avg(cxsell._km_uniform(f, ctid, 7, 1))::numeric, 2) AS mean_draw,
       corr(cxsell._km_uniform(f, ctid, 7, 1), cxsell._km_uniform(f, ctid, 7, 2)) BETWEEN -0.05 AND 0.05 AS rounds_independent,
       count(*) FILTER (WHERE cxsell._km_pick(f, '{0,0,0}', '{0,0,0,1,1,1}', 1.0 / 400, ctid, 7, 1))
       = count(*) FILTER (WHERE cxsell._km_uniform(f, ctid, 7, 1) < cxsell._km_cost(f, '{0,0,0}', '{0,0,0,1,1,1}') / 400) AS pick_rule
FROM kd WHERE f IS NOT NULL;
-- equal points on different rows draw apart: 3,000 copies of one point
SELECT count(DISTINCT cxsell._km_uniform('{1,2}', ('(' || g / 100 || ',' || g % 100 + 1 || ')')::tid, 7, 1)) AS draws
FROM generate_series(0, 2999) g;

-- reclustering weighted candidates (two restarts of three centres): the
-- three groups are found, whatever order the candidates come in
WITH c AS (SELECT '{0,0, 0.1,0, 10,10, 10.1,10, 50,50}'::float8[] AS c),
w AS (SELECT '{0,0,5,0, 0,0,5,0, 0,0,3,0, 0,0,3,0, 0,0,1,0}'::float8[] AS w)
SELECT cxsell._km_recluster(c, w, 3, 1, 2) AS centres,
       cxsell._km_recluster('{50,50, 10.1,10, 10,10, 0.1,0, 0,0}', '{0,0,1,0, 0,0,3,0, 0,0,3,0, 0,0,5,0, 0,0,5,0}', 3, 1, 2)
       = cxsell._km_recluster(c, w, 3, 1, 2) AS order_free
FROM c, w;

-- the model: the restart of least inertia, clusters by size
SELECT (s).k, (s).points, (s).inertia, (s).iterations, (s).converged
FROM (SELECT cxsell.summary(cxsell._km_model('{0,0, 10,10, 1,1, 9,9}', '{0,0,3,3, 20,20,2,1, 0,0,3,30, 20,20,2,40}',
        '{0,0,1,1}', 2, '{}', 4, true)) s) x;
SELECT cluster, size, centroid, within_ss
FROM cxsell.centroids(cxsell._km_model('{0,0, 10,10, 1,1, 9,9}', '{0,0,3,3, 20,20,2,1, 0,0,3,30, 20,20,2,40}',
        '{0,0,1,1}', 2, '{}', 4, true));

-- malformed pieces are refused, not misread
SELECT regress.err($$SELECT cxsell._km_step(f, '{1,2}', '{0,0,0,1,1,1}', 1) FROM kd$$);
SELECT regress.err($$SELECT cxsell._km_step(f, '{1,2,3}', '{0,0,0,1,1,0}', 1) FROM kd$$);
SELECT regress.err($$SELECT cxsell._km_step(f, '{1,2,3,4,5,6}', '{0,0,0,1,1,1}', 4) FROM kd$$);
SELECT regress.err($$SELECT cxsell._km_recluster('{1,2}', '{1}', 1, 0, 1)$$);
SELECT regress.err($$SELECT cxsell._km_model('{1,2}', '{1,2,3}', '{0,0,1,1}', 1, '{}', 1, true)$$);
SELECT regress.err($$SELECT cxsell._km_model('{1,2}', '{1,2,0.5,0}', '{0,0,1,1}', 1, '{}', 1, true)$$);
SELECT regress.err($$SELECT cxsell._km_next('{1,2}', '{1,2,3}', 1)$$);
SELECT regress.err($$SELECT cxsell._km_moments(f) FROM (VALUES ('{1,2}'::float8[]), ('{1,2,3}')) v(f)$$);
SELECT regress.err($$SELECT regress.moments_of(s) FROM (VALUES ('{1,2}'::float8[])) v(s)$$);
SELECT regress.err($$SELECT cxsell._km_cost('{1,NULL}', '{0,0}', '{0,0,1,1}')$$);
SELECT regress.err($$SELECT cxsell._km_space('{0,1,2}', true)$$);
-- sizes that cannot be set aside, and models that would not read back
SELECT regress.err($$SELECT cxsell._km_recluster(array_fill(0::float8, ARRAY[140000]),
  array_fill(1::float8, ARRAY[420000]), 140000, 1, 1000)$$);
SELECT regress.err($$SELECT cxsell._km_model('{0,1}', '{0,1,-3,0,1,-4}', '{0,1}', 2, '{}', 1, true)$$);
SELECT regress.err($$SELECT cxsell._km_model(array_fill(0::float8, ARRAY[1100]),
  array(SELECT (ARRAY[0, 9e15, 1])[1 + i % 3] FROM generate_series(0, 3299) i), '{0,1}', 1100, '{}', 1, true)$$);
