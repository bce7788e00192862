#!/usr/bin/env bash
# retail_bench.sh -- time cxsell.mine on the FIMI "retail" data set against
# plain-SQL baselines, on a throwaway PostgreSQL 15 cluster.
#
# Usage:  test/bench/retail_bench.sh
#
# Environment:
#   CXSELL_DATA_DIR  data folder holding retail/retail.dat
#                    (default: the repository's test/data/retail/retail.dat.gz)
#   BENCH_OUT        also write the Markdown report to this file
#   BENCH_REPS       timed runs per query, after one warm-up (default 5)
#   BENCH_SUPPORTS   minimum supports (default "0.01 0.005 0.001")
#   BENCH_TIMEOUT_S  statement_timeout of one run, seconds (default 600)
#   BENCH_JIT        PostgreSQL's jit setting (default off)
#   BENCH_SERIAL     1 (default): also time cxsell, the grouping floor and the
#                    scan with max_parallel_workers_per_gather = 0;  0: skip
#   CXSELL_SO        the cxsell.so to time (default: the installed one)
#   PG_BINDIR        PostgreSQL 15 binaries (default /usr/lib/postgresql/15/bin)
#
# The extension must be installed (make && make install).  Server processes
# never run as root: as root, the cluster runs as the "postgres" user.
#
# The library is copied into the scratch folder at the start and the
# extension's C functions are pointed at that copy, so a reinstall while the
# benchmark runs does not change what is timed, and CXSELL_SO can time another
# build (e.g. before and after a change) against the installed SQL script.
# The report names the library's optimisation level (from its DWARF producer
# string) and warns about an -O0 build.
#
# Every figure is the median wall time of BENCH_REPS runs, measured inside the
# server with clock_timestamp() around an EXECUTE (bench.time_ms in
# bench_time.sql), so neither connection set-up nor client transfer counts;
# every query returns one bigint.

set -euo pipefail

T_START=$(date +%s)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
if [ -n "${CXSELL_DATA_DIR:-}" ]; then
	DATA_FILE=$CXSELL_DATA_DIR/retail/retail.dat
else
	DATA_FILE=$ROOT/test/data/retail/retail.dat.gz
fi
REPS=${BENCH_REPS:-5}
SUPPORTS=${BENCH_SUPPORTS:-0.01 0.005 0.001}
TIMEOUT_S=${BENCH_TIMEOUT_S:-600}
JIT=${BENCH_JIT:-off}
SERIAL=${BENCH_SERIAL:-1}

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { echo "retail_bench: $*" >&2; exit 1; }

[ -r "$DATA_FILE" ] || die "data file not found: $DATA_FILE (set CXSELL_DATA_DIR to the folder holding retail/retail.dat)"
[ -x "$PG_BINDIR/initdb" ] || die "no initdb in $PG_BINDIR"
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPS must be a positive integer"

# ---------------------------------------------------------------------------
# Throwaway cluster
# ---------------------------------------------------------------------------

source "$HERE/bench_cluster.sh"
bench_cluster_init cxsell_bench

# Settings for a 2-core / 24 GB machine.  Durability is irrelevant here.
bench_cluster_start retail_bench.sh <<EOF
shared_buffers = 1GB
work_mem = 256MB
maintenance_work_mem = 1GB
effective_cache_size = 16GB
max_wal_size = 4GB
fsync = off
synchronous_commit = off
full_page_writes = off
max_worker_processes = 8
max_parallel_workers = 8
max_parallel_workers_per_gather = 2
jit = $JIT
autovacuum = off
EOF
sql -f "$HERE/bench_time.sql" -f "$HERE/retail_bench.sql" >/dev/null

# ---------------------------------------------------------------------------
# Data: one basket per line (basket = 1-based line number), items separated by
# blanks, trailing blank on every line.
# ---------------------------------------------------------------------------

log "loading $DATA_FILE"
gzip -cdf "$DATA_FILE" | awk '{ for (i = 1; i <= NF; i++) printf "%d\t%s\n", NR, $i }' |
	sql -c "COPY retail (basket, item) FROM STDIN"
sql -c "VACUUM ANALYZE retail"
read -r N_ROWS N_BASKETS N_ITEMS < <(sql -F ' ' -c \
	"SELECT count(*), count(DISTINCT basket), count(DISTINCT item) FROM retail")
log "retail: $N_ROWS rows, $N_BASKETS baskets, $N_ITEMS distinct items"
if [ "$N_ROWS" != 908576 ] || [ "$N_BASKETS" != 88162 ]; then
	log "WARNING: expected 908576 rows and 88162 baskets"
fi

# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------

declare -A MED VAL ALL PLAN

# run_once QUERY SETTINGS -> prints "<ms> <value>", or "TIMEOUT"
run_once() {
	local q=$1 settings=$2 out err
	err=$WORK/psql.err
	if out=$(printf '%s\n' "SELECT bench.time_ms(:'q');" |
		PGOPTIONS="-c statement_timeout=${TIMEOUT_S}s $settings" \
			"${PSQL[@]}" -d bench -v q="$q" 2>"$err"); then
		echo "$out"
	elif grep -q "statement timeout" "$err"; then
		echo TIMEOUT
	else
		cat "$err" >&2
		die "query failed: $q"
	fi
}

# planned_workers QUERY SETTINGS -> the largest "Workers Planned" of its plan, or 0
planned_workers() {
	local q=$1 settings=$2
	PGOPTIONS="$settings" "${PSQL[@]}" -d bench -c "EXPLAIN $q" |
		sed -n 's/.*Workers Planned: \([0-9]*\).*/\1/p' | sort -n | tail -n 1 | grep . || echo 0
}

# add KEY QUERY [SETTINGS]: register a query to time.
KEYS=()
declare -A Q QSET
add() {
	KEYS+=("$1")
	Q[$1]=$2
	QSET[$1]=${3:-}
}

# timeout_hit KEY WHEN: record that KEY ran past statement_timeout.
timeout_hit() {
	MED[$1]=">$((TIMEOUT_S * 1000))"
	VAL[$1]="?"
	log "$1: $2 hit statement_timeout (${TIMEOUT_S}s); not run again"
}

# run_all: one warm-up of every query, then REPS rounds that each run every
# query once.  Interleaving the rounds spreads any outside load (or drift)
# over all queries rather than letting it fall on one query's runs.
run_all() {
	local key r ms v i
	declare -gA TIMES
	for key in "${KEYS[@]}"; do
		PLAN[$key]=$(planned_workers "${Q[$key]}" "${QSET[$key]}")
		r=$(run_once "${Q[$key]}" "${QSET[$key]}")
		if [ "$r" = TIMEOUT ]; then timeout_hit "$key" "warm-up"; continue; fi
		read -r ms v <<<"$r"
		VAL[$key]=$v
		TIMES[$key]=""
		log "$key: warm-up $ms ms -> $v (workers planned: ${PLAN[$key]})"
	done
	for ((i = 1; i <= REPS; i++)); do
		log "round $i of $REPS"
		for key in "${KEYS[@]}"; do
			[ "${VAL[$key]}" = "?" ] && continue
			r=$(run_once "${Q[$key]}" "${QSET[$key]}")
			if [ "$r" = TIMEOUT ]; then timeout_hit "$key" "round $i"; continue; fi
			read -r ms v <<<"$r"
			[ "$v" = "${VAL[$key]}" ] || die "$key returned $v, then ${VAL[$key]}"
			TIMES[$key]+="$ms "
		done
	done
	for key in "${KEYS[@]}"; do
		[ "${VAL[$key]}" = "?" ] && continue
		ALL[$key]=${TIMES[$key]% }
		MED[$key]=$(tr ' ' '\n' <<<"${ALL[$key]}" | sort -g | awk '
			{ a[NR] = $1 }
			END { if (NR % 2) printf "%.1f", a[(NR + 1) / 2];
			      else printf "%.1f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
		log "$key: median ${MED[$key]} ms of [${ALL[$key]}]"
	done
}

SERIAL_SET="-c max_parallel_workers_per_gather=0"

sql -c "CHECKPOINT"
sync
BUSY_BEFORE=$(cpu_busy)
log "timing: $REPS runs after one warm-up, statement_timeout ${TIMEOUT_S}s, jit=$JIT (CPUs $BUSY_BEFORE% busy with other work)"
busy_warning "$BUSY_BEFORE"

add scan "SELECT sum(item) FROM retail"
add floor "SELECT count(*) FROM (SELECT basket, array_agg(item) FROM retail GROUP BY basket) g"
# The planner drops an unreferenced aggregate from a subquery's output, so the
# query above may never build the arrays: this one certainly does.
add floor_arr "SELECT sum(cardinality(a)) FROM (SELECT basket, array_agg(item) AS a FROM retail GROUP BY basket) g"
# cxsell's ingest alone: with min_support 1.0 no item is frequent (no basket
# holds every item), so this is reading, combining and counting, no mining.
add cx_ingest "SELECT count(*) FROM cxsell.itemsets((SELECT cxsell.mine(basket, item, 1.0::float8) FROM retail))"
if [ "$SERIAL" = 1 ]; then
	add cx_ingest_ser "SELECT count(*) FROM cxsell.itemsets((SELECT cxsell.mine(basket, item, 1.0::float8) FROM retail))" "$SERIAL_SET"
	add scan_ser "SELECT sum(item) FROM retail" "$SERIAL_SET"
	add floor_ser "SELECT count(*) FROM (SELECT basket, array_agg(item) FROM retail GROUP BY basket) g" "$SERIAL_SET"
	add floor_arr_ser "SELECT sum(cardinality(a)) FROM (SELECT basket, array_agg(item) AS a FROM retail GROUP BY basket) g" "$SERIAL_SET"
fi

declare -A MINC NSETS NPAIRS
for s in $SUPPORTS; do
	MINC[$s]=$(sql -c "SELECT ceil($s::float8 * $N_BASKETS)::bigint")
	read -r "NSETS[$s]" "NPAIRS[$s]" < <(sql -F ' ' -c \
		"SELECT count(*), count(*) FILTER (WHERE size = 2)
		   FROM cxsell.itemsets((SELECT cxsell.mine(basket, item, $s::float8) FROM retail))")
	log "support $s: min_count ${MINC[$s]}, cxsell finds ${NSETS[$s]} itemsets (${NPAIRS[$s]} pairs)"

	add "cx_$s" "SELECT count(*) FROM cxsell.itemsets((SELECT cxsell.mine(basket, item, $s::float8) FROM retail))"
	if [ "$SERIAL" = 1 ]; then
		add "cx_ser_$s" "SELECT count(*) FROM cxsell.itemsets((SELECT cxsell.mine(basket, item, $s::float8) FROM retail))" "$SERIAL_SET"
	fi
	add "sj_$s" "SELECT count(*) FROM (SELECT a.item, b.item FROM retail a JOIN retail b ON a.basket = b.basket AND a.item < b.item GROUP BY a.item, b.item HAVING count(*) >= ${MINC[$s]}) x"
	add "sjf_$s" "WITH f AS (SELECT item FROM retail GROUP BY item HAVING count(*) >= ${MINC[$s]}), r AS (SELECT basket, item FROM retail WHERE item IN (SELECT item FROM f)) SELECT count(*) FROM (SELECT a.item, b.item FROM r a JOIN r b ON a.basket = b.basket AND a.item < b.item GROUP BY a.item, b.item HAVING count(*) >= ${MINC[$s]}) x"
done

run_all

for s in $SUPPORTS; do
	[ "${VAL[cx_$s]}" = "?" ] || [ "${VAL[cx_$s]}" = "${NSETS[$s]}" ] ||
		log "WARNING: cx_$s counts ${VAL[cx_$s]} itemsets, expected ${NSETS[$s]}"
	for k in "sj_$s" "sjf_$s"; do
		if [ "${VAL[$k]}" != "?" ] && [ "${VAL[$k]}" != "${NPAIRS[$s]}" ]; then
			log "WARNING: $k counts ${VAL[$k]} frequent pairs, cxsell ${NPAIRS[$s]}"
		fi
	done
done

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

# ratio A B -> A / B to two decimals ("-" when unknown, ">x" for a timeout in A)
ratio() {
	local a=$1 b=$2
	case "$b" in '' | '>'* | 0 | 0.0) echo "-"; return ;; esac
	case "$a" in
	'') echo "-" ;;
	'>'*) awk -v a="${a#>}" -v b="$b" 'BEGIN { printf ">%.1f", a / b }' ;;
	*) awk -v a="$a" -v b="$b" 'BEGIN { printf (a / b >= 10 ? "%.0f" : "%.2f"), a / b }' ;;
	esac
}
# fmt MS -> milliseconds with thousands kept readable
fmt() {
	case "$1" in
	'>'*) echo ">$(awk -v a="${1#>}" 'BEGIN { printf "%.0f", a / 1000 }') s" ;;
	'') echo "-" ;;
	*) echo "$1" ;;
	esac
}
ser() { [ "$SERIAL" = 1 ] && fmt "${MED[$1]:-}" || echo "-"; }

T_END=$(date +%s)
BUSY_AFTER=$(cpu_busy)
busy_warning "$BUSY_AFTER"
REPORT=$WORK/report.md
{
	echo "### cxsell on FIMI retail ($N_BASKETS baskets, $N_ROWS rows, $N_ITEMS items)"
	echo
	echo "PostgreSQL $(sql -c 'SHOW server_version' | awk '{print $1}'), $(nproc) cores," \
		"shared_buffers 1GB, work_mem 256MB, jit $JIT." \
		"Median of $REPS runs after one warm-up (runs interleaved round by round), server-side wall time in ms;" \
		"\"parallel\" = default max_parallel_workers_per_gather 2, \"serial\" = 0." \
		"Library: $LIB_SRC (sha256 $LIB_SHA..., built $LIB_OPT)."
	echo
	echo "| baseline | query | parallel ms | serial ms |"
	echo "|---|---|---:|---:|"
	echo "| plain scan | \`SELECT sum(item) FROM retail\` | $(fmt "${MED[scan]}") | $(ser scan_ser) |"
	echo "| grouping floor | \`count(*)\` over \`GROUP BY basket\` with \`array_agg(item)\` | $(fmt "${MED[floor]}") | $(ser floor_ser) |"
	echo "| grouping floor, arrays used | same, \`sum(cardinality(array_agg(item)))\` | $(fmt "${MED[floor_arr]}") | $(ser floor_arr_ser) |"
	echo "| cxsell ingest only | \`cxsell.mine(basket, item, 1.0)\`: nothing frequent, no mining | $(fmt "${MED[cx_ingest]}") | $(ser cx_ingest_ser) |"
	echo
	echo "| min support | min count | itemsets | of which pairs | cxsell ms | cxsell serial ms | self-join ms | self-join, frequent items ms | cxsell / floor (arrays) | cxsell / floor (as written) | cxsell / scan | self-join / cxsell | self-join frequent / cxsell |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for s in $SUPPORTS; do
		cx=${MED[cx_$s]}
		echo "| $s | ${MINC[$s]} | ${NSETS[$s]} | ${NPAIRS[$s]} | $(fmt "$cx") | $(ser "cx_ser_$s") |" \
			"$(fmt "${MED[sj_$s]}") | $(fmt "${MED[sjf_$s]}") |" \
			"$(ratio "$cx" "${MED[floor_arr]}") | $(ratio "$cx" "${MED[floor]}") | $(ratio "$cx" "${MED[scan]}") |" \
			"$(ratio "${MED[sj_$s]}" "$cx") | $(ratio "${MED[sjf_$s]}" "$cx") |"
	done
	echo
	echo "cxsell: \`SELECT count(*) FROM cxsell.itemsets((SELECT cxsell.mine(basket, item, s) FROM retail))\`." \
		"Self-join: pairs \`a.item < b.item\` on the same basket, \`GROUP BY\` the pair, \`HAVING count(*) >= ceil(s * baskets)\`;" \
		"the \"frequent items\" variant first restricts both sides to items with at least that count." \
		"The self-joins find only the frequent pairs (the \"of which pairs\" column), cxsell all frequent itemsets." \
		"The ratios use the parallel figures." \
		"PostgreSQL drops the unreferenced \`array_agg\` from the grouping-floor query as written (its plan outputs \`NULL::integer[]\`)," \
		"so that row only groups; the \"arrays used\" row builds the arrays and is the real floor for collecting baskets."
	echo
	echo "Whole benchmark run (cluster set-up, load, all timings): $((T_END - T_START)) s;" \
		"CPUs busy with other work: $BUSY_BEFORE% before the timings, $BUSY_AFTER% after."
} >"$REPORT"

echo
cat "$REPORT"
if [ -n "${BENCH_OUT:-}" ]; then
	cp "$REPORT" "$BENCH_OUT"
	log "report written to $BENCH_OUT"
fi
