# bench_cluster.sh -- shared by the benchmarks (sourced, not run): a
# throwaway PostgreSQL cluster, a snapshot of the cxsell library to time, and
# a check that the machine is otherwise idle.
#
# Expects PG_BINDIR and the functions log and die; the library timed is
# CXSELL_SO, or the installed one.  Defines LIB_SRC, SERVER_USER, as_server,
# WORK, PGDATA_DIR, STARTED, LIB_SHA, LIB_OPT and an
# EXIT trap that stops the cluster and removes WORK.  Server processes never
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
