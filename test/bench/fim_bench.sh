#!/usr/bin/env bash
# fim_bench.sh -- the mining core on the FIMI benchmark data sets (retail,
# retail x10 -- any retailN is retail N times over --, T10I4D100K, mushroom,
# chess) against the grouping floor and
# Christian Borgelt's fpgrowth and eclat programs, on a throwaway cluster.
#
# Usage:  test/bench/fim_bench.sh
#
# Environment:
#   FIM_DATA_DIR     a folder holding retail/retail.dat, t10i4d100k/T10I4D100K.dat,
#                    mushroom/mushroom.dat, chess/chess.dat (such as the FIMI
#                    files of a data collection); by default, and for a file it
#                    lacks, retail, mushroom and chess come from test/data, and
#                    T10I4D100K (not shipped) is skipped.  A data set that is
#                    absent is skipped, and the report says so.
#   BORGELT_TARBALL  Borgelt's sources (default ../shared/vendor/borgelt-fim.tar.gz);
#                    absent: the Borgelt columns are skipped, and the report says so
#   BENCH_CASES      data:support pairs (default below)
#   BENCH_LIMIT      data:support pairs that pass the output limits: timed once,
#                    with the error they stop with (default chess:0.3)
#   BENCH_REPS       timed runs per query, after one warm-up (default 5)
#   BENCH_MAX_MEMORY cxsell.max_memory for every query (default 1GB, its default)
#   BENCH_OUT        also write the Markdown report to this file
#   CXSELL_SO        the cxsell.so to time (default: the installed one)
#   PG_BINDIR        PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#
# Every figure is a median of BENCH_REPS runs; the runs are interleaved round
# by round (every query and program once per round).  SQL timings are server
# side (bench.time_ms); Borgelt's are whole processes reading the FIMI file
# and writing every itemset to /dev/null.  "aggregate" is cxsell.mine building
# the cxsell.patterns value; "read" is cxsell.itemsets() over a stored value,
# every itemset returned; "floor" is GROUP BY basket building arrays.  Peak
# memory is the backend's peak resident set (VmHWM) less the shared memory it
# has mapped (RssShmem), in a fresh connection that runs the aggregate once.

set -euo pipefail

T_START=$(date +%s)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
DATA_DIR=${FIM_DATA_DIR:-$ROOT/test/data}
BORGELT_TARBALL=${BORGELT_TARBALL:-$ROOT/../shared/vendor/borgelt-fim.tar.gz}
REPS=${BENCH_REPS:-5}
CASES=${BENCH_CASES:-retail:0.01 retail:0.001 retail:0.0005 retail10:0.001 t10i4d100k:0.001 t10i4d100k:0.0005 mushroom:0.2 mushroom:0.1 mushroom:0.05 chess:0.7 chess:0.6 chess:0.5}
LIMIT_CASES=${BENCH_LIMIT:-chess:0.3}

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { echo "fim_bench: $*" >&2; exit 1; }

[ -x "$PG_BINDIR/initdb" ] || die "no initdb in $PG_BINDIR"
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPS must be a positive integer"

source "$HERE/bench_cluster.sh"
bench_cluster_init cxsell_fim

bench_cluster_start fim_bench.sh <<EOF
shared_buffers = 1GB
work_mem = 256MB
max_wal_size = 4GB
fsync = off
synchronous_commit = off
full_page_writes = off
max_parallel_workers_per_gather = 2
jit = off
autovacuum = off
cxsell.max_memory = '${BENCH_MAX_MEMORY:-1GB}'
EOF
sql -f "$HERE/bench_time.sql" >/dev/null

# ---------------------------------------------------------------------------
# Borgelt's programs
# ---------------------------------------------------------------------------

BORGELT=""
if [ -r "$BORGELT_TARBALL" ]; then
	mkdir -p "$WORK/borgelt"
	tar -xzf "$BORGELT_TARBALL" -C "$WORK/borgelt"
	B=$WORK/borgelt/borgelt-fim
	if make -s -C "$B/fpgrowth/src" fpgrowth >"$WORK/borgelt.log" 2>&1 &&
		make -s -C "$B/eclat/src" eclat >>"$WORK/borgelt.log" 2>&1; then
		BORGELT="$B/fpgrowth/src/fpgrowth $B/eclat/src/eclat"
		log "built Borgelt's fpgrowth and eclat"
	else
		log "Borgelt's programs did not build (see below); their columns are skipped"
		tail -n 5 "$WORK/borgelt.log" >&2
	fi
else
	log "no $BORGELT_TARBALL: Borgelt's columns are skipped"
fi

# ---------------------------------------------------------------------------
# Data: FIMI files, one basket per line
# ---------------------------------------------------------------------------

declare -A FILE
data_file() {
	case "$1" in
	retail | mushroom | chess)
		if [ -r "$DATA_DIR/$1/$1.dat" ]; then echo "$DATA_DIR/$1/$1.dat"
		else echo "$ROOT/test/data/$1/$1.dat.gz"; fi ;;
	t10i4d100k) echo "$DATA_DIR/t10i4d100k/T10I4D100K.dat" ;;
	esac
}
SKIPPED=""
load() {
	local name=$1 src copies i
	[ -n "${FILE[$name]:-}" ] && return 0
	if [[ "$name" =~ ^retail([0-9]+)$ ]]; then
		# retail N times over, each copy's baskets numbered after the last
		copies=${BASH_REMATCH[1]}
		load retail || return 1
		for ((i = 0; i < copies; i++)); do cat "${FILE[retail]}"; done >"$WORK/$name.dat"
	else
		src=$(data_file "$name")
		if [ ! -r "$src" ]; then
			log "no data file for $name ($src): skipped"
			SKIPPED+=" $name"
			return 1
		fi
		gzip -cdf "$src" >"$WORK/$name.dat"
	fi
	FILE[$name]=$WORK/$name.dat
	sql -c "CREATE TABLE $name (basket int NOT NULL, item int NOT NULL)"
	awk '{ for (i = 1; i <= NF; i++) printf "%d\t%s\n", NR, $i }' "${FILE[$name]}" |
		sql -c "COPY $name FROM STDIN"
	sql -c "VACUUM ANALYZE $name"
	log "$name: $(sql -c "SELECT count(*) || ' rows, ' || count(DISTINCT basket) || ' baskets' FROM $name")"
}

# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------

SERIAL="-c max_parallel_workers_per_gather=0"
time_sql() {
	printf '%s\n' "SELECT bench.time_ms(:'q');" |
		PGOPTIONS="$2" "${PSQL[@]}" -d bench -v q="$1"
}
time_prog() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'
}
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ a[NR] = $1 } END {
	if (NR % 2) printf "%.1f", a[(NR + 1) / 2]; else printf "%.1f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

declare -A Q QS T NSETS
KEYS=()
add() { KEYS+=("$1"); Q[$1]=$2; QS[$1]=${3:-}; T[$1]=""; }
RUNCASES=()
for c in $CASES; do
	d=${c%%:*}; s=${c#*:}
	load "$d" || continue
	RUNCASES+=("$c")
	k=$(tr -c 'a-z0-9\n' _ <<<"$c")
	sql -c "CREATE TABLE p_$k AS SELECT cxsell.mine(basket, item, $s::float8) AS p FROM $d"
	NSETS[$c]=$(sql -c "SELECT count(*) FROM p_$k, cxsell.itemsets(p_$k.p)")
	log "$c: ${NSETS[$c]} itemsets"
	[ -n "${Q[floor_$d]:-}" ] ||
		add "floor_$d" "SELECT sum(cardinality(a)) FROM (SELECT basket, array_agg(item) AS a FROM $d GROUP BY basket) g" "$SERIAL"
	add "agg_$k" "SELECT pg_column_size(cxsell.mine(basket, item, $s::float8)) FROM $d" "$SERIAL"
	add "par_$k" "SELECT pg_column_size(cxsell.mine(basket, item, $s::float8)) FROM $d" ""
	add "read_$k" "SELECT count(*) FROM p_$k, cxsell.itemsets(p_$k.p)" "$SERIAL"
	for prog in $BORGELT; do
		pct=$(awk -v s="$s" 'BEGIN { printf "%g", s * 100 }')
		KEYS+=("$(basename "$prog")_$k"); T[$(basename "$prog")_$k]=""
		Q[$(basename "$prog")_$k]="PROG $prog -s$pct ${FILE[$d]} /dev/null"
	done
done
[ ${#RUNCASES[@]} -gt 0 ] || die "no data set found under $DATA_DIR"

sql -c "CHECKPOINT"
BUSY_BEFORE=$(cpu_busy)
busy_warning "$BUSY_BEFORE"
for ((r = 0; r <= REPS; r++)); do
	log "round $r of $REPS${r:+}$([ $r = 0 ] && echo ' (warm-up)')"
	for key in "${KEYS[@]}"; do
		if [[ "${Q[$key]}" == PROG* ]]; then
			# shellcheck disable=SC2086
			ms=$(time_prog ${Q[$key]#PROG })
		else
			read -r ms _ <<<"$(time_sql "${Q[$key]}" "${QS[$key]}")"
		fi
		[ "$r" = 0 ] || T[$key]+="$ms "
	done
done
declare -A MED
for key in "${KEYS[@]}"; do MED[$key]=$(median "${T[$key]}"); done

# peak private memory of a backend running the aggregate once
peak_mb() {
	printf '%s\n' "SET max_parallel_workers_per_gather = 0;" \
		"SELECT pg_column_size(cxsell.mine(basket, item, $2::float8)) FROM $1 \\g /dev/null" \
		"SELECT pg_read_file('/proc/self/status');" | "${PSQL[@]}" -d bench |
		awk '/VmHWM/ { h = $2 } /RssShmem/ { s = $2 } END { printf "%.0f", (h - s) / 1024 }'
}
declare -A PEAK
for c in "${RUNCASES[@]}"; do PEAK[$c]=$(peak_mb "${c%%:*}" "${c#*:}"); done

# the cases that pass a limit: once each, with their error
LIMITS=""
for c in $LIMIT_CASES; do
	d=${c%%:*}; s=${c#*:}
	load "$d" || continue
	t0=$(date +%s%N)
	err=$(sql -c "SELECT pg_column_size(cxsell.mine(basket, item, $s::float8)) FROM $d" 2>&1 >/dev/null || true)
	t1=$(date +%s%N)
	ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) / 1e6 }')
	LIMITS+="- $d at $s: stops after $ms ms (cxsell.max_memory $(sql -c "LOAD '$WORK/cxsell.so'; SHOW cxsell.max_memory")): \`$(grep -E '^(ERROR|DETAIL)' <<<"$err" | sed -E 's/^(ERROR|DETAIL): *//' | paste -sd '|' | sed 's/|/: /')\`"$'\n'
	for prog in $BORGELT; do
		pct=$(awk -v s="$s" 'BEGIN { printf "%g", s * 100 }')
		LIMITS+="  $(basename "$prog") -s$pct writing every itemset to /dev/null: $(time_prog "$prog" "-s$pct" "${FILE[$d]}" /dev/null) ms"$'\n'
	done
done

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

ratio() { case "$2" in '' | 0 | 0.0) echo "-" ;; *) awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' ;; esac; }
BUSY_AFTER=$(cpu_busy)
REPORT=$WORK/report.md
{
	echo "### The mining core on the FIMI data sets"
	echo
	echo "PostgreSQL $(sql -c 'SHOW server_version' | awk '{print $1}'), $(nproc) cores, shared_buffers 1GB, work_mem 256MB, jit off." \
		"Medians of $REPS interleaved runs after one warm-up, ms. Library $LIB_SRC (sha256 $LIB_SHA..., built $LIB_OPT)."
	echo
	echo "| data | support | itemsets | floor | aggregate | parallel | read | fpgrowth | eclat | aggregate / best Borgelt | read / aggregate | aggregate / floor | peak MB |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for c in "${RUNCASES[@]}"; do
		d=${c%%:*}; s=${c#*:}; k=$(tr -c 'a-z0-9\n' _ <<<"$c")
		fp=${MED[fpgrowth_$k]:-}; ec=${MED[eclat_$k]:-}
		best=$(awk -v a="${fp:-0}" -v b="${ec:-0}" 'BEGIN { m = a; if (b > 0 && (m == 0 || b < m)) m = b; if (m > 0) printf "%.1f", m }')
		echo "| $d | $s | ${NSETS[$c]} | ${MED[floor_$d]} | ${MED[agg_$k]} | ${MED[par_$k]} | ${MED[read_$k]} | ${fp:--} | ${ec:--} |" \
			"$(ratio "${MED[agg_$k]}" "$best") | $(ratio "${MED[read_$k]}" "${MED[agg_$k]}") | $(ratio "${MED[agg_$k]}" "${MED[floor_$d]}") | ${PEAK[$c]} |"
	done
	echo
	echo "floor: \`SELECT sum(cardinality(a)) FROM (SELECT basket, array_agg(item) AS a FROM t GROUP BY basket) g\`, serial." \
		"aggregate: \`SELECT pg_column_size(cxsell.mine(basket, item, s)) FROM t\`, serial; parallel: the same with the default plan (2 workers)." \
		"read: \`SELECT count(*) FROM stored, cxsell.itemsets(stored.p)\`." \
		"Borgelt's programs never report a single item that is in every basket (mushroom's item 85): one itemset fewer there."
	[ -n "$LIMITS" ] && { echo; echo "Past the output limits:"; echo; printf '%s' "$LIMITS"; }
	[ -n "$SKIPPED" ] && { echo; echo "Skipped (no data file):$SKIPPED."; }
	[ -z "$BORGELT" ] && { echo; echo "Borgelt's programs: skipped (no $BORGELT_TARBALL, or they did not build)."; }
	echo
	echo "Whole run $(($(date +%s) - T_START)) s; CPUs busy with other work: $BUSY_BEFORE% before, $BUSY_AFTER% after."
} >"$REPORT"
echo
cat "$REPORT"
[ -n "${BENCH_OUT:-}" ] && cp "$REPORT" "$BENCH_OUT" && log "report written to $BENCH_OUT"
exit 0
