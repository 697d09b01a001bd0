# shellcheck shell=bash
# bench/lib/servers.sh — joind and its peers with equivalent configurations: one pool over a /16
# (10.80.0.10–10.80.255.250 of 10.80.0.0/16, unless SRV_NET/SRV_MASK/SRV_FIRST/SRV_LAST say otherwise),
# 3600 s leases, leases on disk, no ping check, no naming, logging only warnings. Each server_start_NAME WORKDIR
# writes its configuration into WORKDIR, starts the server pinned to CPU 0 in the bed's server
# namespace and sets SRV_PID (the server process, for CPU and RSS) and SRV_WRAP (what bed_stop stops).
# Readiness is measured from outside, by the probe, the same way for every server.
#
# kea-pg is Kea with its PostgreSQL lease backend (a private PostgreSQL 15 of bench/lib/pg.sh, on a Unix
# socket in WORKDIR, fsync and synchronous commit on): like joind and dhcpd, it keeps a lease through a
# power cut. Its CPU figures (server_cpu_*) are kea-dhcp4's plus its PostgreSQL processes' (the backend
# that runs Kea's statements, the WAL writer, the checkpointer); its RSS figures are kea-dhcp4's alone.
#
# joind-defaults is joind with its own defaults for naming and pinging (issue 18, item 5): its server.pcy
# leaves out `assign_name_by_ipaddr off` and `ping_timeout`, so each new address is looked up (PTR) in the
# bed's resolver (bench/lib/resolver.sh: dnsmasq on 127.0.0.1:53 of the server namespace, names for the
# even addresses, NXDOMAIN for the odd ones), and each candidate is pinged for 500 ms before it is
# offered. Run it through server_net (run.sh does): its clients sit behind the relay address 10.81.0.2
# as in ping_run (bench/lib/scale.sh), so that the echo requests die at the relay's MAC inside the bed.

: "${SRV_NET:=10.80.0.0}" "${SRV_MASK:=255.255.0.0}" "${SRV_PREFIXLEN:=16}"
: "${SRV_FIRST:=10.80.0.10}" "${SRV_LAST:=10.80.255.250}"
: "${SRV_CPU:=0}"
: "${BENCH_PING_TIMEOUT:=0}"
# shellcheck source=pg.sh
. "$(dirname "${BASH_SOURCE[0]}")/pg.sh"
# shellcheck source=resolver.sh
. "$(dirname "${BASH_SOURCE[0]}")/resolver.sh"

_srv_spawn() { # NAME WORKDIR CMD...
  local name=$1 work=$2
  shift 2
  bed_spawn "$BENCH_P" "$(bed_ns "$BENCH_P" srv)" "$name" "$work/$name.log" -- taskset -c "$SRV_CPU" "$@"
  SRV_WRAP=$BED_PID SRV_PID=$BED_CMD_PID
  SRV_WRAP_START=$(bed_proc_start "$SRV_WRAP" 2>/dev/null || echo -)
  SRV_PID_START=$(bed_proc_start "$SRV_PID" 2>/dev/null || echo -)
}

server_start_joind() {
  _joind_start joind "$1" "ping_timeout                $BENCH_PING_TIMEOUT
# The peers give clients no names; joind's default naming by IP address (a reverse lookup per new
# address) is measured on its own (BENCH_EXTRA_PCY=assign_name_by_ipaddr, and the joind-defaults row).
assign_name_by_ipaddr       off"
}

# joind-defaults: joind's defaults for naming (by IP address) and pinging (500 ms), its resolver first.
server_start_joind-defaults() {
  resolver_start "$1" || return 1
  _joind_start joind-defaults "$1" "# ping_timeout and assign_name_by_ipaddr left at their defaults (500 ms, on)" ||
    { resolver_stop; return 1; }
}

# _joind_start NAME WORKDIR PCY_LINES — joind with the bench's configuration plus PCY_LINES.
# BENCH_JOIND_ARGS: more options for joind (names_check: -l 2).
_joind_start() {
  local name=$1 w=$2
  mkdir -p "$w/etc" "$w/spool"
  printf '%s %s %s-%s\n' "$SRV_NET" "$BENCH_SRV_ADDR" "$SRV_FIRST" "$SRV_LAST" > "$w/etc/nets"
  printf '%s %s\n' "$SRV_NET" "$SRV_MASK" > "$w/etc/netmasks"
  cat > "$w/etc/server.pcy" <<PCY
default_ttl                 3600
reply_to_relay_on_local_net
$3
${BENCH_EXTRA_PCY:-}
PCY
  printf 'bench:nw=%s:sm=%s:lt=3600:\n' "$SRV_NET" "$SRV_MASK" > "$w/etc/dhcpcap"
  _srv_spawn "$name" "$w" node ${JOIND_NODE_ARGS:-} "$BENCH_DIST/src/cli/main.js" -f \
    --config-dir "$w/etc" --spool-dir "$w/spool" ${BENCH_JOIND_ARGS:-}
}

# server_net NAME CMD... — run CMD (sweep, latency, …) on NAME's network: for joind-defaults the clients
# behind the relay address 10.81.0.2 and a pool of 10.81.0.0/16 (routed through 10.80.0.2, as ping_run
# does); for every other server the bench's own (BENCH_GEN_ADDR and SRV_* as they are).
server_net() {
  local _sn_rc
  [ "$1" = joind-defaults ] || { shift; "$@"; return; }
  shift
  local _sn_gen=$BENCH_GEN_ADDR _sn_net=$SRV_NET _sn_first=$SRV_FIRST _sn_last=$SRV_LAST
  BENCH_GEN_ADDR=$BENCH_RELAY_ADDR SRV_NET=10.81.0.0 SRV_FIRST=10.81.0.10 SRV_LAST=10.81.255.250
  "$@"; _sn_rc=$?
  BENCH_GEN_ADDR=$_sn_gen SRV_NET=$_sn_net SRV_FIRST=$_sn_first SRV_LAST=$_sn_last
  return $_sn_rc
}

server_start_kea() {
  _kea_start kea "$1" \
    '{ "type": "memfile", "persist": true, "name": "'"$1"'/kea-leases4.csv", "lfc-interval": 0 }'
}

# kea-pg: the cluster first (a copy of the bench's template, made at the first use), then Kea on it.
# The PostgreSQL log is WORKDIR/postgres.log.
server_start_kea-pg() {
  local w=$1
  pg_template "$BENCH_OUT/work/pg-template" || return 1
  if [ ! -f "$w/pgdata/PG_VERSION" ]; then
    cp -a "$BENCH_OUT/work/pg-template/data" "$w/pgdata" || return 1
  fi
  _pg_own "$w/pgsock" || return 1
  pg_start "$w/pgdata" "$w/pgsock" "$w/postgres.log" || return 1
  _kea_start kea-pg "$w" '{ "type": "postgresql", "name": "'"$PG_KEA_DB"'", "host": "'"$w/pgsock"'", "user": "'"$PG_KEA_USER"'", "password": "'"$PG_KEA_PASSWORD"'" }' ||
    { pg_stop; return 1; }
}

# _kea_start NAME WORKDIR LEASE_DATABASE_JSON — kea-dhcp4, the same configuration but for its lease database.
_kea_start() {
  local name=$1 w=$2
  mkdir -p "$w/run"
  cat > "$w/kea.json" <<JSON
{ "Dhcp4": {
    "interfaces-config": { "interfaces": [ "s0" ] },
    "lease-database": $3,
    "valid-lifetime": 3600, "renew-timer": 1800, "rebind-timer": 3150,
    "subnet4": [ { "id": 1, "subnet": "$SRV_NET/$SRV_PREFIXLEN", "pools": [ { "pool": "$SRV_FIRST - $SRV_LAST" } ] } ],
    "loggers": [ { "name": "kea-dhcp4", "severity": "WARN", "output_options": [ { "output": "stdout" } ] } ]
} }
JSON
  KEA_PIDFILE_DIR=$w/run KEA_LOCKFILE_DIR=$w/run _srv_spawn "$name" "$w" \
    env KEA_PIDFILE_DIR="$w/run" KEA_LOCKFILE_DIR="$w/run" kea-dhcp4 -c "$w/kea.json"
}

server_start_dhcpd() {
  local w=$1
  [ -e "$w/dhcpd.leases" ] || : > "$w/dhcpd.leases"
  cat > "$w/dhcpd.conf" <<CONF
authoritative;
ping-check false;
default-lease-time 3600;
max-lease-time 3600;
subnet $SRV_NET netmask $SRV_MASK { range $SRV_FIRST $SRV_LAST; }
CONF
  _srv_spawn dhcpd "$w" dhcpd -f -4 -q -cf "$w/dhcpd.conf" -lf "$w/dhcpd.leases" -pf "$w/dhcpd.pid" s0
}

server_start_dnsmasq() {
  local w=$1
  _srv_spawn dnsmasq "$w" dnsmasq -k --conf-file=/dev/null --port=0 --user=root --interface=s0 \
    --bind-interfaces --dhcp-authoritative --no-ping --quiet-dhcp --dhcp-lease-max=20000000 \
    --dhcp-range="$SRV_FIRST,$SRV_LAST,$SRV_MASK,3600" --dhcp-leasefile="$w/dnsmasq.leases" \
    --pid-file="$w/dnsmasq.pid"
}

# perfdhcp's ceiling: the stateless C mirror (bench/responder.c), compiled by run.sh.
server_start_mirror() {
  _srv_spawn mirror "$1" "$BENCH_OUT/responder" "$BENCH_SRV_ADDR"
}

# server_stop — by PID and start time, not through bed_stop: after thousands of runs PIDs wrap, and
# bed_stop would also act on an older record of the bed with the same PID (and wait on it).
# joind-defaults: joind, then its resolver (bench/lib/resolver.sh). For kea-pg, Kea first, then (the leases in lease4 counted, to BENCH_OUT/logs/kea-pg-leases.txt and
# stderr) its PostgreSQL, by PID (bench/lib/pg.sh).
server_stop() {
  bed_stop_pid "$SRV_WRAP" "$SRV_WRAP_START"
  if bed_proc_alive "$SRV_PID" "$SRV_PID_START"; then bed_stop_pid "$SRV_PID" "$SRV_PID_START"; fi
  resolver_stop   # joind-defaults' resolver, if one runs
  if [ -n "$PG_PID" ]; then
    local rows
    rows=$(pg_lease4_rows 2>&1) || rows="? ($rows)"
    printf '%s lease4 rows %s (perfdhcp ACKs %s)\n' "$(date -u +%H:%M:%S)" "$rows" "${PR_ACKS:--}" \
      >> "$BENCH_OUT/logs/kea-pg-leases.txt"
    note "  kea-pg: $rows leases in PostgreSQL's lease4"
    pg_stop
  fi
}

# server_pids — the server's processes: SRV_PID, and for kea-pg its PostgreSQL postmaster and the
# postmaster's children.
server_pids() {
  echo "$SRV_PID"
  if [ -n "$PG_PID" ] && bed_proc_alive "$PG_PID" "$PG_PID_START"; then
    echo "$PG_PID"
    _bed_children "$PG_PID"
  fi
}

# server_cpu_ticks — user+system clock ticks of the server's processes so far (all their threads);
# server_cpu_split — "user system" (utime and stime, fields 14 and 15 of /proc/PID/stat; split after the
# "(comm)" field, which may hold spaces).
server_cpu_split() {
  local p
  for p in $(server_pids); do cat "/proc/$p/stat" 2>/dev/null; done |
    awk '{ sub(/^.*\) /, ""); u += $12; s += $13 } END { print u + 0, s + 0 }'
}
server_cpu_ticks() { server_cpu_split | awk '{ print $1 + $2 }'; }
# server_rss_kb / server_hwm_kb — resident set now / peak.
server_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$SRV_PID/status"; }
server_hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$SRV_PID/status"; }
