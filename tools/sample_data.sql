-- The sample data of cxsell's README and demo.  Run it from the repository
-- root, in a database with the extension created:
--
--     psql -d mydb -c 'CREATE EXTENSION cxsell' -f tools/sample_data.sql
--
-- It creates, in the current schema:
--
--   sample_lines(basket, customer, item)      a seeded shop: 8,000 baskets
--       drawn for 2,000 customers over 26 products (7,830 baskets of 1,964
--       customers hold at least one), with structure planted in it
--       (pasta goes with pasta sauce and parmesan, chips with salsa, phones
--       with cases and screen protectors, coffee beans with filters; cola
--       and diet cola, butter and margarine exclude each other);
--   groceries(basket, item)                   9,835 real grocery baskets;
--   grocery_levels(item, level2, level1)      their items' two category
--       levels (55 subcategories, 10 main categories, from arules);
--   online_retail(invoice, stock_code, description, quantity, invoice_date,
--       unit_price, customer, country)        20,000 real lines of an
--       online shop's invoices, drawn at random;
--   telco_customers(customer, tenure, monthly, total, retained, depth) and
--   telco_services(customer, service)         7,043 real telco customers
--       and the services each holds;
--   bank(customer, channel, responded, score) 45,211 real calls of a bank's
--       marketing campaign, with a documented targeting score.
--
-- The real data sets ship compressed in test/data, each with its source and
-- licence (test/data/*/SOURCE.md); psql reads them with \copy, so the files
-- need only be readable by you, not by the server.

\set ON_ERROR_STOP 1

-- A seeded shop.  Every draw is a uniform number in [0, 1) made from the MD5
-- digest of its position, so the data are the same on every machine, server
-- version and plan.
CREATE FUNCTION pg_temp.u(n bigint) RETURNS float8 LANGUAGE sql IMMUTABLE
AS $$ SELECT ('x' || substr(md5('cxsell sample ' || n), 1, 13))::bit(52)::bigint::float8 / 4503599627370496 $$;

CREATE TABLE sample_lines AS
WITH baskets AS (
  SELECT g AS basket, 1 + floor(pg_temp.u(g * 64 + 63) * 2000)::int AS customer,
         pg_temp.u(g * 64 + 1) < 0.20 AS pasta, pg_temp.u(g * 64 + 2) AS u_sauce,
         pg_temp.u(g * 64 + 3) AS u_parm, pg_temp.u(g * 64 + 4) < 0.18 AS chips,
         pg_temp.u(g * 64 + 5) AS u_salsa, pg_temp.u(g * 64 + 6) < 0.04 AS phone,
         pg_temp.u(g * 64 + 7) AS u_case, pg_temp.u(g * 64 + 8) AS u_prot,
         pg_temp.u(g * 64 + 9) AS u_cola, pg_temp.u(g * 64 + 10) AS u_butter,
         pg_temp.u(g * 64 + 11) < 0.10 AS beans, pg_temp.u(g * 64 + 12) AS u_filter
  FROM generate_series(1, 8000) g)
SELECT basket, customer, item
FROM baskets,
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
SELECT b.basket, b.customer, d.item
FROM baskets b,
     (VALUES (20, 'bread', 0.35), (21, 'milk', 0.40), (22, 'eggs', 0.20), (23, 'bananas', 0.25),
             (24, 'apples', 0.20), (25, 'yogurt', 0.15), (26, 'cheese', 0.15), (27, 'water', 0.20),
             (28, 'beer', 0.12), (29, 'wine', 0.08), (30, 'batteries', 0.05),
             (31, 'diapers', 0.06)) d(draw, item, p)
WHERE pg_temp.u(b.basket * 64 + d.draw) < d.p;
COMMENT ON TABLE sample_lines IS 'cxsell sample data: one row per basket line of a seeded shop';

-- Groceries (test/data/groceries): one basket per line of the file.
CREATE TEMP TABLE groceries_raw (basket serial, line text);
\copy groceries_raw (line) FROM PROGRAM 'gzip -dc test/data/groceries/groceries.csv.gz'
CREATE TABLE groceries AS
SELECT basket, item FROM groceries_raw, unnest(string_to_array(line, ',')) AS item;
COMMENT ON TABLE groceries IS 'cxsell sample data: 9,835 grocery baskets (Hahsler et al., arules), one row per basket line';
CREATE TABLE grocery_levels (item text PRIMARY KEY, level2 text NOT NULL, level1 text NOT NULL);
\copy grocery_levels FROM PROGRAM 'gzip -dc test/data/groceries/groceries_levels.tsv.gz' (FORMAT csv, DELIMITER E'\t', HEADER true, QUOTE E'\b')
COMMENT ON TABLE grocery_levels IS 'cxsell sample data: the category (level2) and main category (level1) of each groceries item (arules)';

-- UCI Online Retail (test/data/online_retail_sample): 20,000 invoice lines
-- drawn at random from the shop's year; NA is a missing customer.
CREATE TABLE online_retail (invoice text, stock_code text, description text, quantity int,
  invoice_date timestamp, unit_price numeric, customer int, country text);
\copy online_retail FROM PROGRAM 'gzip -dc test/data/online_retail_sample/online_retail_sample.csv.gz' (FORMAT csv, HEADER true, NULL 'NA')
COMMENT ON TABLE online_retail IS 'cxsell sample data: 20,000 random lines of the UCI Online Retail invoices (Chen et al.), all columns';

-- IBM telco customers (test/data/telco_churn): usage, retention and the
-- services each holds.
CREATE TEMP TABLE telco_raw (
  "customerID" text, gender text, "SeniorCitizen" text, "Partner" text, "Dependents" text,
  tenure text, "PhoneService" text, "MultipleLines" text, "InternetService" text,
  "OnlineSecurity" text, "OnlineBackup" text, "DeviceProtection" text, "TechSupport" text,
  "StreamingTV" text, "StreamingMovies" text, "Contract" text, "PaperlessBilling" text,
  "PaymentMethod" text, "MonthlyCharges" text, "TotalCharges" text, "Churn" text);
\copy telco_raw FROM PROGRAM 'gzip -dc test/data/telco_churn/Telco-Customer-Churn.csv.gz' WITH (FORMAT csv, HEADER true)
-- TotalCharges is blank for the 11 customers of tenure 0: they have paid nothing
CREATE TABLE telco_customers AS
SELECT "customerID" AS customer, tenure::float8 AS tenure, "MonthlyCharges"::float8 AS monthly,
       coalesce(nullif(trim("TotalCharges"), '')::float8, 0) AS total,
       "Churn" = 'No' AS retained,
       ("PhoneService" = 'Yes')::int + ("MultipleLines" = 'Yes')::int
       + ("InternetService" <> 'No')::int + ("OnlineSecurity" = 'Yes')::int
       + ("OnlineBackup" = 'Yes')::int + ("DeviceProtection" = 'Yes')::int
       + ("TechSupport" = 'Yes')::int + ("StreamingTV" = 'Yes')::int
       + ("StreamingMovies" = 'Yes')::int AS depth
FROM telco_raw;
COMMENT ON TABLE telco_customers IS 'cxsell sample data: 7,043 telco customers (IBM sample): months of tenure, monthly and total charges, retained, number of services (depth)';
CREATE TABLE telco_services AS
SELECT "customerID" AS customer, s.service
FROM telco_raw, LATERAL (VALUES
  ('phone', "PhoneService" = 'Yes'), ('multiple lines', "MultipleLines" = 'Yes'),
  ('internet', "InternetService" <> 'No'), ('fiber', "InternetService" = 'Fiber optic'),
  ('online security', "OnlineSecurity" = 'Yes'), ('online backup', "OnlineBackup" = 'Yes'),
  ('device protection', "DeviceProtection" = 'Yes'), ('tech support', "TechSupport" = 'Yes'),
  ('streaming tv', "StreamingTV" = 'Yes'), ('streaming movies', "StreamingMovies" = 'Yes')) s(service, holds)
WHERE holds;
COMMENT ON TABLE telco_services IS 'cxsell sample data: the services each telco customer holds';

-- UCI bank marketing (test/data/bank_marketing): one row per call.  The
-- score is a documented formula, not a model: a success in the previous
-- campaign 3, reached on a mobile 1, no housing loan 1, called in March,
-- September, October or December 2, aged 60 or over 1, plus the balance up
-- to 20,000 as a fraction of 20,000.
CREATE TEMP TABLE bank_raw (age text, job text, marital text, education text, "default" text,
  balance text, housing text, loan text, contact text, day text, month text, duration text,
  campaign text, pdays text, previous text, poutcome text, y text);
\copy bank_raw FROM PROGRAM 'gzip -dc test/data/bank_marketing/bank-full.csv.gz' WITH (FORMAT csv, DELIMITER ';', HEADER true)
CREATE TABLE bank AS
SELECT row_number() OVER () AS customer, contact AS channel, y = 'yes' AS responded,
       3 * (poutcome = 'success')::int + (contact = 'cellular')::int
       + (housing = 'no')::int + 2 * (month IN ('mar', 'sep', 'oct', 'dec'))::int
       + (age::int >= 60)::int
       + least(greatest(balance::float8, 0), 20000) / 20000 AS score
FROM bank_raw;
COMMENT ON TABLE bank IS 'cxsell sample data: 45,211 calls of a bank''s marketing campaign (UCI): channel, whether the customer subscribed, a targeting score';

DROP TABLE groceries_raw, telco_raw, bank_raw;
ANALYZE sample_lines, groceries, grocery_levels, online_retail, telco_customers, telco_services, bank;
