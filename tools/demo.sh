#!/usr/bin/env bash
# Set everything up on a fresh machine and run the cxsell demo: install the
# build dependencies, build and install the extension, start a throwaway
# PostgreSQL 15 cluster, load seeded sample data and print real rules and
# item pairs.  The cluster is removed on exit.
source "$(dirname "$0")/common.sh"

PG_CONFIG=${PG_CONFIG:-$DEBIAN_PG_CONFIG}
[ "$PG_CONFIG" != "$DEBIAN_PG_CONFIG" ] || install_packages postgresql-server-dev-15
install_packages make gcc
build_and_install "$PG_CONFIG"
PG_BINDIR=$("$PG_CONFIG" --bindir)

WORK=$(scratch_dir)
PORT=${CXSELL_DEMO_PORT:-54329}
stop_cluster() {
	as_test_user "$PG_BINDIR/pg_ctl" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap stop_cluster EXIT

echo "== starting a throwaway PostgreSQL cluster in $WORK"
as_test_user "$PG_BINDIR/initdb" -D "$WORK/data" -A trust -U postgres >/dev/null
as_test_user "$PG_BINDIR/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w \
	-o "-p $PORT -k $WORK -c listen_addresses=''" start >/dev/null
PSQL=(as_test_user "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK" -p "$PORT" -U postgres)
"${PSQL[@]}" -c "CREATE DATABASE demo" >/dev/null
"${PSQL[@]}" -d demo -c "CREATE EXTENSION cxsell"

echo "== loading the sample data (tools/sample_data.sql)"
# psql reads the data files from test/data below its working directory: a
# copy the test user can read, whatever the checkout's permissions
mkdir -p "$WORK/sample/test" "$WORK/sample/tools"
cp -r "$ROOT/test/data" "$WORK/sample/test/"
cp "$ROOT/tools/sample_data.sql" "$ROOT/tools/demo.sql" "$WORK/sample/tools/"
[ "$(id -u)" = 0 ] && chown -R "$TEST_USER" "$WORK/sample"
(cd "$WORK/sample" && "${PSQL[@]}" -d demo -f tools/sample_data.sql >/dev/null)
(cd "$WORK/sample" && "${PSQL[@]}" -d demo -f tools/demo.sql)
