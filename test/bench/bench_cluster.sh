# bench_cluster.sh -- shared by the benchmarks (sourced, not run): a
# throwaway PostgreSQL cluster, a snapshot of the cxsell library to time, and
# a check that the machine is otherwise idle.
#
# Expects PG_BINDIR and the functions log and die; the library timed is
# CXSELL_SO, or the installed one.  Defines LIB_SRC, SERVER_USER, as_server,
# WORK, PGDATA_DIR, STARTED, LIB_SHA, LIB_OPT and an
# EXIT trap that stops the cluster and removes WORK; bench_cluster_start
# defines PSQL and sql.  Server processes never
# run as root: as root, the cluster runs as the "postgres" user.

# Create WORK (/tmp/<prefix>.XXXXXX), snapshot the library and initdb.
bench_cluster_init() {
	local pkglibdir
	pkglibdir=$("$PG_BINDIR/pg_config" --pkglibdir 2>/dev/null || echo /usr/lib/postgresql/15/lib)
	LIB_SRC=${CXSELL_SO:-$pkglibdir/cxsell.so}
	[ -r "$LIB_SRC" ] || die "no cxsell library at $LIB_SRC (make && make install, or set CXSELL_SO)"

	if [ "$(id -u)" = 0 ]; then
		SERVER_USER=postgres
		as_server() { runuser -u "$SERVER_USER" -- "$@"; }
	else
		SERVER_USER=$(id -un)
		as_server() { "$@"; }
	fi

	WORK=$(mktemp -d "/tmp/$1.XXXXXX")
	chmod 755 "$WORK"
	[ "$(id -u)" = 0 ] && chown "$SERVER_USER" "$WORK"
	PGDATA_DIR=$WORK/pgdata
	STARTED=0
	cp "$LIB_SRC" "$WORK/cxsell.so"
	chmod 755 "$WORK/cxsell.so"
	LIB_SHA=$(sha256sum "$WORK/cxsell.so" | cut -c1-12)
	LIB_OPT=$(readelf --debug-dump=info "$WORK/cxsell.so" 2>/dev/null |
		grep -m 1 DW_AT_producer | grep -oE ' -O[0-9a-z]*' | tail -n 1 | tr -d ' ' || true)
	LIB_OPT=${LIB_OPT:-unknown}

	cleanup() {
		local rc=$?
		trap - EXIT INT TERM
		if [ "$STARTED" = 1 ]; then
			as_server "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -m immediate -w stop >/dev/null 2>&1 || true
		fi
		rm -rf "$WORK"
		exit "$rc"
	}
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	log "initdb in $WORK (server user $SERVER_USER)"
	as_server "$PG_BINDIR/initdb" -D "$PGDATA_DIR" -U cxbench --auth=trust \
		--no-instructions -E UTF8 --locale=C >"$WORK/initdb.log" 2>&1 ||
		{ cat "$WORK/initdb.log" >&2; die "initdb failed"; }
}

# cpu_busy -> percent of all CPU time spent outside idle/iowait over 2 s,
# while this benchmark is idle: other work on the machine skews the timings.
cpu_busy() {
	local a b
	a=$(head -n 1 /proc/stat 2>/dev/null) || { echo '?'; return; }
	sleep 2
	b=$(head -n 1 /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN {
		n = split(a, x, " "); split(b, y, " "); tot = 0
		for (i = 2; i <= n; i++) tot += y[i] - x[i]
		idle = (y[5] - x[5]) + (y[6] - x[6])
		printf "%.0f", (tot > 0 ? 100 * (tot - idle) / tot : 0) }'
}
busy_warning() {
	[ "$1" != '?' ] && [ "$1" -ge 10 ] &&
		log "WARNING: other processes keep the CPUs $1% busy: timings are skewed (parallel plans most)"
	return 0
}

# bench_cluster_start NAME: append the settings on stdin to postgresql.conf
# (after a local socket in WORK, port 5432), start the server, and create
# database "bench" with cxsell, its C functions pointed at the snapshot of
# the library.  Defines PSQL (psql against the cluster) and sql (psql -d bench).
bench_cluster_start() {
	{
		echo
		echo "# --- $1 ---"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$WORK'"
		echo "port = 5432"
		cat
	} >>"$PGDATA_DIR/postgresql.conf"
	as_server "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/server.log" -w start >/dev/null ||
		{ cat "$WORK/server.log" >&2; die "server did not start"; }
	STARTED=1
	PSQL=("$PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$WORK" -p 5432 -U cxbench)
	sql() { "${PSQL[@]}" -d bench "$@"; }
	"${PSQL[@]}" -d postgres -c "CREATE DATABASE bench" >/dev/null
	sql -c "CREATE EXTENSION cxsell" >/dev/null ||
		die "CREATE EXTENSION cxsell failed: build and install it first (make && make install)"
	local n_fn
	n_fn=$(sql -c "WITH u AS (UPDATE pg_catalog.pg_proc SET probin = '$WORK/cxsell.so'
		WHERE probin = '\$libdir/cxsell' RETURNING 1) SELECT count(*) FROM u")
	[ "$n_fn" -gt 0 ] || die "found no C function of cxsell to point at $WORK/cxsell.so"
	log "timing library $LIB_SRC (sha256 $LIB_SHA..., built $LIB_OPT; $n_fn C functions)"
	[ "$LIB_OPT" = -O0 ] && log "WARNING: $LIB_SRC is an -O0 build: cxsell timings are not representative"
	return 0
}
