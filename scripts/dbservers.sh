#!/usr/bin/env bash
# Throw-away PostgreSQL and MariaDB servers for the test suite and benchmarks.
#
#   scripts/dbservers.sh start DIR   initialise (if needed) and start both servers under DIR,
#                                    write DIR/env and print its export lines on stdout
#   scripts/dbservers.sh stop DIR    stop both servers (safe to call more than once)
#   scripts/dbservers.sh env DIR     print DIR/env
#
# Typical use:  eval "$(scripts/dbservers.sh start /tmp/dbs)"; ...; scripts/dbservers.sh stop /tmp/dbs
#
# Both servers listen on 127.0.0.1 only, on the first free port from 54329 (PostgreSQL)
# and 33069 (MariaDB) up (override with PG_PORT_BASE / MYSQL_PORT_BASE), with their unix
# sockets inside DIR. Each gets a database `convergeai_test` and a user `convergeai`
# (password `convergeai`) that may also create and drop databases named convergeai_test*
# and create users/roles. Works as root (servers run as the postgres/mysql system users)
# and as a normal user. Progress goes to stderr; stdout carries only the export lines.
# Extra server options: DBSERVERS_PG_OPTS (e.g. "-c log_statement=all"),
# DBSERVERS_MYSQL_OPTS (e.g. "--general-log=1").
set -euo pipefail

PG_PORT_BASE=${PG_PORT_BASE:-54329}
MYSQL_PORT_BASE=${MYSQL_PORT_BASE:-33069}
START_TIMEOUT=${DBSERVERS_START_TIMEOUT:-60}   # seconds, per server
STOP_TIMEOUT=${DBSERVERS_STOP_TIMEOUT:-30}
DB_NAME=convergeai_test
DB_USER=convergeai
DB_PASS=convergeai

say() { echo "dbservers: $*" >&2; }
die() { echo "dbservers: error: $*" >&2; exit 1; }

usage() {
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
DIR=$2
case "$cmd" in start|stop|env) ;; *) usage ;; esac
[ -n "$DIR" ] || usage
if [ "$cmd" = start ]; then
    mkdir -p "$DIR"
fi
if [ -d "$DIR" ]; then
    DIR=$(cd "$DIR" && pwd -P)
fi

PGDATA=$DIR/pg
PGLOG=$DIR/pg.log
MYDATA=$DIR/mysql
MYSOCK=$DIR/mysql/mysqld.sock
MYPID=$DIR/mysql/mysqld.pid
MYLOG=$DIR/mysql.log
ENVFILE=$DIR/env

is_root=0
[ "$(id -u)" -eq 0 ] && is_root=1

# --- helpers -----------------------------------------------------------------

# Run a command as the PostgreSQL server's owner (postgres when we are root).
as_pg() {
    if [ "$is_root" = 1 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

log_tail() {
    local f=$1
    if [ -s "$f" ]; then
        echo "----- last lines of $f -----" >&2
        tail -n 40 "$f" >&2
        echo "-----" >&2
    fi
}

port_free() {
    # True if nothing listens on / is bound to 127.0.0.1:$1.
    python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# Like the servers themselves: ignore TIME_WAIT leftovers, but fail on a live listener.
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
}

free_port() {
    local p=$1 end=$(( $1 + 200 ))
    while [ "$p" -lt "$end" ]; do
        if port_free "$p"; then echo "$p"; return 0; fi
        p=$(( p + 1 ))
    done
    die "no free TCP port on 127.0.0.1 in $1..$end"
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

find_pg_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir; return
    fi
    d=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")
    if [ -x "$d/initdb" ]; then echo "$d"; return; fi
    die "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin, pg_config, PATH);" \
        "install them with scripts/system-deps.sh or set PG_BINDIR"
}

find_exe() {
    # find_exe NAME... : first of NAME found in PATH or the sbin dirs
    local n d
    for n in "$@"; do
        if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
        for d in /usr/sbin /usr/local/sbin /usr/libexec /usr/local/bin /usr/bin; do
            if [ -x "$d/$n" ]; then echo "$d/$n"; return 0; fi
        done
    done
    return 1
}

pg_pid() {
    [ -f "$PGDATA/postmaster.pid" ] && head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null || true
}

mysql_pid() {
    local pid
    [ -f "$MYPID" ] || return 0
    pid=$(head -n 1 "$MYPID" 2>/dev/null || true)
    # Guard against a stale pid file whose pid was reused by another process.
    if pid_alive "$pid" && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$MYDATA"; then
        echo "$pid"
    fi
}

wait_gone() {
    # wait_gone PID SECONDS
    local pid=$1 i=0
    while pid_alive "$pid"; do
        [ "$i" -ge $(( $2 * 10 )) ] && return 1
        sleep 0.1
        i=$(( i + 1 ))
    done
    return 0
}

# --- PostgreSQL --------------------------------------------------------------

pg_start() {
    local bindir port attempt
    bindir=$(find_pg_bindir)
    if [ "$is_root" = 1 ]; then
        id postgres >/dev/null 2>&1 || die "no 'postgres' system user (PostgreSQL refuses to run as root)"
        # The server user must be able to reach DIR.
        chmod o+x "$DIR"
        if ! runuser -u postgres -- test -x "$DIR"; then
            die "user postgres cannot access $DIR (a parent directory is not world-searchable);" \
                "use a directory under /tmp"
        fi
    fi
    # Unix socket paths are limited to ~107 bytes.
    if [ $(( ${#PGDATA} + 20 )) -gt 107 ] || [ $(( ${#MYSOCK} )) -gt 100 ]; then
        die "$DIR is too long a path for unix sockets; use a shorter one (e.g. mktemp -d)"
    fi

    if [ ! -f "$PGDATA/PG_VERSION" ]; then
        say "initialising PostgreSQL ($("$bindir/postgres" --version)) in $PGDATA"
        rm -rf "$PGDATA"
        mkdir -p "$PGDATA"
        chmod 700 "$PGDATA"
        if [ "$is_root" = 1 ]; then chown postgres: "$PGDATA"; fi
        # Local (socket) connections are trusted, so the admin steps below need no
        # password; TCP connections need a real password, like a production server.
        if ! as_pg timeout 120 "$bindir/initdb" -D "$PGDATA" -U postgres \
                --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
                >"$DIR/pg-initdb.log" 2>&1; then
            log_tail "$DIR/pg-initdb.log"
            die "initdb failed (full output in $DIR/pg-initdb.log)"
        fi
    fi

    if pid_alive "$(pg_pid)"; then
        die "PostgreSQL already running in $PGDATA (pid $(pg_pid)); run '$0 stop $DIR' first"
    fi

    : > "$PGLOG"
    if [ "$is_root" = 1 ]; then chown postgres: "$PGLOG"; fi
    # Throw-away data: trade durability for speed.
    local PG_FAST_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    PG_FAST_OPTS+=" -c max_connections=200 ${DBSERVERS_PG_OPTS:-}"
    port=$PG_PORT_BASE
    for attempt in 1 2 3 4 5; do
        port=$(free_port "$port")
        if as_pg "$bindir/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w -t "$START_TIMEOUT" start \
                -o "-c listen_addresses=127.0.0.1 -p $port -k $PGDATA $PG_FAST_OPTS" \
                >/dev/null 2>>"$DIR/pg-ctl.log"; then
            PG_PORT=$port
            PG_STARTED=1
            break
        fi
        # Lost a race for the port with another process? Try the next one.
        if grep -q 'Address already in use' "$PGLOG" 2>/dev/null && [ "$attempt" -lt 5 ]; then
            say "PostgreSQL port $port taken meanwhile, retrying"
            port=$(( port + 1 ))
            continue
        fi
        log_tail "$DIR/pg-ctl.log"
        log_tail "$PGLOG"
        # pg_ctl -w gives up after the timeout but leaves a slow server running.
        as_pg "$bindir/pg_ctl" -D "$PGDATA" stop -m immediate >/dev/null 2>&1 || true
        die "PostgreSQL failed to start (log: $PGLOG)"
    done
    [ -n "${PG_PORT:-}" ] || die "PostgreSQL failed to start"

    local psql=("$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDATA" -p "$PG_PORT" -U postgres)
    if ! as_pg timeout 60 "${psql[@]}" -d postgres >"$DIR/pg-setup.log" 2>&1 <<EOF
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASS' CREATEDB CREATEROLE;
  ELSE
    ALTER ROLE $DB_USER LOGIN PASSWORD '$DB_PASS' CREATEDB CREATEROLE;
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_USER ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME')\gexec
EOF
    then
        log_tail "$DIR/pg-setup.log"
        die "creating the PostgreSQL role/database failed"
    fi
    say "PostgreSQL up on 127.0.0.1:$PG_PORT (socket dir $PGDATA)"
}

pg_stop() {
    local pid bindir
    pid=$(pg_pid)
    if ! pid_alive "$pid"; then
        return 0
    fi
    bindir=$(find_pg_bindir 2>/dev/null || true)
    if [ -n "$bindir" ] && as_pg timeout $(( STOP_TIMEOUT + 5 )) "$bindir/pg_ctl" -D "$PGDATA" \
            stop -m fast -w -t "$STOP_TIMEOUT" >/dev/null 2>&1; then
        say "PostgreSQL stopped"
        return 0
    fi
    say "pg_ctl stop failed; killing PostgreSQL (pid $pid)"
    kill -QUIT "$pid" 2>/dev/null || true     # immediate shutdown
    wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 5 || say "warning: PostgreSQL pid $pid still alive"
}

# --- MariaDB -----------------------------------------------------------------

mysql_start() {
    local mysqld install_db client port attempt pid i
    mysqld=$(find_exe mariadbd mysqld) || die "MariaDB server (mariadbd) not found; run scripts/system-deps.sh"
    install_db=$(find_exe mariadb-install-db mysql_install_db) || die "mariadb-install-db not found"
    client=$(find_exe mariadb mysql) || die "mariadb client not found"
    MYADMIN=$(find_exe mariadb-admin mysqladmin) || die "mariadb-admin not found"

    local user_opt=()
    if [ "$is_root" = 1 ]; then
        id mysql >/dev/null 2>&1 || die "no 'mysql' system user to run MariaDB as"
        chmod o+x "$DIR"
        runuser -u mysql -- test -x "$DIR" || die "user mysql cannot access $DIR; use a directory under /tmp"
        user_opt=(--user=mysql)
    fi

    if [ ! -d "$MYDATA/mysql" ]; then
        say "initialising MariaDB ($("$mysqld" --version | sed 's/^.*Ver //')) in $MYDATA"
        rm -rf "$MYDATA"
        mkdir -p "$MYDATA"
        if [ "$is_root" = 1 ]; then chown mysql: "$MYDATA"; fi
        # root@localhost gets no password (it is only reachable through the socket in
        # DIR); --skip-test-db: no anonymous `test` database.
        if ! (cd "$DIR" && timeout 180 "$install_db" --no-defaults "${user_opt[@]}" \
                --datadir="$MYDATA" --auth-root-authentication-method=normal \
                --skip-test-db --skip-name-resolve >"$DIR/mysql-install.log" 2>&1); then
            log_tail "$DIR/mysql-install.log"
            die "mariadb-install-db failed (full output in $DIR/mysql-install.log)"
        fi
    fi

    if pid_alive "$(mysql_pid)"; then
        die "MariaDB already running in $MYDATA (pid $(mysql_pid)); run '$0 stop $DIR' first"
    fi
    rm -f "$MYPID" "$MYSOCK"

    : > "$MYLOG"
    if [ "$is_root" = 1 ]; then chown mysql: "$MYLOG"; fi
    port=$MYSQL_PORT_BASE
    for attempt in 1 2 3 4 5; do
        port=$(free_port "$port")
        # setsid: own session, so a Ctrl-C in the calling terminal does not hit the server
        # (the caller's cleanup trap stops it properly).
        setsid "$mysqld" --no-defaults "${user_opt[@]}" \
            --datadir="$MYDATA" --socket="$MYSOCK" --pid-file="$MYPID" --log-error="$MYLOG" \
            --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
            --skip-log-bin --innodb-flush-log-at-trx-commit=0 --innodb-use-native-aio=0 \
            --innodb-buffer-pool-size=128M \
            --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
            --max-connections=200 ${DBSERVERS_MYSQL_OPTS:-} </dev/null >>"$MYLOG" 2>&1 &
        pid=$!
        i=0
        while :; do
            if "$MYADMIN" --no-defaults --socket="$MYSOCK" -uroot --connect-timeout=2 \
                    ping >/dev/null 2>&1; then
                MYSQL_PORT=$port
                MYSQL_STARTED=1
                break 2
            fi
            if ! pid_alive "$pid" && ! pid_alive "$(mysql_pid)"; then
                break
            fi
            if [ "$i" -ge $(( START_TIMEOUT * 5 )) ]; then
                kill -KILL "$pid" 2>/dev/null || true
                log_tail "$MYLOG"
                die "MariaDB did not answer within ${START_TIMEOUT}s (log: $MYLOG)"
            fi
            sleep 0.2
            i=$(( i + 1 ))
        done
        wait "$pid" 2>/dev/null || true
        if grep -qiE "Bind on TCP/IP port|Address already in use" "$MYLOG" && [ "$attempt" -lt 5 ]; then
            say "MariaDB port $port taken meanwhile, retrying"
            port=$(( port + 1 ))
            continue
        fi
        log_tail "$MYLOG"
        die "MariaDB failed to start (log: $MYLOG)"
    done
    [ -n "${MYSQL_PORT:-}" ] || die "MariaDB failed to start"

    # 'localhost' and '%' both: with --skip-name-resolve, TCP clients from 127.0.0.1 match '%'.
    if ! timeout 60 "$client" --no-defaults --socket="$MYSOCK" -uroot >"$DIR/mysql-setup.log" 2>&1 <<EOF
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON \`convergeai\\_test%\`.* TO '$DB_USER'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON \`convergeai\\_test%\`.* TO '$DB_USER'@'localhost' WITH GRANT OPTION;
GRANT CREATE USER ON *.* TO '$DB_USER'@'%';
GRANT CREATE USER ON *.* TO '$DB_USER'@'localhost';
FLUSH PRIVILEGES;
EOF
    then
        log_tail "$DIR/mysql-setup.log"
        die "creating the MariaDB user/database failed"
    fi
    say "MariaDB up on 127.0.0.1:$MYSQL_PORT (socket $MYSOCK)"
}

mysql_stop() {
    local pid
    pid=$(mysql_pid)
    if ! pid_alive "$pid"; then
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true   # mariadbd shuts down cleanly on SIGTERM
    if wait_gone "$pid" "$STOP_TIMEOUT"; then
        say "MariaDB stopped"
    else
        say "MariaDB (pid $pid) did not stop within ${STOP_TIMEOUT}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 5 || say "warning: MariaDB pid $pid still alive"
    fi
}

# --- commands ----------------------------------------------------------------

case "$cmd" in
    start)
        t0=$(date +%s.%N)
        if pid_alive "$(pg_pid)" || pid_alive "$(mysql_pid)"; then
            die "servers already running in $DIR; run '$0 stop $DIR' first"
        fi
        rm -f "$ENVFILE"
        # If anything below fails, do not leave the servers started so far running.
        PG_STARTED=0 MYSQL_STARTED=0
        trap 'rc=$?; if [ $rc -ne 0 ]; then
                  if [ "$PG_STARTED" = 1 ]; then pg_stop || true; fi
                  if [ "$MYSQL_STARTED" = 1 ]; then mysql_stop || true; fi
              fi' EXIT
        pg_start
        mysql_start
        cat > "$ENVFILE.tmp" <<EOF
export CONVERGEAI_TEST_POSTGRES_URL=postgresql+psycopg://$DB_USER:$DB_PASS@127.0.0.1:$PG_PORT/$DB_NAME
export CONVERGEAI_TEST_MYSQL_URL=mysql+pymysql://$DB_USER:$DB_PASS@127.0.0.1:$MYSQL_PORT/$DB_NAME?charset=utf8mb4
EOF
        mv "$ENVFILE.tmp" "$ENVFILE"
        say "servers ready in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s; env in $ENVFILE"
        cat "$ENVFILE"
        ;;
    stop)
        if [ ! -d "$DIR" ]; then
            exit 0
        fi
        rc=0
        pg_stop || rc=1
        mysql_stop || rc=1
        rm -f "$ENVFILE"
        exit $rc
        ;;
    env)
        [ -f "$ENVFILE" ] || die "no $ENVFILE; run '$0 start $DIR' first"
        cat "$ENVFILE"
        ;;
esac
