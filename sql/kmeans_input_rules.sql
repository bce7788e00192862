-- every k-means input rule: SQLSTATE, message, detail and hint
CREATE TABLE kr (f float8[]);
INSERT INTO kr VALUES ('{1,2}'), ('{2,3}'), ('{8,9}');

-- k
SELECT regress.err($$SELECT cxsell.kmeans(f, 0) FROM kr$$);
SELECT regress.err($$SELECT cxsell.kmeans(f, -2) FROM kr$$);
SELECT regress.err($$SELECT cxsell.kmeans(f, NULL) FROM kr$$);
SELECT regress.err($$SELECT cxsell.kmeans(f, 4) FROM kr$$);
SELECT regress.err($$SELECT cxsell.kmeans(f, CASE WHEN f[1] < 5 THEN 1 ELSE 2 END) FROM kr$$);
-- feature arrays
SELECT regress.err($$SELECT cxsell.kmeans(f, 2) FROM (VALUES ('{1,2}'::float8[]), ('{1,2,3}')) v(f)$$);
SELECT regress.err($$SELECT cxsell.kmeans(f, 2) FROM (VALUES ('{1,2}'::float8[]), ('{1,NaN}')) v(f)$$);
SELECT regress.err($$SELECT cxsell.kmeans(f, 2) FROM (VALUES ('{1,2}'::float8[]), ('{Infinity,1}')) v(f)$$);
SELECT regress.err($$SELECT cxsell.kmeans(f, 2) FROM (VALUES ('{1,2}'::float8[]), ('{1,NULL}')) v(f)$$);
SELECT regress.err($$SELECT cxsell.kmeans(f, 2) FROM (VALUES ('{1,2}'::float8[]), ('{}')) v(f)$$);
SELECT regress.err($$SELECT cxsell.kmeans(f, 2) FROM (VALUES ('{{1,2},{3,4}}'::float8[])) v(f)$$);
-- options
SELECT regress.err($$SELECT cxsell.kmeans(f, 2, '{"seeds": 1}') FROM kr$$);
SELECT regress.err($$SELECT cxsell.kmeans(f, 2, '{"restarts": 0}') FROM kr$$);
SELECT regress.err($$SELECT cxsell.kmeans(f, 2, '{"restarts": 2.5}') FROM kr$$);
SELECT regress.err($$SELECT cxsell.kmeans(f, 2, '{"max_iter": "many"}') FROM kr$$);
SELECT regress.err($$SELECT cxsell.kmeans(f, 2, '{"tol": -1}') FROM kr$$);
SELECT regress.err($$SELECT cxsell.kmeans(f, 2, '{"standardize": 1}') FROM kr$$);
SELECT regress.err($$SELECT cxsell.kmeans(f, 2, '[1, 2]') FROM kr$$);
SELECT regress.err($$SELECT cxsell.kmeans(f, 2, '{}') FROM kr$$);
-- using a model
CREATE TABLE krm AS SELECT cxsell.kmeans(f, 2) AS m FROM kr;
SELECT regress.err($$SELECT cxsell.cluster(m, '{1,2,3}') FROM krm$$);
SELECT regress.err($$SELECT cxsell.cluster(m, '{1,NaN}') FROM krm$$);
SELECT regress.err($$SELECT cxsell.cluster_distance(m, '{NULL,1}') FROM krm$$);
SELECT cxsell.cluster(m, NULL) IS NULL AS null_in_null_out FROM krm;
-- the memory bound
SET cxsell.max_memory = '1MB';
SELECT regexp_replace(regress.err($$SELECT cxsell.kmeans(ARRAY[g, g], 2) FROM generate_series(1, 100000) g$$),
                      '\d+ kB', 'N kB', 'g');
RESET cxsell.max_memory;
-- text input validates in full
SELECT regress.err($$SELECT 'nonsense'::cxsell.kmodel$$);
SELECT regress.err($$SELECT '[1]'::cxsell.kmodel$$);
SELECT regress.err($$SELECT '{"k": 0, "features": 2}'::cxsell.kmodel$$);
SELECT regress.err(format('SELECT %L::cxsell.kmodel', jsonb_set(m::text::jsonb, '{points}', '4')::text)) FROM krm;
SELECT regress.err(format('SELECT %L::cxsell.kmodel', jsonb_set(m::text::jsonb, '{clusters,0,size}', '-1')::text)) FROM krm;
SELECT regress.err(format('SELECT %L::cxsell.kmodel', jsonb_set(m::text::jsonb, '{inertia}', '99')::text)) FROM krm;
SELECT regress.err(format('SELECT %L::cxsell.kmodel', jsonb_set(m::text::jsonb, '{means}', '[1]')::text)) FROM krm;
SELECT regress.err(format('SELECT %L::cxsell.kmodel', jsonb_set(m::text::jsonb, '{clusters,1,centroid,0}', '"x"')::text)) FROM krm;
SELECT regress.err(format('SELECT %L::cxsell.kmodel', (m::text::jsonb - 'seed')::text)) FROM krm;
SELECT regress.err(format('SELECT %L::cxsell.kmodel', jsonb_set(m::text::jsonb, '{scales,0}', '0')::text)) FROM krm;
-- the sweep's range of k
SELECT regress.err($$SELECT cxsell.kmeans_sweep(f, 3, 2) FROM kr$$);
SELECT regress.err($$SELECT cxsell.kmeans_sweep(f, 0, 2) FROM kr$$);
SELECT regress.err($$SELECT cxsell.kmeans_sweep(f, 2, 5) FROM kr$$);
SELECT regress.err($$SELECT cxsell.kmeans_sweep(f, 2, NULL) FROM kr$$);
SELECT cxsell.kmeans_sweep(f, 1, 2) IS NULL AS empty_is_null FROM kr WHERE false;
