#!/usr/bin/env bash
# PostgreSQL from Debian's packages: a private cluster on loopback, one database per service.
#
#   postgres.sh up       install the server if missing (apt), init the cluster (once), start, create databases
#   postgres.sh down     stop the cluster this script started (and nothing else)
#   postgres.sh status   say whether it is running
#   postgres.sh clean    stop it and delete its data
#
# Settings (environment): RCM_PG_PORT, RCM_PG_DATA, RCM_PG_DATABASES, RCM_PG_USER; RCM_PG_STAT_STATEMENTS=1
# loads pg_stat_statements when the server starts (statement counts for the benchmarks).
# Authentication is "trust" on 127.0.0.1 only: this cluster is for development and tests.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

PGDATA_DIR="$RCM_PG_DATA/data"
SOCKDIR="$RCM_PG_DATA/sock"
LOGFILE="$RCM_PG_DATA/server.log"

find_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return; fi
  done
}

install_server() {
  command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed and apt-get is not available: install the PostgreSQL server (initdb, pg_ctl) yourself"
  say "installing PostgreSQL from Debian's packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
    || die "apt-get update failed (is the Debian mirror reachable?)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
    || die "apt-get install postgresql failed"
}

# PostgreSQL refuses to run as root: when we are root, run its tools as the postgres user.
run_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

BINDIR="$(find_bindir)"

psql_admin() {
  "$BINDIR/psql" -X -q -h "$RCM_HOST" -p "$RCM_PG_PORT" -U "$RCM_PG_USER" -d postgres -v ON_ERROR_STOP=1 "$@"
}

is_running() {
  [ -n "$BINDIR" ] && [ -f "$PGDATA_DIR/PG_VERSION" ] && run_pg "$BINDIR/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

init_cluster() {
  mkdir -p "$RCM_PG_DATA" "$SOCKDIR"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$RCM_PG_DATA"
    runuser -u postgres -- test -w "$RCM_PG_DATA" \
      || die "the postgres user cannot write $RCM_PG_DATA (a parent directory is not traversable); set RCM_PG_DATA elsewhere"
  fi
  chmod 700 "$RCM_PG_DATA"
  if [ -f "$PGDATA_DIR/PG_VERSION" ]; then return; fi
  say "initialising a cluster in $PGDATA_DIR"
  run_pg "$BINDIR/initdb" -D "$PGDATA_DIR" -U "$RCM_PG_USER" --auth=trust -E UTF8 --locale=C.UTF-8 >"$RCM_PG_DATA/initdb.log" 2>&1 \
    || die "initdb failed: $(tail -n 5 "$RCM_PG_DATA/initdb.log")"
  run_pg tee -a "$PGDATA_DIR/postgresql.auto.conf" >/dev/null <<CONF
# set by deploy/local/postgres.sh
listen_addresses = '$RCM_HOST'
port = $RCM_PG_PORT
unix_socket_directories = '$SOCKDIR'
max_connections = 300
shared_buffers = 256MB
CONF
}

up() {
  if [ -z "$BINDIR" ]; then
    install_server
    BINDIR="$(find_bindir)"
    [ -n "$BINDIR" ] || die "PostgreSQL was installed but initdb/pg_ctl were not found under /usr/lib/postgresql"
  fi
  init_cluster
  if is_running; then
    say "already running on $RCM_HOST:$RCM_PG_PORT"
  else
    # keep the port setting in step with the environment on every start
    local extra=""
    # statement statistics for the benchmarks (bench/pipeline reads them when loaded); off by default
    [ "${RCM_PG_STAT_STATEMENTS:-0}" = "1" ] && extra=" -c shared_preload_libraries=pg_stat_statements"
    run_pg "$BINDIR/pg_ctl" -D "$PGDATA_DIR" -l "$LOGFILE" -w -t 60 \
      -o "-p $RCM_PG_PORT -c listen_addresses=$RCM_HOST -c unix_socket_directories=$SOCKDIR$extra" start >/dev/null \
      || die "PostgreSQL did not start: $(tail -n 5 "$LOGFILE" 2>/dev/null)"
    say "started on $RCM_HOST:$RCM_PG_PORT ($("$BINDIR/postgres" --version))"
  fi
  local db
  for db in $RCM_PG_DATABASES; do
    if [ -z "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
      psql_admin -c "CREATE DATABASE \"$db\"" && say "created database $db"
    fi
  done
}

down() {
  if is_running; then
    say "stopping PostgreSQL ($PGDATA_DIR)"
    run_pg "$BINDIR/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null
  else
    say "not running (nothing started by this script)"
  fi
}

status() {
  if is_running; then echo "postgres: running on $RCM_HOST:$RCM_PG_PORT ($PGDATA_DIR)"
  else echo "postgres: not running"; return 1
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  clean) down; rm -rf "$RCM_PG_DATA"; say "removed $RCM_PG_DATA" ;;
  *) echo "usage: $0 up|down|status|clean" >&2; exit 2 ;;
esac
