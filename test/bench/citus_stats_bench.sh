#!/usr/bin/env bash
# citus_stats_bench.sh -- gains, auc, chi_square and k-means on a Citus
# cluster (a coordinator and two workers on this machine) against the same
# aggregates on one node, over UCI bank marketing copied SCALE times.
#
#   bash test/bench/citus_stats_bench.sh [SCALE ...]      (default: 20)
#   PARTS=kmeans bash test/bench/citus_stats_bench.sh 100  (parts: stats kmeans)
#
# Uses the PostgreSQL 18 + Citus build of tools/pg18.sh with cxsell
# installed into it (see citus_cluster.sh).  The distributed table is
# distributed by customer; "one node" reads a local copy on the coordinator
# with the server's default parallel settings.  Statistics: the six
# aggregates of test/t/010_citus.pl in one query, with the documented score
# and with the score rounded to a percent; k-means: k = 5 on six usage
# features, standardised, cxsell.kmeans against cxsell.kmeans_distributed.
# Median of three interleaved runs (RUNS=n for k-means); the bytes the coordinator received
# (EXPLAIN ANALYZE's "Tuple data received from nodes"; for k-means, every
# pass's); the peak resident memory of the coordinator's backend.  Prints
# Markdown tables.
set -euo pipefail
SCALES=("${@:-20}")
# shellcheck source=citus_cluster.sh
source "$(dirname "$0")/citus_cluster.sh"

gunzip -c "$ROOT/test/data/bank_marketing/bank-full.csv.gz" >"$WORK/bank.csv"
[ "$(id -u)" = 0 ] && chown postgres "$WORK/bank.csv"
psql_at "$C" -c "CREATE TABLE bank_raw (age int, job text, marital text, education text, \"default\" text,
	  balance int, housing text, loan text, contact text, day int, month text, duration int,
	  campaign int, pdays int, previous int, poutcome text, y text)" \
	-c "COPY bank_raw FROM '$WORK/bank.csv' WITH (FORMAT csv, DELIMITER ';', HEADER true)"

stats="cxsell.gains(SCORE, responded)::text, cxsell.gains(SCORE, responded, 20)::text,
	cxsell.auc(SCORE, responded), cxsell.chi_square(channel, responded),
	cxsell.chi_square(month, channel), cxsell.chi_square(housing, responded)"
received() {
	grep -o 'Tuple data received from nodes: [0-9]* [kMG]*B' | awk '
		{ v = $6; u = $7; s += v * (u == "kB" ? 1024 : u == "MB" ? 1048576 : u == "GB" ? 1073741824 : 1) }
		END { printf "%.2f", s / 1048576 }'
}

for scale in "${SCALES[@]}"; do
	log "bank x$scale: loading"
	psql_at "$C" -c "DROP TABLE IF EXISTS bank_local, bank_dist" \
		-c "CREATE TABLE bank_local AS
		SELECT k * 100000 + row_number() OVER () AS customer, contact AS channel, month,
		       y = 'yes' AS responded, housing = 'yes' AS housing,
		       3 * (poutcome = 'success')::int + (contact = 'cellular')::int
		       + (housing = 'no')::int + 2 * (month IN ('mar', 'sep', 'oct', 'dec'))::int
		       + (age >= 60)::int + least(greatest(balance::float8, 0), 20000) / 20000 AS score,
		       ARRAY[age, balance, duration, campaign, pdays, previous]::float8[] AS usage
		FROM bank_raw, generate_series(0, $scale - 1) k" \
		-c "CREATE TABLE bank_dist (LIKE bank_local)" \
		-c "SELECT create_distributed_table('bank_dist', 'customer')" >/dev/null
	psql_at "$C" -c "INSERT INTO bank_dist SELECT * FROM bank_local" -c "VACUUM ANALYZE bank_local, bank_dist"
	rows=$(psql_at "$C" -t -A -c "SELECT count(*) FROM bank_local")
	gather=$(psql_at "$C" -t -A -c "EXPLAIN (ANALYZE, VERBOSE, TIMING OFF, COSTS OFF)
		SELECT count(*) FROM (SELECT score, responded, channel, month, housing FROM bank_dist OFFSET 0) s" | received)

	if [[ " ${PARTS:-stats kmeans} " == *" stats "* ]]; then
		echo
		echo "bank x$scale ($rows rows): the six statistics (row gather of their columns: $gather MB)"
		echo
		echo "| score | one node (s) | distributed (s) | one node / distributed | received by coordinator (MB) | equal |"
		echo "|---|---:|---:|---:|---:|---|"
		for score in score "round(score::numeric, 2)::float8"; do
			q=${stats//SCORE/$score}
			same=$(psql_at "$C" -t -A -c "SELECT (SELECT ROW($q)::text FROM bank_local) = (SELECT ROW($q)::text FROM bank_dist)")
			recv=$(psql_at "$C" -t -A -c "EXPLAIN (ANALYZE, VERBOSE, TIMING OFF, COSTS OFF) SELECT $q FROM bank_dist" | received)
			: >"$WORK/local"; : >"$WORK/dist"
			for i in 1 2 3; do
				log "x$scale statistics ($score): run $i"
				run "SELECT length(ROW($q)::text) FROM bank_local;" >>"$WORK/local"
				run "SELECT length(ROW($q)::text) FROM bank_dist;" >>"$WORK/dist"
			done
			lt=$(awk '{print $1}' "$WORK/local" | median)
			dt=$(awk '{print $1}' "$WORK/dist" | median)
			label=$([ "$score" = score ] && echo "documented (continuous)" || echo "rounded to a percent")
			awk -v l="$label" -v lt="$lt" -v dt="$dt" -v r="$recv" -v same="$same" 'BEGIN {
				printf "| %s | %.2f | %.2f | %.2fx | %s | %s |\n", l, lt / 1000, dt / 1000, lt / dt, r, same == "t" ? "yes" : "NO" }'
		done

	fi
	[[ " ${PARTS:-stats kmeans} " == *" kmeans "* ]] || continue
	echo
	echo "bank x$scale ($rows rows): k-means, k = 5, six features, standardised"
	echo
	echo "| | time (s) | inertia | iterations | coordinator peak RSS (MB) |"
	echo "|---|---:|---:|---:|---:|"
	: >"$WORK/local"; : >"$WORK/dist"
	for i in $(seq "${RUNS:-3}"); do
		log "x$scale k-means: run $i"
		run "DROP TABLE IF EXISTS km_local; CREATE TABLE km_local AS
		     SELECT cxsell.kmeans(usage, 5, '{\"standardize\": true}') AS m FROM bank_local;" >>"$WORK/local"
		run "DROP TABLE IF EXISTS km_dist; CREATE TABLE km_dist AS
		     SELECT cxsell.kmeans_distributed('bank_dist', 'usage', 5, '{\"standardize\": true}') AS m;" >>"$WORK/dist"
	done
	for side in local dist; do
		name=$([ $side = local ] && echo "one node (cxsell.kmeans)" || echo "distributed (kmeans_distributed)")
		res=$(psql_at "$C" -t -A -F ' ' -c "SELECT (cxsell.summary(m)).inertia, (cxsell.summary(m)).iterations FROM km_$side")
		t=$(awk '{print $1}' "$WORK/$side" | median)
		kb=$(awk '{print $2}' "$WORK/$side" | median)
		awk -v n="$name" -v t="$t" -v res="$res" -v kb="$kb" 'BEGIN {
			split(res, a, " "); printf "| %s | %.2f | %.1f | %d | %d |\n", n, t / 1000, a[1], a[2], kb / 1024 }'
	done
	pass=$(psql_at "$C" -t -A -c "EXPLAIN (ANALYZE, VERBOSE, TIMING OFF, COSTS OFF)
		SELECT cxsell._km_step(usage, (SELECT array_fill(0::float8, ARRAY[300])), '{0,0,0,0,0,0,1,1,1,1,1,1}', 5) FROM bank_dist" | received)
	echo
	echo "A Lloyd pass of 10 restarts receives $pass MB (the row gather of the features: $(psql_at "$C" -t -A -c "EXPLAIN (ANALYZE, VERBOSE, TIMING OFF, COSTS OFF)
		SELECT count(*) FROM (SELECT usage FROM bank_dist OFFSET 0) s" | received) MB)."
done
