#!/usr/bin/env bash
# kmeans_bench.sh -- time cxsell.kmeans against scikit-learn's KMeans on a
# seeded Gaussian mixture (1,000,000 customers x 8 features, 8 clusters), and
# compare their peak memory and inertia, on a throwaway PostgreSQL 15 cluster.
#
# Usage:  test/bench/kmeans_bench.sh
#
# Environment:
#   BENCH_OUT        also write the Markdown report to this file
#   BENCH_N          number of points (default 1000000)
#   BENCH_D          features per point (default 8)
#   BENCH_REPS       timed runs of each side (default 3; the median is shown)
#   BENCH_TIMEOUT_S  statement_timeout of one cxsell run, seconds (default 1800)
#   BENCH_SK_SERIAL  1 (default): also time scikit-learn limited to one
#                    thread, like cxsell's single-threaded fit;  0: skip
#   BENCH_OPENBLAS_DIR  a folder holding OpenBLAS's libblas.so.3 and
#                    liblapack.so.3: scikit-learn is also timed with them
#                    (LD_LIBRARY_PATH) besides the machine's default BLAS.
#                    Default: /usr/lib/x86_64-linux-gnu/openblas-pthread when
#                    Debian's libopenblas0-pthread is installed; "none": skip.
#                    Debian's numpy and scipy link libblas.so.3, which is the
#                    slow reference BLAS unless an optimised one is installed;
#                    scikit-learn's k-means (distances by GEMM) depends on it,
#                    and pip's wheels bundle OpenBLAS.  To get one without
#                    changing the machine's BLAS:
#                      apt-get download libopenblas0-pthread
#                      dpkg -x libopenblas0-pthread_*.deb /tmp/ob
#                      BENCH_OPENBLAS_DIR=/tmp/ob/usr/lib/x86_64-linux-gnu/openblas-pthread
#   CXSELL_SO        the cxsell.so to time (default: the installed one)
#   PG_BINDIR        PostgreSQL 15 binaries (default /usr/lib/postgresql/15/bin)
#   PYTHON           Python with scikit-learn (default /usr/bin/python3, with
#                    Debian's python3-sklearn)
#
# The extension must be installed (make && make install).  Server processes
# never run as root: as root, the cluster runs as the "postgres" user.  As in
# retail_bench.sh, the library is copied into the scratch folder and the
# extension's C functions are pointed at the copy.
#
# What is measured, in one run on one machine:
#   cxsell   SELECT cxsell.kmeans(f, 8) FROM t  (default options: 10 restarts,
#            k-means++, max_iter 300, tol 1e-4, no standardisation), serially
#            (max_parallel_workers_per_gather = 0: the fit itself runs in one
#            process whatever the plan), in a fresh connection per run.  The
#            time is the server-side wall time of the statement (clock_timestamp
#            around it), so it includes reading the 1M rows and building the
#            aggregate state.  Memory is the backend's VmHWM (peak resident set)
#            from /proc/self/status, read by the backend itself with
#            pg_read_file before and after the statement.  The server is
#            restarted after the load and shared_buffers is 128MB, so the table
#            is not resident in shared buffers and a sequential scan of it
#            goes through a small ring of buffers: shared memory adds little
#            to the backend's RSS (RssShmem is reported too).
#   sklearn  KMeans(n_clusters=8, init='k-means++', n_init=10, random_state=0)
#            .fit(X) on the same points, exported from the table with COPY and
#            loaded as a float64 array (.npy) before the clock starts: only the
#            fit is timed.  Memory is the process's peak RSS (ru_maxrss); the
#            rise over its RSS after the imports, before loading X ("points +
#            fit", comparable with cxsell's VmHWM rise, which includes its own
#            copies of the points) and over its RSS just before the fit ("fit
#            alone") are shown too.  By default scikit-learn uses
#            every core (OpenMP); "1 thread" limits it with threadpoolctl.
#            OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for the Python
#            command only, so that numpy uses its best kernels.

set -euo pipefail

T_START=$(date +%s)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
PYTHON=${PYTHON:-/usr/bin/python3}
N=${BENCH_N:-1000000}
REPS=${BENCH_REPS:-3}
TIMEOUT_S=${BENCH_TIMEOUT_S:-1800}
SK_SERIAL=${BENCH_SK_SERIAL:-1}
OPENBLAS_DIR=${BENCH_OPENBLAS_DIR:-/usr/lib/x86_64-linux-gnu/openblas-pthread}
[ "$OPENBLAS_DIR" != none ] && [ ! -r "$OPENBLAS_DIR/libblas.so.3" ] && {
	[ -n "${BENCH_OPENBLAS_DIR:-}" ] && die "no libblas.so.3 in BENCH_OPENBLAS_DIR=$OPENBLAS_DIR"
	OPENBLAS_DIR=none
}
K=8
D=${BENCH_D:-8}

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { echo "kmeans_bench: $*" >&2; exit 1; }

[ -x "$PG_BINDIR/initdb" ] || die "no initdb in $PG_BINDIR"
[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a positive integer"
[[ "$D" =~ ^[1-9][0-9]*$ ]] || die "BENCH_D must be a positive integer"
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPS must be a positive integer"
"$PYTHON" -c 'import sklearn, threadpoolctl' 2>/dev/null ||
	die "$PYTHON cannot import sklearn and threadpoolctl (apt-get install python3-sklearn)"

# ---------------------------------------------------------------------------
# Throwaway cluster
# ---------------------------------------------------------------------------

source "$HERE/bench_cluster.sh"
bench_cluster_init cxsell_kbench

bench_cluster_start kmeans_bench.sh <<EOF
shared_buffers = 128MB
work_mem = 64MB
maintenance_work_mem = 1GB
max_wal_size = 4GB
fsync = off
synchronous_commit = off
full_page_writes = off
max_parallel_workers_per_gather = 0
jit = off
autovacuum = off
EOF

# ---------------------------------------------------------------------------
# Data: a seeded mixture of 8 Gaussian clusters in 8 dimensions.  Centres are
# uniform in [-10, 10]^8, spreads (sd per dimension) 0.75 to 2.5, cluster
# weights 25%, 20%, 15%, 12%, 10%, 8%, 6%, 4%.  setseed makes random()
# reproducible on a given PostgreSQL version and plan.
# ---------------------------------------------------------------------------

log "generating $N points x $D features ($K clusters)"
sql <<EOF
SELECT setseed(0.20240917);
CREATE TABLE ctr AS
  SELECT c, array_agg(random() * 20 - 10 ORDER BY j) AS mu, 0.5 + 0.25 * c AS sd
  FROM (SELECT c, j FROM generate_series(1, $K) c, generate_series(1, $D) j ORDER BY c, j) g
  GROUP BY c;
CREATE TABLE t (id int, label int, f float8[]);
INSERT INTO t
  SELECT i, c, ARRAY(SELECT mu[j] + sd * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())
                     FROM generate_series(1, $D) j ORDER BY j)
  FROM (SELECT i, 1 + width_bucket(random(),
                 ARRAY[0.25, 0.45, 0.60, 0.72, 0.82, 0.90, 0.96]::float8[]) AS c
        FROM generate_series(1, $N) i) s
  JOIN ctr USING (c)
  ORDER BY i;
VACUUM ANALYZE t;
CHECKPOINT;
EOF
read -r N_ROWS N_DIM TABLE_SIZE < <(sql -F ' ' -c \
	"SELECT count(*), min(cardinality(f)), replace(pg_size_pretty(pg_table_size('t')), ' ', '') FROM t")
LABELS=$(sql -c "SELECT string_agg(n::text, ',' ORDER BY label) FROM (SELECT label, count(*) n FROM t GROUP BY label) g")
[ "$N_ROWS" = "$N" ] && [ "$N_DIM" = "$D" ] || die "generated $N_ROWS rows of $N_DIM features"
log "table t: $N_ROWS rows, $TABLE_SIZE; cluster sizes $LABELS"

log "exporting the points for scikit-learn"
sql -c "COPY (SELECT array_to_string(f, ',') FROM t ORDER BY id) TO STDOUT" >"$WORK/points.csv"

# ---------------------------------------------------------------------------
# scikit-learn side
# ---------------------------------------------------------------------------

cat >"$WORK/sk_prep.py" <<'PY'
import sys
import numpy as np
X = np.loadtxt(sys.argv[1], delimiter=",", dtype=np.float64, ndmin=2)
np.save(sys.argv[2], np.ascontiguousarray(X))
print(X.shape[0], X.shape[1])
PY

cat >"$WORK/sk_fit.py" <<'PY'
import os
import resource
import sys
import time

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_info, threadpool_limits


def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return -1


rss_base = status("VmRSS")  # interpreter and libraries, no data yet
X = np.load(sys.argv[1])
threads = int(sys.argv[2])  # 0: all cores
k = int(sys.argv[3])
km = KMeans(n_clusters=k, init="k-means++", n_init=10, random_state=0)
rss_before = status("VmRSS")
if threads > 0:
    with threadpool_limits(limits=threads):
        t0 = time.perf_counter()
        km.fit(X)
        t1 = time.perf_counter()
else:
    t0 = time.perf_counter()
    km.fit(X)
    t1 = time.perf_counter()
maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
pools = [p for p in threadpool_info()]
if not any(p.get("user_api") == "blas" for p in pools):
    # threadpoolctl does not recognise the reference BLAS: name the library
    blas = "?"
    with open("/proc/self/maps") as f:
        for line in f:
            if "libblas" in line:
                blas = os.path.realpath(line.split()[-1])
                break
    pools = ["BLAS %s (not a threaded BLAS threadpoolctl knows: reference BLAS?)" % blas] + \
        ["%s (%s) %d threads" % (p.get("internal_api"),
         p.get("filepath", "").rsplit("/", 1)[-1], p.get("num_threads")) for p in pools]
else:
    pools = ["%s (%s%s) %d threads" % (" ".join(filter(None, (p.get("internal_api"), p.get("version")))),
             p.get("filepath", "").rsplit("/", 1)[-1],
             ", kernel %s" % p["architecture"] if p.get("architecture") else "",
             p.get("num_threads")) for p in pools]
pools = "; ".join(pools)
print("ms=%.1f inertia=%r iter=%d maxrss_kb=%d rss_before_kb=%d rss_base_kb=%d" %
      ((t1 - t0) * 1000, float(km.inertia_), km.n_iter_, maxrss, rss_before, rss_base))
print("info=sklearn %s, numpy %s; %s" % (sklearn.__version__, np.__version__, pools))
PY

# the Python command alone runs without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE
py() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PYTHON" "$@"; }

read -r PY_N PY_D < <(py "$WORK/sk_prep.py" "$WORK/points.csv" "$WORK/points.npy")
[ "$PY_N" = "$N" ] && [ "$PY_D" = "$D" ] || die "Python read $PY_N x $PY_D points"
rm -f "$WORK/points.csv"

# median of the arguments
median() {
	printf '%s\n' "$@" | sort -g | awk '
		{ a[NR] = $1 }
		END { if (NR % 2) printf "%.1f", a[(NR + 1) / 2];
		      else printf "%.1f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# field NAME LINE -> the value of NAME=value in LINE
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

declare -A SK_MS SK_INERTIA SK_ITER SK_MAXRSS SK_BEFORE SK_BASE SK_INFO SK_LABEL
SK_KEYS=()
# sk_measure KEY LABEL THREADS (0: all) [LD_LIBRARY_PATH]
sk_measure() {
	local key=$1 threads=$3 libs=${4:-} i out ms=() rss=() before=() base=()
	SK_KEYS+=("$key")
	SK_LABEL[$key]=$2
	for ((i = 0; i < REPS; i++)); do
		if [ -n "$libs" ]; then
			out=$(LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
				py "$WORK/sk_fit.py" "$WORK/points.npy" "$threads" "$K")
		else
			out=$(py "$WORK/sk_fit.py" "$WORK/points.npy" "$threads" "$K")
		fi
		local l1
		l1=$(head -n 1 <<<"$out")
		SK_INFO[$key]=$(sed -n 's/^info=//p' <<<"$out")
		ms+=("$(field ms "$l1")")
		rss+=("$(field maxrss_kb "$l1")")
		before+=("$(field rss_before_kb "$l1")")
		base+=("$(field rss_base_kb "$l1")")
		SK_INERTIA[$key]=$(field inertia "$l1")
		SK_ITER[$key]=$(field iter "$l1")
		log "sklearn ($key): $l1"
	done
	SK_MS[$key]=$(median "${ms[@]}")
	SK_MAXRSS[$key]=$(median "${rss[@]}")
	SK_BEFORE[$key]=$(median "${before[@]}")
	SK_BASE[$key]=$(median "${base[@]}")
}

# ---------------------------------------------------------------------------
# cxsell side
# ---------------------------------------------------------------------------

# One run in a fresh connection: prints
#   "<ms> <VmHWM before kB> <VmHWM after kB> <RssShmem after kB> <inertia> <iterations> <converged>"
cx_run() {
	local q=$1
	PGOPTIONS="-c statement_timeout=${TIMEOUT_S}s" "${PSQL[@]}" -d bench -F ' ' <<EOF
CREATE TEMP TABLE st (hwm0 bigint, t0 timestamptz);
INSERT INTO st SELECT substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s*(\d+)')::bigint, clock_timestamp();
CREATE TEMP TABLE model AS $q;
SELECT round(extract(epoch FROM clock_timestamp() - st.t0)::numeric * 1000, 1),
       st.hwm0,
       substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s*(\d+)'),
       substring(pg_read_file('/proc/self/status') FROM 'RssShmem:\s*(\d+)'),
       s.inertia, s.iterations, s.converged
FROM st, model, cxsell.summary(model.m) s;
EOF
}

declare -A CX_MS CX_HWM CX_BEFORE CX_SHM CX_INERTIA CX_ITER CX_CONV
cx_measure() {
	local key=$1 q=$2 i out ms=() hwm=() before=() shm=() a b c d e f g
	for ((i = 0; i < REPS; i++)); do
		out=$(cx_run "$q") || die "cxsell run failed: $q"
		read -r a b c d e f g <<<"$out"
		ms+=("$a"); before+=("$b"); hwm+=("$c"); shm+=("$d")
		CX_INERTIA[$key]=$e; CX_ITER[$key]=$f; CX_CONV[$key]=$g
		log "cxsell ($key): ${a} ms, VmHWM ${b} -> ${c} kB (RssShmem $d kB), inertia $e, iterations $f, converged $g"
	done
	CX_MS[$key]=$(median "${ms[@]}")
	CX_HWM[$key]=$(median "${hwm[@]}")
	CX_BEFORE[$key]=$(median "${before[@]}")
	CX_SHM[$key]=$(median "${shm[@]}")
}


# Restart the server so that no page of t stays in shared buffers from the
# load: a backend's RSS counts every shared buffer it touches, and a table
# already resident would add up to its whole size to the VmHWM measured.  From
# now on a sequential scan of t goes through a small ring of buffers.
as_server "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/server.log" -w restart >/dev/null ||
	{ cat "$WORK/server.log" >&2; die "server did not restart"; }

sync
BUSY_BEFORE=$(cpu_busy)
log "timing: $REPS run(s) each (CPUs $BUSY_BEFORE% busy with other work)"
busy_warning "$BUSY_BEFORE"

# warm the table into the OS cache, then time
sql -c "SELECT count(*) FROM t" >/dev/null
SCAN_MS=$(sql <<'EOF'
SELECT clock_timestamp() AS t0 \gset
SELECT sum(cardinality(f)) FROM t \g /dev/null
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric * 1000, 1);
EOF
)
log "scan with the arrays: $SCAN_MS ms"

cx_measure main "SELECT cxsell.kmeans(f, $K) AS m FROM t"
# the fixed costs: reading, collecting, sorting, one seeding and one iteration
cx_measure floor "SELECT cxsell.kmeans(f, $K, '{\"restarts\": 1, \"max_iter\": 1}') AS m FROM t"

NCPU=$(nproc)
sk_measure all "default BLAS, $NCPU threads" 0
[ "$SK_SERIAL" = 1 ] && sk_measure one "default BLAS, 1 thread" 1
if [ "$OPENBLAS_DIR" != none ]; then
	sk_measure oball "OpenBLAS, $NCPU threads" 0 "$OPENBLAS_DIR"
	[ "$SK_SERIAL" = 1 ] && sk_measure obone "OpenBLAS, 1 thread" 1 "$OPENBLAS_DIR"
fi

BUSY_AFTER=$(cpu_busy)
busy_warning "$BUSY_AFTER"
T_END=$(date +%s)

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
sec() { awk -v m="$1" 'BEGIN { printf "%.2f", m / 1000 }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
rel() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%+.2e", a / b - 1 }'; }

minus() { awk -v a="$1" -v b="$2" 'BEGIN { print a - b }'; }
# memory beyond the baseline: cxsell = VmHWM after - VmHWM before the
# statement; scikit-learn = ru_maxrss - RSS after the imports, before np.load
# (so both include their copy of the points)
CX_RISE=$(minus "${CX_HWM[main]}" "${CX_BEFORE[main]}")
CX_FLOOR_RISE=$(minus "${CX_HWM[floor]}" "${CX_BEFORE[floor]}")
CX_NET=$(minus "${CX_MS[main]}" "${CX_MS[floor]}")
declare -A SK_RISE SK_FIT
for key in "${SK_KEYS[@]}"; do
	SK_RISE[$key]=$(minus "${SK_MAXRSS[$key]}" "${SK_BASE[$key]}")
	SK_FIT[$key]=$(minus "${SK_MAXRSS[$key]}" "${SK_BEFORE[$key]}")
done
# ratio_row LABEL CXVALUE FUNCTION SKARRAY -> one row of the ratio table
ratio_row() {
	local label=$1 cx=$2 fn=$3 arr=$4 key row
	local -n ref=$arr
	row="| $label |"
	for key in "${SK_KEYS[@]}"; do
		row+=" $($fn "$cx" "${ref[$key]}") |"
	done
	echo "$row"
}
REPORT=$WORK/report.md
{
	echo "### cxsell.kmeans vs scikit-learn KMeans: $N points x $D features, k = $K"
	echo
	echo "Seeded Gaussian mixture of $K clusters (sizes $LABELS; table $TABLE_SIZE)." \
		"PostgreSQL $(sql -c 'SHOW server_version' | awk '{print $1}'), $NCPU cores," \
		"$(free -g | awk '/^Mem:/ { print $2 }') GiB, shared_buffers 128MB, jit off, serial plan." \
		"Library: $LIB_SRC (sha256 $LIB_SHA..., built $LIB_OPT)." \
		"Median of $REPS run(s) each; CPUs $BUSY_BEFORE% / $BUSY_AFTER% busy with other work before / after."
	echo
	echo "| | time s | peak RSS MB | points + fit MB | fit alone MB | inertia | iterations (best run) |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	echo "| cxsell \`SELECT cxsell.kmeans(f, $K) FROM t\` (1 process) | $(sec "${CX_MS[main]}") |" \
		"$(mb "${CX_HWM[main]}") | $(mb "$CX_RISE") | - | ${CX_INERTIA[main]} | ${CX_ITER[main]} |"
	for key in "${SK_KEYS[@]}"; do
		echo "| scikit-learn, ${SK_LABEL[$key]} |" \
			"$(sec "${SK_MS[$key]}") | $(mb "${SK_MAXRSS[$key]}") | $(mb "${SK_RISE[$key]}") | $(mb "${SK_FIT[$key]}") |" \
			"${SK_INERTIA[$key]} | ${SK_ITER[$key]} |"
	done
	echo "| cxsell fixed costs: \`{\"restarts\": 1, \"max_iter\": 1}\` | $(sec "${CX_MS[floor]}") |" \
		"$(mb "${CX_HWM[floor]}") | $(mb "$CX_FLOOR_RISE") | - | ${CX_INERTIA[floor]} | ${CX_ITER[floor]} |"
	echo "| plain scan \`SELECT sum(cardinality(f)) FROM t\` | $(sec "$SCAN_MS") | - | - | - | - | - |"
	echo
	head="| cxsell vs scikit-learn with |"
	rule="|---|"
	for key in "${SK_KEYS[@]}"; do
		head+=" ${SK_LABEL[$key]} |"
		rule+="---:|"
	done
	echo "$head"
	echo "$rule"
	ratio_row "time ratio" "${CX_MS[main]}" div SK_MS
	ratio_row "time ratio, cxsell less its fixed costs" "$CX_NET" div SK_MS
	ratio_row "peak RSS ratio" "${CX_HWM[main]}" div SK_MAXRSS
	ratio_row "memory ratio, points + fit" "$CX_RISE" div SK_RISE
	ratio_row "inertia, cxsell / scikit-learn - 1" "${CX_INERTIA[main]}" rel SK_INERTIA
	echo
	echo "cxsell's time is the whole statement measured in the server: reading $N rows, collecting the" \
		"arrays, sorting the points into a canonical order, then 10 restarts of k-means++ seeding and Lloyd" \
		"iterations, single-threaded; the fixed-costs row is the same statement with one restart of one iteration." \
		"scikit-learn's time is \`KMeans(n_clusters=$K, n_init=10, init='k-means++', random_state=0).fit(X)\` alone," \
		"on a float64 array already in memory." \
		"Peak RSS: the backend's VmHWM after the statement vs the Python process's ru_maxrss (interpreter and" \
		"libraries: $(mb "${SK_BASE[all]}") MB; with X loaded: $(mb "${SK_BEFORE[all]}") MB)." \
		"\"Points + fit\": cxsell's VmHWM rise during the statement (from $(mb "${CX_BEFORE[main]}") MB; RssShmem after" \
		"the statement $(mb "${CX_SHM[main]}") MB) vs scikit-learn's peak over its RSS before loading X;" \
		"\"fit alone\": scikit-learn's peak over its RSS just before the fit."
	echo
	for key in "${SK_KEYS[@]}"; do
		echo "- scikit-learn, ${SK_LABEL[$key]}: ${SK_INFO[$key]}"
	done
	[ "$OPENBLAS_DIR" = none ] &&
		echo "- No OpenBLAS given (BENCH_OPENBLAS_DIR): scikit-learn ran on the machine's default BLAS only."
	echo
	echo "Whole benchmark run (cluster set-up, data, all timings): $((T_END - T_START)) s."
} >"$REPORT"

echo
cat "$REPORT"
if [ -n "${BENCH_OUT:-}" ]; then
	cp "$REPORT" "$BENCH_OUT"
	log "report written to $BENCH_OUT"
fi
