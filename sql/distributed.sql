-- cxsell.mine_distributed: on a table that is not distributed it is
-- cxsell.mine; the partition plan it runs on a distributed table (mine each
-- part, count the union of what the parts found, build the value from the
-- counts) gives the value cxsell.mine gives, byte for byte.  The plan is
-- run here by hand over parts of local tables; test/t/010_citus.pl runs
-- it on a Citus cluster.
SET extra_float_digits = 0;
CREATE TABLE dist_lines (basket int, item int);
INSERT INTO dist_lines VALUES
  (1, 10), (1, 20), (1, 30), (2, 10), (2, 20), (3, 10), (3, 30), (3, 30),
  (4, 20), (4, 30), (5, 10), (5, 20), (5, 30), (6, 40), (NULL, 10), (7, NULL);

-- not distributed: cxsell.mine, filter and max_len included
SELECT cxsell.mine_distributed('dist_lines', 'basket', 'item', 0.4)::text
     = (SELECT cxsell.mine(basket, item, 0.4) FROM dist_lines)::text AS same_as_mine;
SELECT cxsell.mine_distributed('dist_lines', 'basket', 'item', 0.3, 2, 'item <> 40')::text
     = (SELECT cxsell.mine(basket, item, 0.3, 2) FROM dist_lines WHERE item <> 40)::text AS same_as_mine;
SELECT cxsell.mine_distributed('dist_lines', 'basket', 'item', 0.3, 0, 'false') AS no_rows;

-- bad input
SELECT cxsell.mine_distributed(NULL, 'basket', 'item', 0.4);
SELECT cxsell.mine_distributed('dist_lines', 'basket', 'product', 0.4);
SELECT cxsell.mine_distributed('dist_lines', 'order', 'item', 0.4);
SELECT cxsell.mine_distributed('dist_lines', 'basket', 'item', 0);
SELECT cxsell.mine_distributed('dist_lines', 'basket', 'item', 0.4, -1);
SELECT cxsell.mine_distributed('dist_lines', 'basket', 'item', 0.4, 0, 'item >');
SELECT cxsell.mine_distributed('no_such_table', 'basket', 'item', 0.4);

-- the plan by hand: the lines of part p of `parts` (by a hash of the
-- basket); pass 1 at a hair under the support, each part's itemsets as
-- candidates, their union; pass 2, each part's counts; the value
CREATE TABLE dist_data (basket int, item int, label text COLLATE "C");
CREATE FUNCTION pg_temp.son(parts int, minsup float8, maxlen int, by_label bool)
RETURNS cxsell.patterns LANGUAGE plpgsql AS $$
DECLARE cand bytea; counts bytea[]; col text := CASE WHEN by_label THEN 'label' ELSE 'item' END;
BEGIN
  EXECUTE format('SELECT cxsell._son_union(array_agg(cxsell._son_candidates(ARRAY[m]) ORDER BY p))
                  FROM generate_series(0, $1 - 1) p,
                       LATERAL (SELECT cxsell.mine(basket, %I, $2 * (1 - 1e-12), $3) m
                                FROM dist_data WHERE abs(hashint4(basket)) %% $1 = p) l', col)
    INTO cand USING parts, minsup, maxlen;
  EXECUTE format('SELECT array_agg(c ORDER BY p) FILTER (WHERE c IS NOT NULL)
                  FROM generate_series(0, $1 - 1) p,
                       LATERAL (SELECT cxsell._son_count(basket, %I, $2) c
                                FROM dist_data WHERE abs(hashint4(basket)) %% $1 = p) l', col)
    INTO counts USING parts, cand;
  RETURN cxsell._son_patterns(cand, counts, minsup, maxlen,
                              CASE WHEN by_label THEN 'text' ELSE 'int4' END::regtype,
                              CASE WHEN by_label THEN (SELECT oid FROM pg_collation WHERE collname = 'C') ELSE 0 END);
END $$;

-- the hand data in 1, 2, 3 and 7 parts (more parts than baskets)
INSERT INTO dist_data SELECT basket, item, 'i' || item FROM dist_lines;
SELECT parts, minsup,
       pg_temp.son(parts, minsup, 0, false)::text
         = (SELECT cxsell.mine(basket, item, minsup) FROM dist_data)::text AS int_items,
       pg_temp.son(parts, minsup, 0, true)::text
         = (SELECT cxsell.mine(basket, label, minsup) FROM dist_data)::text AS text_items
FROM unnest('{1,2,3,7}'::int[]) parts, unnest('{0.2,0.4,0.6}'::float8[]) minsup
ORDER BY 1, 2;
SELECT cxsell.itemsets(pg_temp.son(3, 0.4, 0, true));

-- seeded data sets of several shapes: skewed popularity, long baskets,
-- repeats and NULLs; items as numbers and as text (whose orders differ)
CREATE FUNCTION pg_temp.gen(seed float8, nb int, ni int, maxlen int, skew float8) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE dist_data;
  PERFORM setseed(seed);
  INSERT INTO dist_data
  SELECT b, it, 'i' || it
  FROM (SELECT CASE WHEN random() < 0.01 THEN NULL ELSE b END AS b,
               CASE WHEN random() < 0.01 THEN NULL ELSE floor(ni * power(random(), skew))::int END AS it
        FROM generate_series(1, nb) b,
             LATERAL generate_series(1, 1 + floor(random() * maxlen)::int) k) s;
END $$;
CREATE TEMP TABLE dist_runs (seed int, parts int, minsup float8, maxlen int, int_items bool, text_items bool);
DO $$
DECLARE s int; shape int; parts int; minsup float8; maxlen int;
BEGIN
  FOR s IN 1 .. 24 LOOP
    shape := 1 + s % 4;
    PERFORM pg_temp.gen(s / 100.0, (ARRAY[200, 400, 60, 300])[shape], (ARRAY[12, 40, 8, 25])[shape],
                        (ARRAY[4, 8, 6, 12])[shape], 1 + (s % 3));
    parts := 1 + s % 5;
    minsup := (ARRAY[0.02, 0.05, 0.1, 0.3])[1 + s % 4];
    maxlen := (ARRAY[0, 0, 2, 3])[1 + (s / 4) % 4];
    INSERT INTO dist_runs SELECT s, parts, minsup, maxlen,
      pg_temp.son(parts, minsup, maxlen, false)::text
        = (SELECT cxsell.mine(basket, item, minsup, maxlen) FROM dist_data)::text,
      pg_temp.son(parts, minsup, maxlen, true)::text
        = (SELECT cxsell.mine(basket, label, minsup, maxlen) FROM dist_data)::text;
  END LOOP;
END $$;
SELECT count(*) AS runs, count(*) FILTER (WHERE int_items AND text_items) AS identical,
       count(DISTINCT parts) AS part_counts, count(DISTINCT (minsup, maxlen)) AS settings
FROM dist_runs;

-- what the internal steps refuse
SELECT cxsell._son_candidates('{}');
SELECT cxsell._son_candidate_items(cxsell._son_candidates(ARRAY[
  (SELECT cxsell.mine(basket, 'i' || item, 0.4) FROM dist_lines),
  NULL,
  (SELECT cxsell.mine(basket, item, 0.5) FROM dist_lines)]));
SELECT cxsell._son_union(ARRAY[cxsell._son_candidates(ARRAY[(SELECT cxsell.mine(basket, item, 0.2) FROM dist_lines)]),
                               NULL, cxsell._son_candidates('{}')])
     = cxsell._son_candidates(ARRAY[(SELECT cxsell.mine(basket, item, 0.2) FROM dist_lines)]) AS union_of_one;
SELECT cxsell._son_union(ARRAY['\x4358'::bytea]);
SELECT cxsell._son_candidate_items('\x00');
SELECT cxsell._son_candidate_items('\x43585301000000020000000178');
CREATE TEMP TABLE dist_plan AS
  SELECT cxsell._son_candidates(ARRAY[(SELECT cxsell.mine(basket, item, 0.4) FROM dist_lines)]) AS cand;
CREATE TEMP TABLE dist_counts AS
  SELECT cxsell._son_count(basket, item, (SELECT cand FROM dist_plan)) AS c FROM dist_lines;
SELECT cxsell._son_patterns(cand, ARRAY[c], 0.4, 0, 'int4', 0)::text
     = (SELECT cxsell.mine(basket, item, 0.4) FROM dist_lines)::text AS one_part
FROM dist_plan, dist_counts;
-- counts of other candidates, cut short, or with a count above the baskets
SELECT cxsell._son_patterns(cxsell._son_candidates('{}'), ARRAY[c], 0.4, 0, 'int4', 0)
FROM dist_counts;
SELECT cxsell._son_patterns(cand, ARRAY[substring(c from 1 for length(c) - 3)], 0.4, 0, 'int4', 0)
FROM dist_plan, dist_counts;
SELECT cxsell._son_patterns(cand, ARRAY[overlay(c placing '\x7f' from 17 for 1)], 0.4, 0, 'int4', 0)
FROM dist_plan, dist_counts;
SELECT cxsell._son_patterns(cand, ARRAY[NULL::bytea], 0.4, 0, 'int4', 0) FROM dist_plan;
SELECT cxsell._son_patterns(cand, ARRAY[c], 0.4, 0, 'point', 0) FROM dist_plan, dist_counts;
SELECT cxsell._son_count(basket, item, NULL) FROM dist_lines;
