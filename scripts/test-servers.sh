#!/usr/bin/env bash
# Throw-away MariaDB and PostgreSQL instances for halocheck's integration tests.
#
#   scripts/test-servers.sh start          start both (idempotent)
#   scripts/test-servers.sh stop [--purge] stop both (--purge: delete all data)
#   scripts/test-servers.sh status         show both; exit 0 only if both answer
#   scripts/test-servers.sh env            print export lines for the test URLs
#
# Environment:
#   HALOCHECK_TEST_DIR        data/sockets/logs (default /tmp/halocheck-test-servers)
#   HALOCHECK_TEST_MYSQL_PORT MariaDB port     (default 23306)
#   HALOCHECK_TEST_PG_PORT    PostgreSQL port  (default 25432)
#   HALOCHECK_TEST_RUN_USER   account the servers run as when started by root
#                             (default halocheck; created if missing)
#
# The servers listen on 127.0.0.1 only.  Credentials (test-only):
# user halocheck, password halocheck-test, database halocheck.
set -euo pipefail

# useradd, mariadbd, runuser live in sbin, which a non-login root shell may lack.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

DB_USER=halocheck
DB_PASSWORD=halocheck-test
DB_NAME=halocheck
MY_PORT=${HALOCHECK_TEST_MYSQL_PORT:-23306}
PG_PORT=${HALOCHECK_TEST_PG_PORT:-25432}
TIMEOUT=60
MARKER=.halocheck-test-servers

log() { printf 'test-servers: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for p in "$MY_PORT" "$PG_PORT"; do
    if ! [[ $p =~ ^[1-9][0-9]{0,4}$ ]] || (( p > 65535 )); then
        die "invalid port: '$p'"
    fi
done
[[ $MY_PORT != "$PG_PORT" ]] || die "MariaDB and PostgreSQL ports must differ"

DIR=${HALOCHECK_TEST_DIR:-/tmp/halocheck-test-servers}
[[ $DIR == /* ]] || DIR="$PWD/$DIR"
DIR=${DIR%/}
[[ -n $DIR ]] || die "HALOCHECK_TEST_DIR must not be /"

RUN_DIR="$DIR/run"              # sockets, pid files (0700)
LOG_DIR="$DIR/log"
MY_DATA="$DIR/mysql"
PG_DATA="$DIR/pg"
MY_SOCK="$RUN_DIR/mysqld.sock"
MY_PID="$RUN_DIR/mysqld.pid"
MY_LOG="$LOG_DIR/mariadb.log"
PG_LOG="$LOG_DIR/postgresql.log"
ENV_FILE="$DIR/env"

ME=$(id -un)
if (( EUID == 0 )); then
    RUN_USER=${HALOCHECK_TEST_RUN_USER:-halocheck}
else
    RUN_USER=$ME
fi

# Server processes must not inherit a working directory that the unprivileged
# account cannot enter (e.g. a repository under /root).
cd /

# ------------------------------------------------------------------ helpers --

# Run a command as the account that owns the servers.
as_run_user() {
    if [[ $RUN_USER == "$ME" ]]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$RUN_USER" -- "$@"
    else
        su -s /bin/sh "$RUN_USER" -c "$(printf '%q ' "$@")"
    fi
}

find_prog() { # name, extra dirs...
    local name=$1 d
    shift
    for d in "$@"; do
        if [[ -x $d/$name ]]; then printf '%s\n' "$d/$name"; return 0; fi
    done
    command -v "$name" 2>/dev/null
}

find_programs() {
    MARIADBD=$(find_prog mariadbd /usr/sbin /usr/libexec /usr/local/sbin) \
        || MARIADBD=$(find_prog mysqld /usr/sbin /usr/libexec) \
        || die "mariadbd not found; run scripts/install.sh"
    MARIADB_INSTALL_DB=$(find_prog mariadb-install-db /usr/bin /usr/local/bin) \
        || MARIADB_INSTALL_DB=$(find_prog mysql_install_db /usr/bin) \
        || die "mariadb-install-db not found; run scripts/install.sh"
    MARIADB=$(find_prog mariadb /usr/bin) || MARIADB=$(find_prog mysql /usr/bin) \
        || die "mariadb client not found; run scripts/install.sh"

    # Newest PostgreSQL server installed (Debian: /usr/lib/postgresql/<ver>/bin).
    local d
    PG_BIN=
    while IFS= read -r d; do
        [[ -x $d/initdb && -x $d/pg_ctl ]] && PG_BIN=$d
    done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -V)
    if [[ -z $PG_BIN ]]; then
        local initdb
        initdb=$(command -v initdb 2>/dev/null) \
            || die "PostgreSQL server (initdb) not found; run scripts/install.sh"
        PG_BIN=$(dirname "$initdb")
    fi
    PSQL=$(find_prog psql "$PG_BIN" /usr/bin) || die "psql not found; run scripts/install.sh"
}

# True if something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
    # shellcheck disable=SC2016  # $1 is expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# True if pid $1 is alive and its program name matches pattern $2.
pid_is() {
    local pid=$1 comm
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    { read -r comm <"/proc/$pid/comm"; } 2>/dev/null || return 1
    [[ $comm =~ ^($2)$ ]]
}

read_pid() { # file -> first line, or nothing
    local pid=
    [[ -r $1 ]] && { read -r pid <"$1" || true; }
    printf '%s' "$pid"
}

# MariaDB writes its pid file only late during startup, so fall back to
# looking for a mariadbd process started with our --datadir.
my_pid() {
    local pid f arg
    local -a args
    pid=$(read_pid "$MY_PID")
    if pid_is "$pid" 'mariadbd|mysqld'; then echo "$pid"; return 0; fi
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}; pid=${pid%/cmdline}
        pid_is "$pid" 'mariadbd|mysqld' || continue
        mapfile -d '' args <"$f" 2>/dev/null || continue
        for arg in "${args[@]}"; do
            if [[ $arg == "--datadir=$MY_DATA" ]]; then echo "$pid"; return 0; fi
        done
    done
    return 1
}
pg_pid() { local pid; pid=$(read_pid "$PG_DATA/postmaster.pid"); pid_is "$pid" 'postgres' && echo "$pid"; }

# Port a running instance was started on (recorded at start).
recorded_port() { local p=; [[ -r $1 ]] && read -r p <"$1"; printf '%s' "$p"; }

my_query_tcp() { # sql -> runs as halocheck over TCP
    MYSQL_PWD=$DB_PASSWORD "$MARIADB" --no-defaults --protocol=tcp -h 127.0.0.1 \
        -P "$MY_PORT" -u "$DB_USER" --connect-timeout=3 -N -B -e "$1" "$DB_NAME"
}
pg_query_tcp() {
    PGPASSWORD=$DB_PASSWORD PGCONNECT_TIMEOUT=3 "$PSQL" -X -w -q -A -t \
        -h 127.0.0.1 -p "$PG_PORT" -U "$DB_USER" -d "$DB_NAME" -c "$1"
}
my_answers() { my_query_tcp 'SELECT 1' >/dev/null 2>&1; }
pg_answers() { pg_query_tcp 'SELECT 1' >/dev/null 2>&1; }

fail_with_log() { # name logfile message
    log "error: $1: $3"
    if [[ -s $2 ]]; then
        log "last lines of $2:"
        tail -n 25 "$2" >&2
    fi
    exit 1
}

# wait_until NAME LOG PIDFUNC CHECKFUNC: wait for CHECKFUNC to succeed while
# the server process stays alive.
wait_until() {
    local name=$1 logf=$2 pidf=$3 check=$4 i
    for ((i = 0; i < TIMEOUT * 2; i++)); do
        if "$check"; then return 0; fi
        # Give the server a few seconds to write its pid file before
        # concluding that it died.
        if (( i > 10 )) && ! "$pidf" >/dev/null; then
            fail_with_log "$name" "$logf" "server exited during startup"
        fi
        sleep 0.5
    done
    fail_with_log "$name" "$logf" "not accepting queries after ${TIMEOUT}s"
}

# ------------------------------------------------------------ directory ----

ensure_run_user() {
    (( EUID == 0 )) || return 0
    if ! id -u "$RUN_USER" >/dev/null 2>&1; then
        log "creating system account '$RUN_USER'"
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$RUN_USER" \
            || die "could not create account '$RUN_USER'"
    fi
    [[ $(id -u "$RUN_USER") != 0 ]] || die "HALOCHECK_TEST_RUN_USER must not be root"
}

# Create $DIR (owned by the run user) or check an existing one is ours.
ensure_dir() {
    [[ ! -L $DIR ]] || die "$DIR is a symlink; refusing to use it"
    if [[ -e $DIR ]]; then
        [[ -d $DIR ]] || die "$DIR exists and is not a directory"
        local owner
        owner=$(stat -c %U "$DIR")
        [[ $owner == "$RUN_USER" ]] \
            || die "$DIR is owned by '$owner', not '$RUN_USER'; remove it or set HALOCHECK_TEST_DIR"
        [[ -e $DIR/$MARKER ]] \
            || [[ -z $(ls -A "$DIR") ]] \
            || die "$DIR exists but was not created by this script; remove it or set HALOCHECK_TEST_DIR"
    else
        mkdir -p "$DIR"
        (( EUID != 0 )) || chown "$RUN_USER:" "$DIR"
    fi
    chmod 0755 "$DIR"
    as_run_user test -w "$DIR" \
        || die "'$RUN_USER' cannot write to $DIR (is a parent directory private?); set HALOCHECK_TEST_DIR"
    as_run_user mkdir -p "$RUN_DIR" "$LOG_DIR"
    as_run_user chmod 0700 "$RUN_DIR"
    as_run_user touch "$DIR/$MARKER"
}

# ------------------------------------------------------------------ MariaDB --

mariadb_start() {
    local pid
    if pid=$(my_pid); then
        local was
        was=$(recorded_port "$RUN_DIR/mariadb.port")
        [[ -z $was || $was == "$MY_PORT" ]] \
            || die "MariaDB is already running on port $was (pid $pid); run 'stop' first to change the port"
        wait_until MariaDB "$MY_LOG" my_pid my_answers
        log "MariaDB already running (pid $pid, port $MY_PORT)"
        return 0
    fi
    if port_in_use "$MY_PORT"; then
        die "port $MY_PORT (MariaDB) is already in use by another program; set HALOCHECK_TEST_MYSQL_PORT to a free port"
    fi

    local fresh=0
    if [[ ! -d $MY_DATA/mysql ]]; then
        fresh=1
        log "initialising MariaDB data directory $MY_DATA"
        as_run_user rm -rf "$MY_DATA"
        as_run_user mkdir -m 0700 "$MY_DATA"
        # Administrative access: via the unix socket only, for root and for
        # the account running this script (unix_socket authentication).
        if ! as_run_user "$MARIADB_INSTALL_DB" --no-defaults --datadir="$MY_DATA" \
                --auth-root-authentication-method=socket --auth-root-socket-user="$ME" \
                --skip-test-db --skip-name-resolve >"$LOG_DIR/mariadb-install-db.log" 2>&1; then
            as_run_user rm -rf "$MY_DATA"
            fail_with_log MariaDB "$LOG_DIR/mariadb-install-db.log" "mariadb-install-db failed"
        fi
    fi

    log "starting MariaDB on 127.0.0.1:$MY_PORT"
    as_run_user rm -f "$MY_PID" "$MY_SOCK"
    echo "$MY_PORT" | as_run_user tee "$RUN_DIR/mariadb.port" >/dev/null
    # setsid -f (detach, own session) and all fds redirected: the server must
    # not keep the caller's terminal or pipes (`$(...)`, CI log capture) open.
    as_run_user setsid -f "$MARIADBD" --no-defaults \
        --datadir="$MY_DATA" --socket="$MY_SOCK" --pid-file="$MY_PID" \
        --port="$MY_PORT" --bind-address=127.0.0.1 --log-error="$MY_LOG" \
        --skip-name-resolve --skip-log-bin \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
        --innodb-buffer-pool-size=64M --innodb-log-file-size=48M \
        --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
        --performance-schema=OFF --max-connections=200 \
        </dev/null >>"$LOG_DIR/mariadb.stdout" 2>&1 \
        || fail_with_log MariaDB "$LOG_DIR/mariadb.stdout" "could not launch mariadbd"

    if (( fresh )) || [[ ! -e $MY_DATA/.halocheck-setup-done ]]; then
        my_admin_ready() {
            "$MARIADB" --no-defaults --socket="$MY_SOCK" -u "$ME" -N -B \
                -e 'SELECT 1' >/dev/null 2>&1
        }
        wait_until MariaDB "$MY_LOG" my_pid my_admin_ready
        local u
        {
            for u in "'$DB_USER'@'127.0.0.1'" "'$DB_USER'@'localhost'"; do
                printf "CREATE USER IF NOT EXISTS %s IDENTIFIED BY '%s';\n" "$u" "$DB_PASSWORD"
                printf "ALTER USER %s IDENTIFIED BY '%s';\n" "$u" "$DB_PASSWORD"
                printf "GRANT ALL PRIVILEGES ON *.* TO %s WITH GRANT OPTION;\n" "$u"
            done
            # shellcheck disable=SC2016  # backquotes are SQL quoting
            printf 'CREATE DATABASE IF NOT EXISTS `%s`;\n' "$DB_NAME"
        } | "$MARIADB" --no-defaults --socket="$MY_SOCK" -u "$ME" \
                >>"$LOG_DIR/mariadb-setup.log" 2>&1 \
            || fail_with_log MariaDB "$LOG_DIR/mariadb-setup.log" "creating user/database failed"
        as_run_user touch "$MY_DATA/.halocheck-setup-done"
    fi
    wait_until MariaDB "$MY_LOG" my_pid my_answers
    log "MariaDB ready (pid $(my_pid), port $MY_PORT)"
}

mariadb_stop() {
    local pid i
    if ! pid=$(my_pid); then
        log "MariaDB not running"
        return 0
    fi
    log "stopping MariaDB (pid $pid)"
    kill -TERM "$pid"
    for ((i = 0; i < TIMEOUT * 2; i++)); do
        pid_is "$pid" 'mariadbd|mysqld' || { log "MariaDB stopped"; return 0; }
        sleep 0.5
    done
    log "MariaDB did not stop within ${TIMEOUT}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

# --------------------------------------------------------------- PostgreSQL --

pg_start() {
    local pid
    if pid=$(pg_pid); then
        local was
        was=$(recorded_port "$RUN_DIR/postgresql.port")
        [[ -z $was || $was == "$PG_PORT" ]] \
            || die "PostgreSQL is already running on port $was (pid $pid); run 'stop' first to change the port"
        wait_until PostgreSQL "$PG_LOG" pg_pid pg_answers
        log "PostgreSQL already running (pid $pid, port $PG_PORT)"
        return 0
    fi
    if port_in_use "$PG_PORT"; then
        die "port $PG_PORT (PostgreSQL) is already in use by another program; set HALOCHECK_TEST_PG_PORT to a free port"
    fi

    if [[ ! -s $PG_DATA/PG_VERSION ]]; then
        log "initialising PostgreSQL data directory $PG_DATA ($PG_BIN)"
        as_run_user rm -rf "$PG_DATA"
        local pwfile="$RUN_DIR/pg-pwfile"
        (umask 077; printf '%s\n' "$DB_PASSWORD" | as_run_user tee "$pwfile" >/dev/null)
        if ! as_run_user "$PG_BIN/initdb" -D "$PG_DATA" -U "$DB_USER" --pwfile="$pwfile" \
                --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C \
                --no-sync >"$LOG_DIR/initdb.log" 2>&1; then
            as_run_user rm -f "$pwfile"
            as_run_user rm -rf "$PG_DATA"
            fail_with_log PostgreSQL "$LOG_DIR/initdb.log" "initdb failed"
        fi
        as_run_user rm -f "$pwfile"
        printf "include_if_exists = 'halocheck.conf'\n" \
            | as_run_user tee -a "$PG_DATA/postgresql.conf" >/dev/null
    fi

    # Rewritten on every start so port/paths follow the current settings.
    # (Local socket connections are trusted: the socket directory is 0700.)
    cat <<EOF | as_run_user tee "$PG_DATA/halocheck.conf" >/dev/null
# Written by scripts/test-servers.sh; overwritten on every start.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$RUN_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 64MB
max_connections = 200
EOF

    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    echo "$PG_PORT" | as_run_user tee "$RUN_DIR/postgresql.port" >/dev/null
    as_run_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -W start \
        </dev/null >"$LOG_DIR/pg_ctl.log" 2>&1 \
        || fail_with_log PostgreSQL "$LOG_DIR/pg_ctl.log" "pg_ctl start failed"

    pg_admin_ready() {
        "$PSQL" -X -w -q -A -t -h "$RUN_DIR" -p "$PG_PORT" -U "$DB_USER" -d postgres \
            -c 'SELECT 1' >/dev/null 2>&1
    }
    wait_until PostgreSQL "$PG_LOG" pg_pid pg_admin_ready
    local exists
    exists=$("$PSQL" -X -w -q -A -t -h "$RUN_DIR" -p "$PG_PORT" -U "$DB_USER" -d postgres \
        -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")
    if [[ $exists != 1 ]]; then
        "$PSQL" -X -w -q -h "$RUN_DIR" -p "$PG_PORT" -U "$DB_USER" -d postgres \
            -c "CREATE DATABASE \"$DB_NAME\"" >/dev/null \
            || fail_with_log PostgreSQL "$PG_LOG" "CREATE DATABASE failed"
    fi
    wait_until PostgreSQL "$PG_LOG" pg_pid pg_answers
    log "PostgreSQL ready (pid $(pg_pid), port $PG_PORT)"
}

pg_stop() {
    local pid
    if ! pid=$(pg_pid); then
        log "PostgreSQL not running"
        return 0
    fi
    log "stopping PostgreSQL (pid $pid)"
    if ! as_run_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -t "$TIMEOUT" -w stop >/dev/null; then
        log "PostgreSQL did not stop; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    log "PostgreSQL stopped"
}

# ----------------------------------------------------------------- commands --

print_env() {
    printf 'export HALOCHECK_TEST_MYSQL_URL=mysql://%s:%s@127.0.0.1:%s/%s\n' \
        "$DB_USER" "$DB_PASSWORD" "$MY_PORT" "$DB_NAME"
    printf 'export HALOCHECK_TEST_PG_URL=postgres://%s:%s@127.0.0.1:%s/%s\n' \
        "$DB_USER" "$DB_PASSWORD" "$PG_PORT" "$DB_NAME"
}

# Fail early, before starting anything, if a port we need (and do not
# already serve) is taken by another program.
check_ports() {
    local busy=
    if ! my_pid >/dev/null && port_in_use "$MY_PORT"; then
        busy+="${busy:+,} $MY_PORT (MariaDB; set HALOCHECK_TEST_MYSQL_PORT)"
    fi
    if ! pg_pid >/dev/null && port_in_use "$PG_PORT"; then
        busy+="${busy:+,} $PG_PORT (PostgreSQL; set HALOCHECK_TEST_PG_PORT)"
    fi
    [[ -z $busy ]] || die "port(s) already in use by another program:$busy"
}

cmd_start() {
    find_programs
    check_ports
    ensure_run_user
    ensure_dir
    mariadb_start
    pg_start
    print_env >"$ENV_FILE.tmp"
    chmod 0644 "$ENV_FILE.tmp"
    mv -f "$ENV_FILE.tmp" "$ENV_FILE"
    log "test servers ready; environment in $ENV_FILE"
}

cmd_stop() {
    local purge=0
    case ${1-} in
        '') ;;
        --purge) purge=1 ;;
        *) die "usage: $0 stop [--purge]" ;;
    esac
    if [[ ! -d $DIR ]]; then
        log "nothing to stop ($DIR does not exist)"
        return 0
    fi
    find_programs
    mariadb_stop
    pg_stop
    if (( purge )); then
        [[ -e $DIR/$MARKER ]] || die "$DIR lacks $MARKER; not deleting it"
        log "removing $DIR"
        rm -rf "$DIR"
    fi
}

cmd_status() {
    local rc=0 pid
    find_programs
    if pid=$(my_pid); then
        if my_answers; then
            echo "MariaDB:    running, pid $pid, 127.0.0.1:$MY_PORT, answering"
        else
            echo "MariaDB:    running, pid $pid, but NOT answering on 127.0.0.1:$MY_PORT"; rc=1
        fi
    else
        echo "MariaDB:    not running"; rc=1
    fi
    if pid=$(pg_pid); then
        if pg_answers; then
            echo "PostgreSQL: running, pid $pid, 127.0.0.1:$PG_PORT, answering"
        else
            echo "PostgreSQL: running, pid $pid, but NOT answering on 127.0.0.1:$PG_PORT"; rc=1
        fi
    else
        echo "PostgreSQL: not running"; rc=1
    fi
    echo "Directory:  $DIR"
    return "$rc"
}

case ${1-} in
    start) shift; (( $# == 0 )) || die "usage: $0 start"; cmd_start ;;
    stop) shift; cmd_stop "$@" ;;
    status) cmd_status ;;
    env) print_env ;;
    *) echo "usage: $0 start|stop [--purge]|status|env" >&2; exit 2 ;;
esac
