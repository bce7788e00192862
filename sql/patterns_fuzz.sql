-- no byte sequence crashes the server: every corrupted, truncated or random
-- cxsell.patterns input is either a valid value or an error
CREATE TABLE fz (basket int, item text);
INSERT INTO fz VALUES (1, 'a'), (1, 'b'), (1, 'c'), (2, 'a'), (2, 'b'), (3, 'b'), (3, 'c'), (4, 'a'), (4, 'b'), (4, 'c');
CREATE TABLE fzp AS SELECT cxsell.mine(basket, item, 0.25)::text AS t FROM fz;

CREATE FUNCTION pg_temp.try(t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  SELECT count(*) INTO n FROM cxsell.itemsets(t::cxsell.patterns);
  PERFORM count(*) FROM cxsell.rules(t::cxsell.patterns);
  PERFORM count(*) FROM cxsell.item_pairs(t::cxsell.patterns);
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  RETURN 'rejected ' || SQLSTATE;
END $$;

-- every single-byte change at every position (three masks)
SELECT pg_temp.try(overlay(t placing lpad(to_hex(get_byte(decode(t, 'hex'), pos) # mask), 2, '0')
                           from pos * 2 + 1 for 2)) AS outcome, count(*)
FROM fzp, generate_series(0, length(t) / 2 - 1) pos, unnest(ARRAY[1, 128, 255]) mask
GROUP BY 1 ORDER BY 1;

-- every truncation
SELECT pg_temp.try(left(t, len * 2)) AS outcome, count(*)
FROM fzp, generate_series(1, length(t) / 2 - 1) len
GROUP BY 1 ORDER BY 1;

-- random bytes after a valid header
SELECT setseed(0.42);
SELECT outcome, count(*) FROM (
  SELECT pg_temp.try('43585001' || (SELECT string_agg(lpad(to_hex((random() * 255)::int), 2, '0'), '')
                                   FROM generate_series(1, 20 + g % 60) k WHERE g > 0)) AS outcome
  FROM generate_series(1, 300) g) s
GROUP BY 1 ORDER BY 1;

-- the original is still fine
SELECT pg_temp.try(t) FROM fzp;
