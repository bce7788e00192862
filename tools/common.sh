# Shared helpers of tools/demo.sh and tools/test.sh (sourced, not run).
#
# Both scripts run on a fresh Debian machine with PostgreSQL 15's server
# installed: as root, or as a user who may sudo.  Server processes never run
# as root: as root, they run as the "postgres" system user.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEBIAN_PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config

# Run a command as root (directly, or through sudo).
as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The user that runs servers and tests, and how to run a command as it.
if [ "$(id -u)" = 0 ]; then TEST_USER=postgres; else TEST_USER=$(id -un); fi
as_test_user() {
	if [ "$(id -u)" = 0 ]; then runuser -u "$TEST_USER" -- "$@"; else "$@"; fi
}

# Install the Debian packages named, when any is missing.
install_packages() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "== installing ${missing[*]}"
		as_root apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
}

# Build with warnings as errors against the server of pg_config $1 and
# install the extension there.
build_and_install() {
	local pg_config=$1
	echo "== building cxsell for PostgreSQL $("$pg_config" --version | awk '{print $2}')"
	make -C "$ROOT" -s clean >/dev/null
	make -C "$ROOT" -s PG_CONFIG="$pg_config" PG_CFLAGS="-Wall -Wextra -Werror"
	as_root make -C "$ROOT" -s PG_CONFIG="$pg_config" install >/dev/null
	make -C "$ROOT" -s clean >/dev/null
}

# A scratch directory the test user owns, under $TMPDIR.
scratch_dir() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/cxsell.XXXXXX")
	chmod 755 "$d"
	[ "$(id -u)" = 0 ] && chown "$TEST_USER" "$d"
	echo "$d"
}
