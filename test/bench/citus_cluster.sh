# citus_cluster.sh -- sourced by the Citus benchmarks: a coordinator and two
# workers on this machine, on the PostgreSQL 18 + Citus build of
# tools/pg18.sh with cxsell installed into it.  Defines ROOT, BIN, WORK, C
# (the coordinator's port), log, die, as_server psql_at PORT ARGS..., median (of
# numbers on stdin) and run SQL (times SQL in a fresh coordinator session:
# "milliseconds peak_kB bytes_received_per_DEBUG_lines");
# the cluster goes away when the calling script exits.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
log() { echo "== $*" >&2; }
die() { echo "citus_bench: $*" >&2; exit 1; }

PG_CONFIG=$(bash "$ROOT/tools/pg18.sh" --require citus | tail -n 1) ||
	die "PostgreSQL 18 with Citus is not available (tools/pg18.sh)"
BIN=$("$PG_CONFIG" --bindir)
[ -e "$("$PG_CONFIG" --pkglibdir)/cxsell.so" ] ||
	die "cxsell is not installed for $PG_CONFIG (make PG_CONFIG=$PG_CONFIG install)"

if [ "$(id -u)" = 0 ]; then as_server() { runuser -u postgres -- "$@"; }; else as_server() { "$@"; }; fi
WORK=$(mktemp -d /tmp/citus_bench.XXXXXX)
chmod 755 "$WORK"
[ "$(id -u)" = 0 ] && chown postgres "$WORK"
PORTS=(6101 6102 6103)
cleanup() {
	for p in "${PORTS[@]}"; do as_server "$BIN/pg_ctl" -D "$WORK/n$p" -m immediate stop >/dev/null 2>&1 || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
psql_at() { local port=$1; shift; as_server "$BIN/psql" -X -q -h "$WORK" -p "$port" -U postgres -d postgres "$@"; }

log "starting a coordinator and two workers in $WORK"
for p in "${PORTS[@]}"; do
	as_server "$BIN/initdb" -D "$WORK/n$p" -A trust -U postgres >/dev/null
	cat >>"$WORK/n$p/postgresql.conf" <<CONF
port = $p
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK'
shared_preload_libraries = 'citus'
max_worker_processes = 16
CONF
	echo "host all all 127.0.0.1/32 trust" >>"$WORK/n$p/pg_hba.conf"
	as_server "$BIN/pg_ctl" -D "$WORK/n$p" -l "$WORK/n$p.log" -w start >/dev/null
	psql_at "$p" -c "CREATE EXTENSION citus" -c "CREATE EXTENSION cxsell"
done
psql_at "${PORTS[0]}" -c "SELECT citus_set_coordinator_host('127.0.0.1', ${PORTS[0]})" \
	-c "SELECT citus_add_node('127.0.0.1', ${PORTS[1]})" -c "SELECT citus_add_node('127.0.0.1', ${PORTS[2]})" >/dev/null

C=${PORTS[0]}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# time SQL in a fresh session; prints "milliseconds peak_kB bytes_received"
run() {
	local sql=$1 out
	out=$(psql_at "$C" -t -A -v ON_ERROR_STOP=1 2>&1 <<SQL
SET client_min_messages = debug1;
SELECT pg_backend_pid() AS pid \gset
\setenv CXPID :pid
\timing on
$sql
\timing off
\! grep VmHWM /proc/\$CXPID/status
SQL
)
	local ms kb recv
	ms=$(grep -o 'Time: [0-9.]*' <<<"$out" | tail -n 1 | awk '{print $2}')
	kb=$(grep -o 'VmHWM:[[:space:]]*[0-9]*' <<<"$out" | awk '{print $2}')
	recv=$({ grep -o 'received [0-9]* bytes' <<<"$out" || true; } | awk '{s += $2} END {print s + 0}')
	echo "$ms $kb $recv"
}

