# shellcheck shell=bash
# named.sh — BIND 9 for the dynamic DNS tests, in the bed's server namespace on its loopback: primary
# zones of lab.example and reverse zones that take only updates signed with one key (update-policy),
# no recursion, no DNSSEC lookups (the namespace reaches nothing anyway). Needs joind.sh (WORK, SRV,
# JT_PREFIX, fail).

# named_setup DIR KEYFILE ZONE... — named.conf and the empty zones (SOA and NS) in DIR, the key file
# (what tsig-keygen writes, key name ddns-key) copied beside them.
named_setup() {
  local dir=$1 key=$2 z
  shift 2
  mkdir -p "$dir" && cp "$key" "$dir/ddns.key" || return 1
  cat > "$dir/named.conf" <<EOF
options { directory "$dir"; listen-on port 53 { 127.0.0.1; }; listen-on-v6 { none; };
  recursion no; notify no; dnssec-validation no; pid-file "$dir/named.pid"; };
include "$dir/ddns.key";
EOF
  for z in "$@"; do
    # shellcheck disable=SC2016 # $TTL is the zone file's own
    printf '$TTL 3600\n@ IN SOA ns.lab.example. admin.lab.example. 1 3600 900 604800 300\n  IN NS ns.lab.example.\n' > "$dir/$z.db"
    [ "$z" = lab.example ] && echo 'ns IN A 127.0.0.1' >> "$dir/$z.db"
    echo "zone \"$z\" { type primary; file \"$dir/$z.db\"; update-policy { grant ddns-key zonesub ANY; }; };" >> "$dir/named.conf"
  done
  chown -R bind: "$dir" 2>/dev/null || chmod -R a+rwX "$dir"
  named-checkconf "$dir/named.conf"
}

# named_start DIR — named on DIR/named.conf in SRV, its log WORK/named.log; sets NAMED (bed_stop it).
named_start() {
  bed_spawn "$JT_PREFIX" "$SRV" named "$WORK/named.log" -- named -g -u bind -c "$1/named.conf" || fail "named"
  # shellcheck disable=SC2034 # for the caller
  NAMED=$BED_PID
  bed_wait_for 10 grep -q 'running$' "$WORK/named.log" || fail "named did not start: $(tail -n 5 "$WORK/named.log")"
}

# dig_short NAME TYPE — what named answers, one line; dig_ptr ADDRESS — the PTR of an address.
dig_short() { ip netns exec "$SRV" dig +short +time=2 +tries=1 @127.0.0.1 "$1" "$2" | paste -sd ' '; }
dig_ptr() { ip netns exec "$SRV" dig +short +time=2 +tries=1 @127.0.0.1 -x "$1" | paste -sd ' '; }
