#!/usr/bin/env bash
# citus_bench.sh -- cxsell.mine_distributed on a Citus cluster (a coordinator
# and two workers on this machine) against cxsell.mine on one node, over
# FIMI retail copied SCALE times (baskets renumbered per copy).
#
#   bash test/bench/citus_bench.sh [SCALE ...]        (default: 10)
#   SUPPORTS="0.001" bash test/bench/citus_bench.sh 50   (supports: 0.01 0.001)
#
# Uses the PostgreSQL 18 + Citus build of tools/pg18.sh (with cxsell
# installed into it: make PG_CONFIG=<that pg_config> install).  The single
# node is the coordinator itself, reading a local copy of the same rows with
# the server's default parallel settings; the distributed table is
# distributed by basket over the two workers.  For each support: median of
# three interleaved runs, the bytes the coordinator received (its DEBUG
# lines) against the tuple bytes a row gather moves, and the peak resident
# memory of the coordinator's backend (VmHWM, shared buffers it touched
# included).  Prints a Markdown table.
set -euo pipefail
SCALES=("${@:-10}")
# shellcheck source=citus_cluster.sh
source "$(dirname "$0")/citus_cluster.sh"

gunzip -c "$ROOT/test/data/retail/retail.dat.gz" >"$WORK/retail.dat"
[ "$(id -u)" = 0 ] && chown postgres "$WORK/retail.dat"
psql_at "$C" -c "CREATE TABLE retail_raw (basket bigserial, line text)" \
	-c "COPY retail_raw (line) FROM '$WORK/retail.dat'" \
	-c "CREATE TABLE retail_once AS SELECT basket::int AS basket, item::int AS item
	    FROM retail_raw, unnest(string_to_array(trim(line), ' ')) item"

echo "| data | lines | min_support | itemsets | one node (s) | distributed (s) | ratio | received by coordinator | row gather | coordinator peak RSS, one node / distributed |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for scale in "${SCALES[@]}"; do
	log "retail x$scale: loading"
	psql_at "$C" -c "DROP TABLE IF EXISTS retail_local, retail_dist" \
		-c "CREATE TABLE retail_local AS SELECT basket + k * 100000 AS basket, item
		    FROM retail_once, generate_series(0, $scale - 1) k" \
		-c "CREATE TABLE retail_dist (basket int, item int)" \
		-c "SELECT create_distributed_table('retail_dist', 'basket')" >/dev/null
	psql_at "$C" -c "INSERT INTO retail_dist SELECT * FROM retail_local" -c "VACUUM ANALYZE retail_local, retail_dist"
	lines=$(psql_at "$C" -t -A -c "SELECT count(*) FROM retail_local")
	gather=$(psql_at "$C" -t -A -c "EXPLAIN (ANALYZE, VERBOSE, TIMING OFF, COSTS OFF)
		SELECT count(*) FROM (SELECT basket, item FROM retail_dist OFFSET 0) s" |
		grep -o 'Tuple data received from nodes: [0-9]* [kMG]*B' | awk '{print $6, $7}')
	for s in ${SUPPORTS:-0.01 0.001}; do
		# one node may stop at cxsell.max_memory (the whole table in one
		# backend); the distributed run is still timed
		same=$(psql_at "$C" -t -A -c "SELECT (SELECT cxsell.mine(basket, item, $s) FROM retail_local)::text
			= cxsell.mine_distributed('retail_dist', 'basket', 'item', $s)::text" 2>&1 || true)
		case $same in
		t) local_ok=1 ;;
		*max_memory*) local_ok=0; log "x$scale at $s: one node stops at cxsell.max_memory" ;;
		*) die "x$scale at $s: the distributed value differs from cxsell.mine ($same)" ;;
		esac
		sets=$(psql_at "$C" -t -A -c "SELECT itemsets FROM cxsell.summary(
			cxsell.mine_distributed('retail_dist', 'basket', 'item', $s))")
		: >"$WORK/local" ; : >"$WORK/dist"
		for i in 1 2 3; do
			log "x$scale, $s: run $i"
			[ $local_ok = 0 ] ||
				run "SELECT length(cxsell.mine(basket, item, $s)::text) FROM retail_local;" >>"$WORK/local"
			run "SELECT length(cxsell.mine_distributed('retail_dist', 'basket', 'item', $s)::text);" >>"$WORK/dist"
		done
		dt=$(awk '{print $1}' "$WORK/dist" | median)
		dk=$(awk '{print $2}' "$WORK/dist" | median)
		recv=$(awk '{print $3}' "$WORK/dist" | median)
		if [ $local_ok = 1 ]; then
			lt=$(awk '{print $1}' "$WORK/local" | median)
			lk=$(awk '{print $2}' "$WORK/local" | median)
		else
			lt=-1 lk=-1
		fi
		awk -v sc="$scale" -v n="$lines" -v s="$s" -v sets="$sets" -v lt="$lt" -v dt="$dt" \
			-v recv="$recv" -v g="$gather" -v lk="$lk" -v dk="$dk" 'BEGIN {
			one = lt < 0 ? "stops at cxsell.max_memory (1 GB)" : sprintf("%.2f", lt / 1000)
			ratio = lt < 0 ? "-" : sprintf("%.2fx", lt / dt)
			mem = lk < 0 ? "-" : sprintf("%d", lk / 1024)
			printf "| retail x%s | %d | %s | %d | %s | %.2f | %s | %.2f MB | %s | %s / %d MB |\n",
				sc, n, s, sets, one, dt / 1000, ratio, recv / 1048576, g, mem, dk / 1024 }'
	done
done
