#!/usr/bin/env bash
# Run a command against throw-away PostgreSQL and MariaDB servers:
#
#   scripts/with-dbservers.sh CMD [ARGS...]
#
# Starts both servers (scripts/dbservers.sh) in a fresh temporary directory, exports
# CONVERGEAI_TEST_POSTGRES_URL / CONVERGEAI_TEST_MYSQL_URL, points HOME, the XDG base
# directories and CONVERGEAI_CONFIG into that directory so nothing touches the real user
# folders, runs CMD, then always stops the servers and removes the directory.
# Exits with CMD's exit status.
set -euo pipefail

[ $# -ge 1 ] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/convergeai-test.XXXXXX")
# mktemp makes it 0700; as root the servers run as the postgres/mysql users, who must
# be able to reach $tmp/db. The private dirs below are created 0700.
chmod 711 "$tmp"

cleanup() {
    # Finish cleaning up even if more signals arrive (make forwards SIGTERM to its child,
    # Ctrl-C hits the whole process group).
    trap '' INT TERM HUP
    bash "$here/dbservers.sh" stop "$tmp/db" || echo "with-dbservers: warning: stopping the servers failed" >&2
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

bash "$here/dbservers.sh" start "$tmp/db" >/dev/null
# shellcheck disable=SC1091
. "$tmp/db/env"
echo "with-dbservers: CONVERGEAI_TEST_POSTGRES_URL=$CONVERGEAI_TEST_POSTGRES_URL" >&2
echo "with-dbservers: CONVERGEAI_TEST_MYSQL_URL=$CONVERGEAI_TEST_MYSQL_URL" >&2

mkdir -m 700 "$tmp/home" "$tmp/xdg" "$tmp/runtime"
mkdir "$tmp/xdg/data" "$tmp/xdg/config" "$tmp/xdg/state" "$tmp/xdg/cache"
export HOME=$tmp/home
export XDG_DATA_HOME=$tmp/xdg/data
export XDG_CONFIG_HOME=$tmp/xdg/config
export XDG_STATE_HOME=$tmp/xdg/state
export XDG_CACHE_HOME=$tmp/xdg/cache
export XDG_RUNTIME_DIR=$tmp/runtime
export CONVERGEAI_CONFIG=$tmp/no-such-config.toml   # deliberately nonexistent

rc=0
"$@" || rc=$?
exit "$rc"
