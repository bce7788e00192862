#!/usr/bin/env bash
# Build and cache PostgreSQL 18 (assertions on), pg_cron and Citus outside the
# checkout, so that the tests can run against PostgreSQL 18.
#
# Usage: bash tools/pg18.sh [--require citus|pg_cron]...
#
# The sources are the pinned upstream tarballs in the vendor folder
# (CXSELL_VENDOR_DIR, default <repo>/../shared/vendor); their sha256 sums are
# checked against the ones below.  The build goes to
#   ${CXSELL_CACHE_DIR:-/var/cache/cxsell}/pg18-<hash>
# where <hash> covers RECIPE and the tarballs' checksums: a changed input
# builds a new prefix, an unchanged one is reused at once.  Build trees live
# in a temporary folder; the configure/make output goes to a log file next to
# the prefix (pg18-<hash>.log) and only its tail is shown on failure.
#
# Output: progress on stderr; the LAST line of stdout is the absolute path of
# the cached pg_config.  <prefix>/cxsell-harness.info lists what was built,
# one "name=version" line each (postgresql=18.6, pg_cron=1.6.7, citus=14.0.1);
# a piece whose tarball was absent has no line.
#
# Exit status: 0 built or reused; 3 skipped: the PostgreSQL tarball (or a
# piece named by --require) is absent; anything else: failure.
#
# Run as root, or as a user who may sudo (missing Debian build packages are
# installed with apt-get).  Servers run as an unprivileged user, so the
# installed tree is made world-readable.

set -euo pipefail

# Bump when the build steps change: it is part of the prefix's hash.
RECIPE="pg18-harness-1"

PG_VERSION=18.6
PG_TARBALL=postgresql-18_18.6.orig.tar.bz2
PG_SHA256=555610c24d53e4316da5b7d3fc25c279d96856d5e0e23ee308c328c5fa881d9f
PG_CRON_VERSION=1.6.7
PG_CRON_TARBALL=pg_cron-1.6.7.tar.gz
PG_CRON_SHA256=6684ba135a8de3663af5eddbae354a080b37d2f28f2c1801eeab3bbbb4c39f6a
CITUS_VERSION=14.0.1
CITUS_TARBALL=citus-14.0.1.tar.gz
CITUS_SHA256=acfa9a77cd84a8e1edab26cca4a71355f39c910c01586da89560e0240d4b05ba

PG_PACKAGES=(bison flex gcc make libc6-dev perl zlib1g-dev bzip2 libipc-run-perl pkg-config)
CITUS_PACKAGES=(libcurl4-openssl-dev liblz4-dev libzstd-dev)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENDOR_DIR=${CXSELL_VENDOR_DIR:-$ROOT/../shared/vendor}
CACHE_DIR=${CXSELL_CACHE_DIR:-/var/cache/cxsell}
SKIPPED=3

say() { echo "== $*" >&2; }
die() { echo "pg18.sh: error: $*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Run a build command with its output in the log; on failure show the tail.
logged() {
	if ! "$@" >>"$LOG" 2>&1; then
		echo "pg18.sh: error: failed: $*" >&2
		tail -n 40 "$LOG" | sed 's/^/  | /' >&2
		die "full log: $LOG"
	fi
}

# Install the Debian packages named, when any is missing.
install_packages() {
	local p missing=()
	for p in "$@"; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] ||
			missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	say "installing ${missing[*]}"
	logged as_root apt-get update -qq
	logged as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

# Check a tarball's sha256: check_sha256 FILE EXPECTED
check_sha256() {
	local actual
	actual=$(sha256sum "$1" | cut -d' ' -f1)
	[ "$actual" = "$2" ] ||
		die "checksum mismatch for $1: expected $2, got $actual"
}

# Unpack a tarball (one top folder) into the build folder and print the
# tree's path: unpack TARBALL NAME
unpack() {
	local dir=$BUILD_DIR/$2
	mkdir "$dir"
	tar -xf "$VENDOR_DIR/$1" -C "$dir" --strip-components=1
	echo "$dir"
}

build_postgres() {
	local src
	src=$(unpack "$PG_TARBALL" "postgresql-$PG_VERSION")
	say "building PostgreSQL $PG_VERSION (cassert) in $src"
	(cd "$src" && logged ./configure --prefix="$PREFIX" --enable-cassert \
		--enable-debug --enable-tap-tests --without-icu --without-readline)
	logged make -C "$src" -j2
	# installs pg_regress, pg_isolation_regress and the TAP modules under PGXS
	logged make -C "$src" install
	local pgxs f
	pgxs=$(dirname "$("$PG_CONFIG" --pgxs)")/..
	for f in test/regress/pg_regress test/isolation/pg_isolation_regress \
		test/perl/PostgreSQL/Test/Cluster.pm; do
		[ -e "$pgxs/$f" ] || die "$pgxs/$f missing after make install"
	done
}

build_pg_cron() {
	local src
	src=$(unpack "$PG_CRON_TARBALL" "pg_cron-$PG_CRON_VERSION")
	say "building pg_cron $PG_CRON_VERSION in $src"
	logged make -C "$src" -j2 PG_CONFIG="$PG_CONFIG"
	logged make -C "$src" install PG_CONFIG="$PG_CONFIG"
}

build_citus() {
	local src
	src=$(unpack "$CITUS_TARBALL" "citus-$CITUS_VERSION")
	say "building Citus $CITUS_VERSION in $src"
	(cd "$src" && logged ./configure PG_CONFIG="$PG_CONFIG")
	logged make -C "$src" -j2
	logged make -C "$src" install
}

# Run a build step and report its wall time: timed NAME FUNCTION
timed() {
	local start=$SECONDS
	"$2"
	say "$1 done in $((SECONDS - start))s"
}

main() {
	local require=() piece
	while [ $# -gt 0 ]; do
		case $1 in
		--require) [ $# -ge 2 ] || die "--require needs citus or pg_cron"
			require+=("$2"); shift 2 ;;
		-h | --help) sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
		*) die "unknown argument: $1 (see --help)" ;;
		esac
	done

	if [ ! -f "$VENDOR_DIR/$PG_TARBALL" ]; then
		echo "skipping PostgreSQL $PG_VERSION: $VENDOR_DIR/$PG_TARBALL not found" >&2
		exit $SKIPPED
	fi
	check_sha256 "$VENDOR_DIR/$PG_TARBALL" "$PG_SHA256"

	# the optional pieces: present (checksum checked) or skipped
	local with_pg_cron=no with_citus=no
	if [ -f "$VENDOR_DIR/$PG_CRON_TARBALL" ]; then
		check_sha256 "$VENDOR_DIR/$PG_CRON_TARBALL" "$PG_CRON_SHA256"
		with_pg_cron=yes
	else
		say "skipping pg_cron: $VENDOR_DIR/$PG_CRON_TARBALL not found"
	fi
	if [ -f "$VENDOR_DIR/$CITUS_TARBALL" ]; then
		check_sha256 "$VENDOR_DIR/$CITUS_TARBALL" "$CITUS_SHA256"
		with_citus=yes
	else
		say "skipping Citus: $VENDOR_DIR/$CITUS_TARBALL not found"
	fi
	local have
	for piece in "${require[@]}"; do
		case $piece in
		pg_cron) have=$with_pg_cron ;;
		citus) have=$with_citus ;;
		*) die "--require: unknown piece $piece (citus or pg_cron)" ;;
		esac
		if [ "$have" = no ]; then
			echo "skipping PostgreSQL $PG_VERSION: $piece is required but its tarball is absent" >&2
			exit $SKIPPED
		fi
	done

	local hash
	hash=$(printf '%s\n' "$RECIPE" "postgresql=$PG_SHA256" \
		"pg_cron=$with_pg_cron:$PG_CRON_SHA256" "citus=$with_citus:$CITUS_SHA256" |
		sha256sum | cut -c1-12)
	PREFIX=$CACHE_DIR/pg18-$hash
	PG_CONFIG=$PREFIX/bin/pg_config
	LOG=$CACHE_DIR/pg18-$hash.log
	local stamp=$PREFIX/cxsell-harness.complete

	mkdir -p "$CACHE_DIR" 2>/dev/null ||
		die "cannot create $CACHE_DIR (set CXSELL_CACHE_DIR to a writable folder)"
	# a lock opened for reading: users who may not write the cache can
	# still take it to reuse a finished build
	local lock=$CACHE_DIR/pg18-$hash.lock
	[ -e "$lock" ] || : >"$lock"
	exec 9<"$lock"
	if ! flock -n 9; then
		say "waiting for another build of $PREFIX"
		flock 9
	fi

	if [ -f "$stamp" ]; then
		say "reusing $PREFIX"
	else
		local total=$SECONDS
		: >"$LOG"
		rm -rf "$PREFIX"
		install_packages "${PG_PACKAGES[@]}"
		[ $with_citus = no ] || install_packages "${CITUS_PACKAGES[@]}"
		BUILD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cxsell-pg18.XXXXXX")
		trap 'rm -rf "$BUILD_DIR"' EXIT

		timed "PostgreSQL $PG_VERSION" build_postgres
		[ $with_pg_cron = no ] || timed "pg_cron $PG_CRON_VERSION" build_pg_cron
		[ $with_citus = no ] || timed "Citus $CITUS_VERSION" build_citus

		{
			echo "postgresql=$PG_VERSION"
			[ $with_pg_cron = no ] || echo "pg_cron=$PG_CRON_VERSION"
			[ $with_citus = no ] || echo "citus=$CITUS_VERSION"
		} >"$PREFIX/cxsell-harness.info"
		chmod -R a+rX "$PREFIX"
		chmod a+rx "$CACHE_DIR" 2>/dev/null || true
		rm -rf "$BUILD_DIR"
		touch "$stamp"
		say "built $PREFIX in $((SECONDS - total))s ($(du -sh "$PREFIX" | cut -f1))"
	fi
	echo "$PG_CONFIG"
}

main "$@"
