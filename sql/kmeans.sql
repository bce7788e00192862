-- cxsell.kmeans: segmentation on data where the clustering is unambiguous
-- three tight groups of four points around (0,0), (10,0) and (0,10)
CREATE TABLE km (id int, f float8[]);
INSERT INTO km
SELECT g * 4 + i, ARRAY[cx + dx, cy + dy]
FROM (VALUES (0, 0.0, 0.0), (1, 10.0, 0.0), (2, 0.0, 10.0)) c(g, cx, cy),
     (VALUES (1, -1.0, 0.0), (2, 1.0, 0.0), (3, 0.0, -1.0), (4, 0.0, 1.0)) o(i, dx, dy);
INSERT INTO km VALUES (100, NULL);   -- NULL feature arrays are skipped

CREATE TABLE kmm AS SELECT cxsell.kmeans(f, 3) AS m FROM km;

-- sizes, centres in original units, within-cluster sums of squares (4 x 1)
SELECT * FROM kmm, cxsell.centroids(m);
SELECT (cxsell.summary(m)).* FROM kmm;

-- assigning points: the training points, and new ones
SELECT id, cxsell.cluster(m, f), cxsell.cluster_distance(m, f) FROM kmm, km WHERE f IS NOT NULL ORDER BY id;
SELECT cxsell.cluster(m, ARRAY[9.0, 1.0]) AS near_10_0, cxsell.cluster(m, ARRAY[-3.0, 12.0]) AS near_0_10,
       cxsell.cluster_distance(m, ARRAY[3.0, 4.0]) AS distance_from_origin FROM kmm;

-- the text form is readable JSON and round-trips exactly
SELECT m FROM kmm;
SELECT m::text::cxsell.kmodel::text = m::text AS text_round_trip,
       (m::text::jsonb -> 'clusters' -> 0 ->> 'size')::int AS first_size FROM kmm;

-- the same seed and data give the same model, whatever the row order; a
-- different seed may pick other (equally good) centres but the same inertia
SELECT (SELECT cxsell.kmeans(f, 3, '{"seed": 7}')::text FROM (SELECT f FROM km ORDER BY id DESC) s) =
       (SELECT cxsell.kmeans(f, 3, '{"seed": 7}')::text FROM (SELECT f FROM km ORDER BY id) s) AS order_free;
SELECT (cxsell.summary(cxsell.kmeans(f, 3, '{"seed": 12345, "restarts": 3}'))).inertia FROM km;

-- standardisation: features on very different scales; the means and
-- standard deviations are kept and applied to every later use
CREATE TABLE kms AS SELECT id, ARRAY[f[1] * 1000, f[2]] AS f FROM km WHERE f IS NOT NULL;
SELECT m::text::jsonb -> 'means' AS means, m::text::jsonb -> 'scales' AS scales, (cxsell.summary(m)).inertia
FROM (SELECT cxsell.kmeans(f, 3, '{"standardize": true}') AS m FROM kms) s;
SELECT cluster, size, centroid FROM (SELECT cxsell.kmeans(f, 3, '{"standardize": true}') AS m FROM kms) s,
       cxsell.centroids(m);
SELECT cxsell.cluster(m, ARRAY[10000.0, 0.5]) FROM (SELECT cxsell.kmeans(f, 3, '{"standardize": true}') AS m FROM kms) s;

-- fewer distinct points than k: the extra cluster has no point of its own
-- to take, so it stays empty (size 0) rather than duplicating a centre
SELECT cluster, size FROM (SELECT cxsell.kmeans(f, 3) AS m
  FROM (VALUES (ARRAY[0.0, 0.0]), (ARRAY[0.0, 0.0]), (ARRAY[0.0, 0.0]), (ARRAY[0.0, 0.0]),
               (ARRAY[5.0, 5.0]), (ARRAY[5.0, 5.0])) v(f)) s, cxsell.centroids(m);

-- k = 1 and k = number of points
SELECT size, centroid, within_ss FROM (SELECT cxsell.kmeans(f, 1) m FROM km) s, cxsell.centroids(m);
SELECT (cxsell.summary(cxsell.kmeans(f, 12))).inertia FROM km;

-- per-group use
SELECT g, (cxsell.summary(cxsell.kmeans(f, 2))).inertia
FROM (SELECT id / 8 AS g, f FROM km WHERE f IS NOT NULL) s GROUP BY g ORDER BY g;

-- empty input gives NULL
SELECT cxsell.kmeans(f, 3) IS NULL AS is_null FROM km WHERE false;
SELECT cxsell.kmeans(f, 3) IS NULL AS is_null FROM km WHERE f IS NULL;

-- a parallel plan gives the same model as the serial plan
CREATE TABLE kmp AS
SELECT g, ARRAY[(g % 5) * 3 + sin(g), (g % 7) + cos(g * 1.3), (g % 3) * 2.0]::float8[] AS f
FROM generate_series(1, 20000) g;
ALTER TABLE kmp SET (parallel_workers = 2);
ANALYZE kmp;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE kserial AS SELECT cxsell.kmeans(f, 5, '{"restarts": 2}')::text AS m FROM kmp;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT cxsell.kmeans(f, 5, '{"restarts": 2}') FROM kmp;
SELECT (SELECT cxsell.kmeans(f, 5, '{"restarts": 2}')::text FROM kmp) = m AS parallel_same FROM kserial;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;

-- choosing k: inertia and silhouette for every k in one query (the three
-- groups give the best silhouette at k = 3; k = 1 has none)
SELECT k, round(inertia::numeric, 6) AS inertia, round(silhouette::numeric, 6) AS silhouette,
       converged
FROM (SELECT unnest(cxsell.kmeans_sweep(f, 1, 5)) AS s FROM km) x, LATERAL (SELECT (x.s).*) r;
-- the sweep's k = 3 is the model cxsell.kmeans fits
SELECT (SELECT (cxsell.summary(cxsell.kmeans(f, 3, '{"seed": 4}'))).inertia FROM km) =
       (SELECT (s).inertia FROM (SELECT unnest(cxsell.kmeans_sweep(f, 3, 3, '{"seed": 4}')) s FROM km) x) AS same;

-- the model's own view of a point: its z-scores when standardised
SELECT cxsell.standardize(m, ARRAY[3333.3333333333335, 3.3333333333333335]) AS at_the_mean,
       cxsell.standardize(m, ARRAY[3333.3333333333335 + 4766.783215358364, 0]) AS one_sd_up
FROM (SELECT cxsell.kmeans(f, 3, '{"standardize": true}') AS m FROM kms) s;
