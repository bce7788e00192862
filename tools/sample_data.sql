-- Seeded sample data for the cxsell demo: 8,000 shopping baskets of 2,000
-- customers over 24 products, with planted structure a miner should find:
--   complements: pasta -> pasta sauce (and parmesan), chips -> salsa,
--                smartphone -> phone case and screen protector,
--                coffee beans -> coffee filters;
--   substitutes: cola vs diet cola, butter vs margarine (a basket holds at
--                most one of each pair);
--   everything else is drawn independently.
-- The same seed gives the same data on every machine.
SELECT setseed(0.2024);

CREATE TABLE sample_baskets AS
SELECT g AS basket, 1 + floor(random() * 2000)::int AS customer,
       random() AS u_pasta, random() AS u_sauce, random() AS u_parm,
       random() AS u_chips, random() AS u_salsa,
       random() AS u_phone, random() AS u_case, random() AS u_prot,
       random() AS u_cola, random() AS u_butter,
       random() AS u_beans, random() AS u_filter
FROM generate_series(1, 8000) g;

CREATE TABLE sample_lines AS
WITH planted AS (
  SELECT s.*,
         u_pasta < 0.20 AS pasta,
         u_chips < 0.18 AS chips,
         u_phone < 0.04 AS phone,
         u_beans < 0.10 AS beans
  FROM sample_baskets s)
SELECT basket, customer, item
FROM planted,
     LATERAL (VALUES
       ('pasta', pasta),
       ('pasta sauce', (pasta AND u_sauce < 0.70) OR (NOT pasta AND u_sauce < 0.05)),
       ('parmesan', (pasta AND u_parm < 0.30) OR u_parm < 0.03),
       ('chips', chips),
       ('salsa', (chips AND u_salsa < 0.50) OR u_salsa < 0.04),
       ('smartphone', phone),
       ('phone case', (phone AND u_case < 0.60) OR u_case < 0.01),
       ('screen protector', (phone AND u_prot < 0.45) OR u_prot < 0.006),
       ('cola', u_cola < 0.15),
       ('diet cola', u_cola >= 0.15 AND u_cola < 0.27),
       ('butter', u_butter < 0.14),
       ('margarine', u_butter >= 0.14 AND u_butter < 0.24),
       ('coffee beans', beans),
       ('coffee filters', (beans AND u_filter < 0.55) OR u_filter < 0.03)) v(item, holds)
WHERE holds
UNION ALL
SELECT basket, customer, item
FROM (SELECT basket, customer, item, p, random() AS u
      FROM sample_baskets,
           (VALUES ('bread', 0.35), ('milk', 0.40), ('eggs', 0.20), ('bananas', 0.25),
                   ('apples', 0.20), ('yogurt', 0.15), ('cheese', 0.15), ('water', 0.20),
                   ('beer', 0.12), ('wine', 0.08), ('batteries', 0.05), ('diapers', 0.06)) v(item, p)) d
WHERE u < p;

DROP TABLE sample_baskets;
ANALYZE sample_lines;
COMMENT ON TABLE sample_lines IS 'cxsell demo: one row per basket line (seeded sample data)';
