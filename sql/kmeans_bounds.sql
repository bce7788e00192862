-- cxsell.kmeans skips the distances that cannot change an assignment
-- (Hamerly's bounds); the fit must be exactly plain Lloyd's.  Over seeded
-- data sets (Gaussian blobs, integer grids full of exact ties, duplicate
-- points, features on scales 1e-6 to 1e6, values whose squares underflow),
-- the model's cluster sizes and
-- within-cluster sums must equal a plain scan of every point against the
-- final centres (cxsell.cluster, which compares each point with every
-- centre, lowest number on ties).
CREATE TABLE kb_points (ds int, id int, f float8[]);
CREATE TABLE kb_cases (ds int, k int, opts text);
DO $$
DECLARE ds int := 0; shape text; k int;
BEGIN
  PERFORM setseed(0.777);
  FOREACH shape IN ARRAY ARRAY['blobs', 'grid', 'dups', 'scales', 'line', 'tiny'] LOOP
    FOR rep IN 1..3 LOOP
      ds := ds + 1;
      IF shape = 'blobs' THEN
        INSERT INTO kb_points
        SELECT ds, i, ARRAY[(i % 5) * 4 + random() * 3, (i % 3) * 4 + random() * 3, random()]
        FROM generate_series(1, 400) i;
      ELSIF shape = 'grid' THEN
        INSERT INTO kb_points
        SELECT ds, x * 20 + y, ARRAY[x::float8, y::float8] FROM generate_series(0, 19) x, generate_series(0, 19) y;
      ELSIF shape = 'dups' THEN
        INSERT INTO kb_points
        SELECT ds, i, ARRAY[floor(random() * 4)::float8, floor(random() * 3)::float8] FROM generate_series(1, 300) i;
      ELSIF shape = 'scales' THEN
        INSERT INTO kb_points
        SELECT ds, i, ARRAY[random() * 1e6, random() * 1e-6, (i % 7)::float8] FROM generate_series(1, 300) i;
      ELSIF shape = 'line' THEN
        INSERT INTO kb_points
        SELECT ds, i, ARRAY[i::float8 + 0.5 * (i % 2)] FROM generate_series(1, 200) i;
      ELSE
        -- squares in the subnormal range, rounded to absolute steps
        INSERT INTO kb_points
        SELECT ds, i, ARRAY[(i % 9) * 1e-156 + random() * 1e-156, random() * 1e-155]
        FROM generate_series(1, 200) i;
      END IF;
      FOREACH k IN ARRAY ARRAY[2, 3, 5, 9] LOOP
        INSERT INTO kb_cases VALUES (ds, k, format('{"seed": %s, "restarts": %s, "max_iter": %s}',
                                                   ds * 10 + k, 1 + rep % 3, (ARRAY[3, 50, 300])[rep]));
      END LOOP;
    END LOOP;
  END LOOP;
END $$;

CREATE TABLE kb_models AS
SELECT c.ds, c.k, c.opts, (SELECT cxsell.kmeans(p.f, c.k, c.opts::jsonb) FROM kb_points p WHERE p.ds = c.ds) AS m
FROM kb_cases c;

-- sizes and within-cluster sums of the fit against the plain scan
SELECT count(*) AS models,
       count(*) FILTER (WHERE EXISTS (
         SELECT FROM cxsell.centroids(km.m) c
         FULL JOIN (SELECT cxsell.cluster(km.m, p.f) AS cluster, count(*) AS n,
                           sum(cxsell.cluster_distance(km.m, p.f) ^ 2) AS ss
                    FROM kb_points p WHERE p.ds = km.ds GROUP BY 1) s USING (cluster)
         WHERE coalesce(c.size, 0) <> coalesce(s.n, 0)
            OR abs(coalesce(c.within_ss, 0) - coalesce(s.ss, 0)) > 1e-9 * (1 + coalesce(s.ss, 0)))) AS disagreeing
FROM kb_models km;
