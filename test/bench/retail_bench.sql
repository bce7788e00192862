-- Schema for test/bench/retail_bench.sh (run once, after CREATE EXTENSION).

CREATE TABLE retail (basket int NOT NULL, item int NOT NULL);
