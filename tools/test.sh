#!/usr/bin/env bash
# Run every cxsell test: build (warnings are errors), install, then
#   1. pg_regress (sql/ + expected/) on a throwaway PostgreSQL instance,
#   2. the isolation tests in test/isolation (concurrent refreshes and readers),
#   3. the TAP tests in test/t (real data sets, cancellation, ...),
#   4. the statistics checks of src/stats.c against scipy/mpmath.
# Ends with one line "cxsell tests: N passed, M failed"; exits non-zero on
# any failure.
source "$(dirname "$0")/common.sh"

install_packages postgresql-server-dev-15 make gcc libipc-run-perl \
	python3-scipy python3-mpmath python3-sklearn python3-threadpoolctl \
	postgresql-15-cron
build_and_install

WORK=$(scratch_dir)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
cp -r "$ROOT/sql" "$ROOT/expected" "$ROOT/test" "$ROOT/src" "$WORK/"
[ "$(id -u)" = 0 ] && chown -R "$TEST_USER" "$WORK"
DATA_DIR=${CXSELL_DATA_DIR:-$(cd "$ROOT/.." && pwd)/shared/data}
# the test user must be able to read the data sets; when the checkout lives
# where it cannot (under /root, say), give it a copy in the scratch folder
if ! as_test_user test -r "$DATA_DIR/retail/retail.dat"; then
	cp -r "$DATA_DIR" "$WORK/data"
	[ "$(id -u)" = 0 ] && chown -R "$TEST_USER" "$WORK/data"
	DATA_DIR=$WORK/data
fi
passed=0
failed=0

PGXS_DIR=$(dirname "$("$PG_CONFIG" --pgxs)")/..

# Run a pg_regress-style suite on a throwaway instance and add its results
# to the tally: run_suite NAME DRIVER INPUTDIR TEST...
run_suite() {
	local name=$1 driver=$2 inputdir=$3
	shift 3
	echo "== $name"
	if ! (cd "$WORK" && as_test_user "$driver" \
		--temp-instance="$WORK/tmp_instance" --bindir="$PG_BINDIR" \
		--inputdir="$inputdir" --outputdir="$WORK/out_$name" \
		--load-extension=cxsell "$@") | tee "$WORK/$name.log"; then
		head -c 20000 "$WORK/out_$name/regression.diffs" 2>/dev/null || true
	fi
	local n_ok n_bad
	n_ok=$(grep -cE '\.\.\. ok|^ok [0-9]+ ' "$WORK/$name.log" || true)
	n_bad=$(grep -cE '\.\.\. FAILED|^not ok ' "$WORK/$name.log" || true)
	[ "$n_ok" -gt 0 ] || n_bad=$((n_bad + 1))
	passed=$((passed + n_ok))
	failed=$((failed + n_bad))
	rm -rf "$WORK/tmp_instance"
}

run_suite pg_regress "$PGXS_DIR/test/regress/pg_regress" . $(make -s -C "$ROOT" regress-list)
run_suite isolation "$PGXS_DIR/test/isolation/pg_isolation_regress" test/isolation \
	$(cd "$ROOT/test/isolation/specs" && ls *.spec | sed 's/\.spec$//')

echo "== TAP tests"
for t in "$WORK"/test/t/*.pl; do
	if (cd "$WORK" && as_test_user env PATH="$PG_BINDIR:$PATH" \
		PERL5LIB="$PGXS_DIR/test/perl" CXSELL_DATA_DIR="$DATA_DIR" \
		PG_REGRESS="$PGXS_DIR/test/regress/pg_regress" \
		prove "test/t/$(basename "$t")"); then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		tail -n 50 "$WORK"/tmp_check/log/regress_log_* 2>/dev/null || true
	fi
done

echo "== statistics checks"
for check in check_stats.py check_rates.py; do
	if (cd "$WORK/test/stats" && as_test_user /usr/bin/python3 "$check"); then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done

echo "cxsell tests: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
