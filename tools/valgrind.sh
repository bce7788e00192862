#!/usr/bin/env bash
# Run cxsell's pg_regress suite against a PostgreSQL server that runs under
# valgrind memcheck, then summarise the valgrind logs: error totals, the
# PostgreSQL-internal reports by kind, and in full every report whose stack
# (or origin stack) involves cxsell code (cxsell.so, src/*.c, src/*.h).
#
#   tools/valgrind.sh                 # every test but random_oracle, then
#                                     # random_oracle alone, time-limited
#   VG_TESTS="mine rules" tools/valgrind.sh   # only these tests
#   VG_ORACLE=0 tools/valgrind.sh     # skip the separate random_oracle run
#   VG_ORACLE_TIMEOUT=1200            # seconds allowed to random_oracle
#   VG_LEAK_CHECK=full                # valgrind --leak-check (default: no)
#   VG_OUT=/some/dir                  # where logs and summary go
#                                     # (default: a new /tmp/cxsell-vg.XXXXXX)
#   KEEP=1                            # keep the cluster's data directory too
#
# The extension is rebuilt -O0 -g and installed; run "make clean && make &&
# make install" afterwards to get the optimised build back.  The Debian
# server is not built with USE_VALGRIND: palloc chunks inside a context block
# are not tracked one by one, but accesses outside malloc'd blocks (large
# chunks get their own), uses of uninitialised values and misuse of the heap
# or of system calls are reported.
#
# Exits 0 when every pg_regress run passed and no valgrind report involves
# cxsell, 1 otherwise.
source "$(dirname "$0")/common.sh"

PG_CONFIG=${PG_CONFIG:-$DEBIAN_PG_CONFIG}
PG_BINDIR=$("$PG_CONFIG" --bindir)
install_packages postgresql-server-dev-15 make gcc valgrind python3

# the Makefile's order (sql/setup.sql, which the other tests rely on, first)
ALL_TESTS=$(make -s -C "$ROOT" regress-list 2>/dev/null ||
	(cd "$ROOT/sql" && ls *.sql | sed 's/\.sql$//'))
ALL_TESTS=$(tr ' ' '\n' <<<"$ALL_TESTS" | grep -v -x -e random_oracle -e '' | tr '\n' ' ')
VG_TESTS=${VG_TESTS:-$ALL_TESTS}
SETUP=
if [ -f "$ROOT/sql/setup.sql" ]; then
	SETUP=setup
	grep -qw setup <<<"$VG_TESTS" || VG_TESTS="setup $VG_TESTS"
fi
VG_ORACLE=${VG_ORACLE:-1}
VG_ORACLE_TIMEOUT=${VG_ORACLE_TIMEOUT:-1200}
VG_LEAK_CHECK=${VG_LEAK_CHECK:-no}
PORT=${VG_PORT:-54329}
PGXS_DIR=$(dirname "$("$PG_CONFIG" --pgxs)")/..
PG_REGRESS="$PGXS_DIR/test/regress/pg_regress"

echo "== building cxsell -O0 -g"
make -C "$ROOT" -s clean >/dev/null
make -C "$ROOT" -s PG_CONFIG="$PG_CONFIG" PG_CFLAGS='-Wall -Wextra -O0 -g'
as_root make -C "$ROOT" -s PG_CONFIG="$PG_CONFIG" install >/dev/null

if [ -n "${VG_OUT:-}" ]; then
	mkdir -p "$VG_OUT"
	chmod 755 "$VG_OUT"
	[ "$(id -u)" = 0 ] && chown "$TEST_USER" "$VG_OUT"
	WORK=$VG_OUT
else
	WORK=$(mktemp -d /tmp/cxsell-vg.XXXXXX)
	chmod 755 "$WORK"
	[ "$(id -u)" = 0 ] && chown "$TEST_USER" "$WORK"
fi
LOGS=$WORK/vg
DATA=$WORK/data
as_test_user mkdir -p "$LOGS"
cp -r "$ROOT/sql" "$ROOT/expected" "$WORK/"
[ "$(id -u)" = 0 ] && chown -R "$TEST_USER" "$WORK/sql" "$WORK/expected"

# a valgrind.supp from a PostgreSQL source tree, when there is one; else ours
SUPP=${VG_SUPP:-}
if [ -z "$SUPP" ]; then
	for f in /usr/share/postgresql/15/valgrind.supp /usr/src/postgresql*/src/tools/valgrind.supp \
		"$ROOT/tools/valgrind.supp"; do
		[ -f "$f" ] && { SUPP=$f; break; }
	done
fi
cp "$SUPP" "$WORK/valgrind.supp"
chmod 644 "$WORK/valgrind.supp"
echo "== suppressions: $SUPP"

server_pid=
stop_server() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		echo "== stopping the server"
		as_test_user "$PG_BINDIR/pg_ctl" stop -D "$DATA" -m fast -t 900 || true
		wait "$server_pid" 2>/dev/null || true
	fi
	server_pid=
}
cleanup() {
	stop_server
	[ -n "${KEEP:-}" ] || rm -rf "$DATA"
}
trap cleanup EXIT

echo "== initdb in $DATA"
as_test_user "$PG_BINDIR/initdb" -D "$DATA" -A trust --no-sync >"$WORK/initdb.log" 2>&1
cat >>"$DATA/postgresql.conf" <<EOF

# tools/valgrind.sh
listen_addresses = ''
unix_socket_directories = '$WORK'
port = $PORT
fsync = off
autovacuum = off
jit = off
max_worker_processes = 16
max_parallel_workers = 8
max_prepared_transactions = 2
log_line_prefix = '%m [%p] '
log_min_messages = warning
EOF

echo "== starting postgres under valgrind (logs: $LOGS/vg.<pid>.log)"
start=$(date +%s)
as_test_user valgrind --tool=memcheck --trace-children=yes --track-origins=yes \
	--read-var-info=no --error-exitcode=0 --leak-check="$VG_LEAK_CHECK" \
	--gen-suppressions=all --suppressions="$WORK/valgrind.supp" \
	--num-callers=40 --error-limit=no ${VG_EXTRA:-} --fullpath-after="$ROOT/" \
	--log-file="$LOGS/vg.%p.log" \
	"$PG_BINDIR/postgres" -D "$DATA" >"$WORK/postmaster.log" 2>&1 &
server_pid=$!
for _ in $(seq 600); do
	"$PG_BINDIR/pg_isready" -q -h "$WORK" -p "$PORT" && break
	kill -0 "$server_pid" 2>/dev/null || { cat "$WORK/postmaster.log"; exit 1; }
	sleep 1
done
"$PG_BINDIR/pg_isready" -h "$WORK" -p "$PORT"
echo "   ready after $(($(date +%s) - start)) s"

psql_as() { as_test_user "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK" -p "$PORT" "$@"; }

# what pg_regress itself does to a database it creates (--use-existing skips it)
make_db() {
	psql_as -d postgres -c "CREATE DATABASE \"$1\" TEMPLATE=template0"
	psql_as -d "$1" -c "ALTER DATABASE \"$1\" SET lc_messages TO 'C';
		ALTER DATABASE \"$1\" SET lc_monetary TO 'C';
		ALTER DATABASE \"$1\" SET lc_numeric TO 'C';
		ALTER DATABASE \"$1\" SET lc_time TO 'C';
		ALTER DATABASE \"$1\" SET bytea_output TO 'hex';
		ALTER DATABASE \"$1\" SET timezone_abbreviations TO 'Default';" \
		-c 'CREATE EXTENSION IF NOT EXISTS "cxsell"'
}

# run_regress NAME TIMEOUT TESTS...: one pg_regress run in its own database
# and output directory; prints its log, leaves its status in $WORK/NAME.rc
run_regress() {
	local name=$1 limit=$2 rc=0 t0
	shift 2
	make_db "cxsell_$name"
	as_test_user mkdir -p "$WORK/out_$name"
	echo "== pg_regress ($name): $*"
	t0=$(date +%s)
	(cd "$WORK" && as_test_user timeout "$limit" "$PG_REGRESS" --use-existing \
		--host="$WORK" --port="$PORT" --bindir="$PG_BINDIR" --dbname="cxsell_$name" \
		--inputdir="$WORK" --outputdir="$WORK/out_$name" --load-extension=cxsell "$@") \
		>"$WORK/out_$name/pg_regress.log" 2>&1 || rc=$?
	cat "$WORK/out_$name/pg_regress.log"
	echo "   pg_regress ($name): exit $rc after $(($(date +%s) - t0)) s"
	[ "$rc" = 124 ] && echo "   TIMED OUT after $limit s"
	if [ -s "$WORK/out_$name/regression.diffs" ]; then
		echo "   --- $WORK/out_$name/regression.diffs (head)"
		head -c 20000 "$WORK/out_$name/regression.diffs"
	fi
	echo "$rc" >"$WORK/$name.rc"
}

# shellcheck disable=SC2086
run_regress main 14400 $VG_TESTS
if grep -qw parallel <<<"$VG_TESTS"; then
	echo "== parallel workers under valgrind (the parallel test's plan, run again)"
	psql_as -d cxsell_main -c "SET max_parallel_workers_per_gather = 3;
		SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
		SET min_parallel_table_scan_size = 0; SET parallel_leader_participation = off;
		EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
		SELECT cxsell.mine(basket, item, 0.02) FROM pl" | grep -E 'Workers|Aggregate' || true
fi
if [ "$VG_ORACLE" = 1 ] && [ -f "$ROOT/sql/random_oracle.sql" ] &&
	! grep -qw random_oracle <<<"$VG_TESTS"; then
	# shellcheck disable=SC2086
	run_regress oracle "$VG_ORACLE_TIMEOUT" $SETUP random_oracle
fi
stop_server
echo "== server ran for $(($(date +%s) - start)) s under valgrind"

echo "== postmaster log: crashes and errors"
grep -E 'terminated by signal|was terminated|PANIC|TRAP|server process .* exited' \
	"$WORK/postmaster.log" || echo "   (none)"

echo "== valgrind summary"
python3 - "$LOGS" "$ROOT" >"$WORK/vg_summary.txt" <<'PYEOF'
import collections, glob, os, re, sys

logdir, root = sys.argv[1], sys.argv[2]
own = set()
for d in ("src",):
    for f in os.listdir(os.path.join(root, d)):
        if f.endswith((".c", ".h")):
            own.add(re.escape(f))
own_re = re.compile(r"cxsell\.so|\((?:src/)?(?:%s):\d+\)" % "|".join(sorted(own)))
err_re = re.compile(
    r"^(Invalid (read|write|free|realloc)|Conditional jump|Use of uninitialised"
    r"|Syscall param|Mismatched free|Source and destination overlap"
    r"|Process terminating|Argument '.*' of function .* has a fishy"
    r"|\d+ bytes in \d+ blocks are definitely lost|Jump to the invalid address"
    r"|Invalid memory pool|Open file descriptor)")

totals = collections.Counter()
kinds = collections.Counter()          # PostgreSQL-internal, by kind
kind_sites = collections.defaultdict(collections.Counter)
ours = collections.OrderedDict()       # signature -> [count, block, pids]
nlogs = 0
commands = collections.Counter()

def norm_kind(first):
    k = re.sub(r"\b\d+ bytes in \d+ blocks", "N bytes in N blocks", first)
    k = re.sub(r"signal \d+ \((\w+)\)", r"signal \1", k)
    return k

def signature(block):
    frames = [re.sub(r"0x[0-9A-Fa-f]+", "", l) for l in block if re.match(r"\s+(at|by) ", l)]
    return (norm_kind(block[0]),) + tuple(frames[:12])

for path in sorted(glob.glob(os.path.join(logdir, "vg.*.log"))):
    nlogs += 1
    blocks, cur = [], []
    for raw in open(path, errors="replace"):
        m = re.match(r"^==\d+== ?(.*)$", raw.rstrip("\n"))
        if not m:
            continue                   # generated suppressions, free text
        line = m.group(1)
        if line.startswith("Command: "):
            commands[line[9:].split()[0]] += 1
        m2 = re.match(r"ERROR SUMMARY: (\d+) errors from (\d+) contexts \(suppressed: (\d+) from (\d+)\)", line)
        if m2:
            totals["errors"] += int(m2.group(1))
            totals["contexts"] += int(m2.group(2))
            totals["suppressed"] += int(m2.group(3))
            totals["processes"] += 1
        if line.strip() == "":
            if cur:
                blocks.append(cur)
            cur = []
        else:
            cur.append(line)
    if cur:
        blocks.append(cur)
    pid = re.search(r"vg\.(\d+)\.log", path).group(1)
    for b in blocks:
        if not err_re.match(b[0]):
            continue
        if any(own_re.search(l) for l in b):
            sig = signature(b)
            if sig not in ours:
                ours[sig] = [0, b, set()]
            ours[sig][0] += 1
            ours[sig][2].add(pid)
        else:
            k = norm_kind(b[0])
            k = re.sub(r"size \d+", "size N", k)
            kinds[k] += 1
            # the first three named PostgreSQL frames of the error stack
            names = []
            for l in b[1:]:
                if not re.match(r"\s+(at|by) ", l):
                    break
                m3 = re.match(r"\s+(?:at|by) 0x[0-9A-F]+: (\S+) \(in .*/bin/postgres\)", l)
                if m3 and m3.group(1) != "???":
                    names.append(m3.group(1))
            site = " <- ".join(names[:3]) or "?"
            kind_sites[k][site] += 1

print("valgrind logs: %d (processes that wrote an ERROR SUMMARY: %d)" % (nlogs, totals["processes"]))
print("errors: %d from %d contexts, suppressed: %d"
      % (totals["errors"], totals["contexts"], totals["suppressed"]))
print()
print("reports involving cxsell: %d distinct, %d in all" % (len(ours), sum(v[0] for v in ours.values())))
for sig, (n, block, pids) in ours.items():
    print()
    print("---- reported in %d process log(s) (e.g. vg.%s.log)" % (len(pids), sorted(pids)[0]))
    for l in block:
        print("  " + l)
print()
print("PostgreSQL-internal reports (no cxsell frame), by kind: %d in all" % sum(kinds.values()))
for k, n in kinds.most_common():
    print("  %6d  %s" % (n, k))
    for site, m in kind_sites[k].most_common(3):
        print("          %5d at %s" % (m, site))
PYEOF
cat "$WORK/vg_summary.txt"

echo "== results in $WORK (vg/ logs, vg_summary.txt, out_*/)"
ok=1
for f in "$WORK"/*.rc; do
	[ "$(cat "$f")" = 0 ] || ok=0
done
grep -q '^reports involving cxsell: 0 ' "$WORK/vg_summary.txt" || ok=0
[ "$ok" = 1 ]
