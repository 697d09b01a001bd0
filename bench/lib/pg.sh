# shellcheck shell=bash
# bench/lib/pg.sh — a private PostgreSQL 15 for Kea's PostgreSQL lease backend (server kea-pg of
# bench/lib/servers.sh). Sourced by servers.sh.
#
# Each cluster lives in a folder of the bench's work tree, listens on a Unix socket in that folder only
# (listen_addresses '', so no TCP port at all), and keeps the durability settings on: fsync, synchronous
# commit and full-page writes (Kea commits each lease in its own transaction, so every ACK waits for
# one WAL flush, as joind's waits for its fsync). It runs as the unprivileged user postgres (initdb
# and postgres refuse root), pinned to PG_CPU (the server's CPU: an appliance shares its cores), inside
# the bed's server namespace, started through bed_spawn (recorded by PID, bounded by BED_LIFETIME) and
# stopped by that PID: SIGINT (fast shutdown), then bed_stop_pid's TERM and KILL. Nothing here looks a
# process up by name.
#
# The cluster is made once per bench (initdb, role and database kea, Kea's schema by kea-admin db-init)
# in PG_TEMPLATE, and copied for each run, so that each run starts from an empty lease4 table.

: "${PG_BIN:=/usr/lib/postgresql/15/bin}"
: "${PG_CPU:=${SRV_CPU:-0}}"
: "${PG_USER:=postgres}"
# The role and database Kea uses, and its password (password authentication over the socket, as an
# installation would have it; the socket's folder is readable by the postgres user only).
PG_KEA_DB=kea PG_KEA_USER=kea PG_KEA_PASSWORD=kea-bench PG_SUPER_PASSWORD=postgres-bench
PG_PID="" PG_PID_START="" PG_WRAP="" PG_WRAP_START="" PG_SOCK="" PG_DATA=""

# pg_missing — print what kea-pg needs and is not installed; empty when everything is there.
pg_missing() {
  local c
  for c in "$PG_BIN/initdb" "$PG_BIN/postgres" "$PG_BIN/pg_isready" "$PG_BIN/psql"; do
    [ -x "$c" ] || printf '%s (postgresql-15) ' "$c"
  done
  command -v kea-admin >/dev/null || printf 'kea-admin (kea-admin) '
  [ -f /usr/share/kea/scripts/pgsql/dhcpdb_create.pgsql ] || printf 'Kea pgsql scripts (kea-admin) '
  getent passwd "$PG_USER" >/dev/null || printf 'user %s (postgresql-common) ' "$PG_USER"
}

# pg_version — the server's version line.
pg_version() { "$PG_BIN/postgres" --version; }

# _pg_owner_prefix — sets PG_AS_OWNER to the words that run a command as the postgres user when we are
# root (nothing otherwise). setpriv execs the command: its PID stays the one bed_spawn records.
_pg_owner_prefix() {
  PG_AS_OWNER=()
  [ "$(id -u)" = 0 ] && PG_AS_OWNER=(setpriv --reuid="$PG_USER" --regid="$PG_USER" --init-groups --)
  return 0
}

# _pg_own DIR... — make DIR the postgres user's, mode 700 (initdb and postgres insist on it).
_pg_own() {
  mkdir -p "$@" || return 1
  [ "$(id -u)" = 0 ] && { chown "$PG_USER:" "$@" || return 1; }
  chmod 700 "$@"
}

# _psql DB USER PASSWORD SQL — one statement over the socket, unaligned output, no headers.
_psql() {
  PGPASSWORD=$3 timeout 30 "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_SOCK" -U "$2" -d "$1" -c "$4"
}

# pg_start DATA SOCK LOG — start the cluster in DATA with its socket in SOCK (both the postgres user's),
# wait (≤ 30 s) until it accepts connections. Sets PG_PID/PG_WRAP (and their start times), PG_SOCK and
# PG_DATA. On failure prints the log's tail, stops what it started and returns 1.
pg_start() {
  local data=$1 sock=$2 log=$3
  if [ $(( ${#sock} + 17 )) -gt 107 ]; then
    echo "pg: socket path $sock/.s.PGSQL.5432 is longer than a Unix socket address allows" >&2; return 1
  fi
  PG_SOCK=$sock PG_DATA=$data
  # -k: the socket's folder; listen_addresses '': no TCP socket. The durability settings are the defaults,
  # named here so that the bench states them and no configuration file can change them.
  _pg_owner_prefix
  bed_spawn "$BENCH_P" "$(bed_ns "$BENCH_P" srv)" postgres "$log" -- taskset -c "$PG_CPU" "${PG_AS_OWNER[@]}" \
    "$PG_BIN/postgres" -D "$data" -k "$sock" -c listen_addresses= -c fsync=on -c synchronous_commit=on \
    -c full_page_writes=on -c log_min_messages=warning -c log_checkpoints=off
  PG_WRAP=$BED_PID PG_PID=$BED_CMD_PID
  PG_WRAP_START=$(bed_proc_start "$PG_WRAP" 2>/dev/null || echo -)
  PG_PID_START=$(bed_proc_start "$PG_PID" 2>/dev/null || echo -)
  if ! bed_wait_for 30 _pg_ready; then
    echo "pg: PostgreSQL in $data did not start; its log:" >&2
    tail -n 20 "$log" >&2
    pg_stop
    return 1
  fi
}

_pg_ready() {
  bed_proc_alive "$PG_PID" "$PG_PID_START" || return 1
  "$PG_BIN/pg_isready" -q -h "$PG_SOCK" -t 1 >/dev/null 2>&1
}

# pg_stop — stop the cluster pg_start started, by its PID: SIGINT (fast shutdown: open sessions are
# ended, a shutdown checkpoint written), up to 20 s; then TERM and KILL (bed_stop_pid) to the wrapper and
# the postmaster. Idempotent.
pg_stop() {
  local rc=0
  if [ -n "$PG_PID" ] && [ "$PG_PID" != - ] && bed_proc_alive "$PG_PID" "$PG_PID_START"; then
    kill -INT "$PG_PID" 2>/dev/null
    _bed_wait_gone "$PG_PID" "$PG_PID_START" 20 || echo "pg: PostgreSQL $PG_PID still runs 20 s after SIGINT" >&2
  fi
  if [ -n "$PG_WRAP" ]; then bed_stop_pid "$PG_WRAP" "$PG_WRAP_START" || rc=1; fi
  if [ -n "$PG_PID" ] && [ "$PG_PID" != - ] && bed_proc_alive "$PG_PID" "$PG_PID_START"; then
    bed_stop_pid "$PG_PID" "$PG_PID_START" || rc=1
  fi
  PG_PID="" PG_PID_START="" PG_WRAP="" PG_WRAP_START=""
  return $rc
}

# pg_lease4_rows — the number of rows in Kea's lease4 table (the cluster must be running).
pg_lease4_rows() { _psql "$PG_KEA_DB" "$PG_KEA_USER" "$PG_KEA_PASSWORD" 'SELECT count(*) FROM lease4'; }

# pg_template DIR — make DIR/data once: an initialised cluster (scram-sha-256 passwords, C locale) with
# the role and database kea and Kea's schema (kea-admin db-init pgsql), shut down cleanly. Log in
# DIR/setup.log.
pg_template() {
  local t=$1 log=$1/setup.log
  [ -f "$t/data/PG_VERSION" ] && [ -f "$t/ready" ] && return 0
  local missing
  missing=$(pg_missing)
  [ -z "$missing" ] || { echo "pg: missing: $missing" >&2; return 1; }
  rm -rf "$t"
  mkdir -p "$t" && _pg_own "$t/data" "$t/sock" || return 1
  printf '%s\n' "$PG_SUPER_PASSWORD" > "$t/superpw" && { [ "$(id -u)" != 0 ] || chown "$PG_USER:" "$t/superpw"; } || return 1
  # --no-sync: only initdb's own final sync is skipped (the template is copied before any use and the
  # copy's writes are the running server's, with fsync on).
  if ! (cd "$t" && _pg_owner_prefix && timeout 120 "${PG_AS_OWNER[@]}" "$PG_BIN/initdb" -D "$t/data" -U postgres --pwfile="$t/superpw" \
      --auth=scram-sha-256 --no-locale -E UTF8 --no-sync) >> "$log" 2>&1; then
    echo "pg: initdb failed; its log:" >&2; tail -n 20 "$log" >&2; return 1
  fi
  rm -f "$t/superpw"
  pg_start "$t/data" "$t/sock" "$log" || return 1
  if ! { _psql postgres postgres "$PG_SUPER_PASSWORD" \
           "CREATE ROLE $PG_KEA_USER LOGIN PASSWORD '$PG_KEA_PASSWORD'" &&
         _psql postgres postgres "$PG_SUPER_PASSWORD" "CREATE DATABASE $PG_KEA_DB OWNER $PG_KEA_USER" &&
         timeout 60 kea-admin db-init pgsql -h "$t/sock" -u "$PG_KEA_USER" -p "$PG_KEA_PASSWORD" -n "$PG_KEA_DB"; } >> "$log" 2>&1; then
    echo "pg: creating Kea's database failed; the log:" >&2; tail -n 20 "$log" >&2
    pg_stop; return 1
  fi
  pg_stop || return 1
  : > "$t/ready"
}
