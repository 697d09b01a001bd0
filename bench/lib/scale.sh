# shellcheck shell=bash
# bench/lib/scale.sh — start-up and serving with big ranges and big lease databases, and serving with a
# ping check before every offer.

BENCH_SCALE_COUNTS=${BENCH_SCALE_COUNTS:-"0 100000 1000000"}

# _startup NAME KEY — start NAME, record KEY.startup_s (spawn to first OFFER) and KEY.rss_mb, stop.
_startup() {
  server_up "$1" || { record "$2.startup_s" fail; return 1; }
  record "$2.startup_s" "$SRV_STARTUP"
  record "$2.rss_mb" "$(awk -v k="$(server_rss_kb)" 'BEGIN { printf "%.1f", k / 1024 }')"
  server_stop
}

# Copies the prepared lease database of $SCALE_TEMPLATE into a server's fresh work folder.
_scale_prepare() {
  local name=$1 w=$2
  case $name in
    joind) mkdir -p "$w/spool"; cp "$SCALE_TEMPLATE/joind.db" "$w/spool/joind.db" ;;
    kea) cp "$SCALE_TEMPLATE/kea.csv" "$w/kea-leases4.csv" ;;
    dhcpd) cp "$SCALE_TEMPLATE/dhcpd.leases" "$w/dhcpd.leases" ;;
  esac
}

scale_runs() {
  local bits count
  # Ranges: /24, /16 and /8, empty store. The server's 10.80.0.1 lies in each network.
  for bits in 24 16 8; do
    case $bits in
      24) SRV_NET=10.80.0.0 SRV_MASK=255.255.255.0 SRV_FIRST=10.80.0.10 SRV_LAST=10.80.0.250 ;;
      16) SRV_NET=10.80.0.0 SRV_MASK=255.255.0.0 SRV_FIRST=10.80.0.10 SRV_LAST=10.80.255.250 ;;
      8) SRV_NET=10.0.0.0 SRV_MASK=255.0.0.0 SRV_FIRST=10.0.0.10 SRV_LAST=10.255.255.250 ;;
    esac
    SRV_PREFIXLEN=$bits
    _startup joind "scale.joind.range$bits"
  done
  # Lease databases: 0, 100,000 and 1,000,000 active leases, consecutive from 10.0.0.10, in a /8 network
  # whose range (10.0.0.10–10.23.255.250, 1.5 million addresses) is the same for all three servers (ISC
  # dhcpd builds a structure for every address of its ranges at start-up, so a whole /8 would measure that).
  SRV_NET=10.0.0.0 SRV_MASK=255.0.0.0 SRV_PREFIXLEN=8 SRV_FIRST=10.0.0.10 SRV_LAST=10.23.255.250
  for count in $BENCH_SCALE_COUNTS; do
    SCALE_TEMPLATE=$BENCH_OUT/work/leases-$count
    rm -rf "$SCALE_TEMPLATE"; mkdir -p "$SCALE_TEMPLATE"
    note "writing $count leases for joind, Kea and dhcpd"
    node "$BENCH_DIST/bench/fill-leases.js" "$SCALE_TEMPLATE" "$SRV_NET" "$SRV_FIRST" "$count" \
      --kea "$SCALE_TEMPLATE/kea.csv" --dhcpd "$SCALE_TEMPLATE/dhcpd.leases" >&2 || return 1
    rm -f "$SCALE_TEMPLATE"/joind.db-wal "$SCALE_TEMPLATE"/joind.db-shm
    BENCH_PREPARE=_scale_prepare
    for s in joind kea dhcpd; do
      has "$s" "$SERVERS" && _startup "$s" "scale.$s.leases$count"
    done
    sweep joind 2000; record "scale.joind.leases$count.rate" "$SWEEP_RATE"
    BENCH_PREPARE=
    rm -rf "$SCALE_TEMPLATE"
  done
  SRV_NET=10.80.0.0 SRV_MASK=255.255.0.0 SRV_PREFIXLEN=16 SRV_FIRST=10.80.0.10 SRV_LAST=10.80.255.250
}

# ping_run — joind with ping_timeout 500 against addresses that never answer. The clients sit behind the
# relay address 10.81.0.2 (routed, not on the server's link), so each echo request goes to the relay's
# MAC and is dropped there: every offer waits the whole 500 ms, without filling the server's neighbour
# table with one unresolved entry per probed address (at its default limit of 1,024 entries, sends fail
# at once with ENOBUFS and the wait would be skipped, which would flatter the figure).
ping_run() {
  local gen=$BENCH_GEN_ADDR
  BENCH_GEN_ADDR=$BENCH_RELAY_ADDR BENCH_PING_TIMEOUT=500
  SRV_NET=10.81.0.0 SRV_FIRST=10.81.0.10 SRV_LAST=10.81.255.250
  sweep joind 1000; record joind.ping.rate "$SWEEP_RATE"
  BENCH_GEN_ADDR=$gen BENCH_PING_TIMEOUT=0
  SRV_NET=10.80.0.0 SRV_FIRST=10.80.0.10 SRV_LAST=10.80.255.250
}
