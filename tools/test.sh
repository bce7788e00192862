#!/usr/bin/env bash
# Run every cxsell test.  For each PostgreSQL server tested: build (warnings
# are errors), install, then
#   1. pg_regress (sql/ + expected/) on a throwaway instance,
#   2. the isolation tests in test/isolation (concurrent refreshes, readers),
#   3. the TAP tests in test/t (real data sets, cancellation, operations,
#      security of the managed layer, ...);
# and once, the statistics checks of src/stats.c against scipy/mpmath and
# exact definitions.
#
# Servers: PostgreSQL 15 from Debian's packages and, when the pinned sources
# are beside the repository (../shared/vendor, or CXSELL_VENDOR_DIR),
# PostgreSQL 18 built with assertions by tools/pg18.sh (cached outside the
# checkout), with pg_cron and Citus (test/t/010_citus.pl runs a coordinator
# and two workers there); when they are absent, the run says that it
# skipped 18 and why.
# PG_CONFIG=/path/to/pg_config tests that one server instead.
#
# Ends with one line "cxsell tests: N passed, M failed" (N counts every
# regression file, isolation spec, TAP assertion and statistics check);
# exits non-zero on any failure.
source "$(dirname "$0")/common.sh"

install_packages make gcc libipc-run-perl python3-scipy python3-mpmath \
	python3-sklearn python3-threadpoolctl
if [ -n "${PG_CONFIG:-}" ]; then
	SERVERS=("$PG_CONFIG")
else
	install_packages postgresql-server-dev-15 postgresql-15-cron
	SERVERS=("$DEBIAN_PG_CONFIG")
	# the vendored PostgreSQL 18: build or reuse it, or say why not
	rc=0
	pg18=$(bash "$ROOT/tools/pg18.sh" | tail -n 1) || rc=$?
	case $rc in
	0) SERVERS+=("$pg18") ;;
	3) echo "== PostgreSQL 18 skipped: its pinned sources are not beside the repository (see tools/pg18.sh)" ;;
	*) echo "== PostgreSQL 18: tools/pg18.sh failed (status $rc)"; exit 1 ;;
	esac
fi

WORK=$(scratch_dir)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
passed=0
failed=0
summary=()

# Count a result: tally OK BAD LABEL
tally() {
	passed=$((passed + $1))
	failed=$((failed + $2))
	summary+=("$3: $1 passed, $2 failed")
}

# Run a pg_regress-style suite on a throwaway instance and tally its tests:
# run_suite NAME DRIVER INPUTDIR TEST...
run_suite() {
	local name=$1 driver=$2 inputdir=$3 out=$WORK/$1
	shift 3
	echo "== $name ($LABEL)"
	if ! (cd "$WORK/src" && as_test_user "$driver" \
		--temp-instance="$WORK/tmp_instance" --bindir="$BINDIR" \
		--inputdir="$inputdir" --outputdir="$out" \
		--load-extension=cxsell "$@") | tee "$out.log"; then
		head -c 20000 "$out/regression.diffs" 2>/dev/null || true
	fi
	local n_ok n_bad
	n_ok=$(grep -cE '\.\.\. ok|^ok [0-9]+ ' "$out.log" || true)
	n_bad=$(grep -cE '\.\.\. FAILED|^not ok ' "$out.log" || true)
	[ "$n_ok" -gt 0 ] || n_bad=$((n_bad + 1))
	tally "$n_ok" "$n_bad" "$name ($LABEL)"
	rm -rf "$WORK/tmp_instance"
}

# Run the TAP tests one file at a time, printing each assertion as it
# completes, and tally the assertions.
run_tap() {
	local t log n_ok n_bad
	echo "== TAP tests ($LABEL)"
	for t in "$ROOT"/test/t/*.pl; do
		t=test/t/$(basename "$t")
		log=$WORK/tap_$(basename "$t" .pl).log
		echo "-- $t"
		(cd "$WORK/src" && as_test_user env PATH="$BINDIR:$PATH" \
			PERL5LIB="$PGXS_DIR/test/perl" PG_REGRESS="$PGXS_DIR/test/regress/pg_regress" \
			CXSELL_REQUIRE_PG_CRON=1 CXSELL_REQUIRE_CITUS="$REQUIRE_CITUS" \
			prove -v "$t" 2>&1) | tee "$log" | grep -E --line-buffered '^(not )?ok [0-9]+|^Bail|^# +Failed|^# .*\.\.\.$|Dubious|skipped:|^Result' || true
		n_ok=$(grep -cE '^ok [0-9]+' "$log" || true)
		n_bad=$(grep -cE '^not ok [0-9]+' "$log" || true)
		# a file that skips all (NOTESTS) has said why, in its skip line
		if ! grep -qE '^Result: (PASS|NOTESTS)' "$log"; then
			# a failure outside any assertion (a bail-out, a wrong plan)
			[ "$n_bad" -gt 0 ] || n_bad=1
			tail -n 40 "$log"
			tail -n 60 "$WORK"/src/tmp_check/log/regress_log_"$(basename "$t" .pl)" 2>/dev/null || true
		fi
		tally "$n_ok" "$n_bad" "$t ($LABEL)"
		rm -rf "$WORK/src/tmp_check"
	done
}

for PG_CONFIG in "${SERVERS[@]}"; do
	LABEL="PostgreSQL $("$PG_CONFIG" --version | awk '{print $2}')"
	if [ "$("$PG_CONFIG" --configure | grep -c -- --enable-cassert)" -gt 0 ]; then
		LABEL="$LABEL, assertions on"
	fi
	BINDIR=$("$PG_CONFIG" --bindir)
	# Citus where tools/pg18.sh built it beside this server (test/t/010_citus.pl
	# skips, saying so, on a server without it)
	REQUIRE_CITUS=
	grep -qs '^citus=' "$(dirname "$BINDIR")/cxsell-harness.info" && REQUIRE_CITUS=1
	PGXS_DIR=$(dirname "$("$PG_CONFIG" --pgxs)")/..
	build_and_install "$PG_CONFIG"
	# a copy the test user can read, whatever the checkout's permissions
	rm -rf "$WORK/src"
	mkdir "$WORK/src"
	cp -r "$ROOT/sql" "$ROOT/expected" "$ROOT/test" "$ROOT/src" "$ROOT/tools" "$ROOT/README.md" "$WORK/src/"
	[ "$(id -u)" = 0 ] && chown -R "$TEST_USER" "$WORK/src"
	run_suite pg_regress "$PGXS_DIR/test/regress/pg_regress" . \
		$(make -s -C "$ROOT" PG_CONFIG="$PG_CONFIG" regress-list)
	run_suite isolation "$PGXS_DIR/test/isolation/pg_isolation_regress" test/isolation \
		$(cd "$ROOT/test/isolation/specs" && ls *.spec | sed 's/\.spec$//')
	run_tap
done

echo "== statistics checks"
for check in check_stats.py check_rates.py check_adjust.py; do
	log=$WORK/$check.log
	if (cd "$WORK/src/test/stats" && as_test_user /usr/bin/python3 "$check") >"$log" 2>&1; then
		tail -n 1 "$log"
	else
		tail -n 30 "$log"
	fi
	n_ok=$(sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$log" | tail -n 1)
	n_bad=$(sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$log" | tail -n 1)
	[ -n "$n_ok" ] || { n_ok=0; n_bad=1; }
	tally "$n_ok" "$n_bad" "statistics $check"
done

echo "== summary"
printf '  %s\n' "${summary[@]}"
echo "cxsell tests: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
