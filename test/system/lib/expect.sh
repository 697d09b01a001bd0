# shellcheck shell=bash
# expect.sh — what a client should have got, read from the configuration joind serves (not hard-coded),
# and the checks that compare a client's result (clients.sh) against it. Also a read-only look into
# joind's SQLite store. Source it after joind.sh (it uses ROOT, DIST, WORK and fail).
#
#   joind_bed_up                   bed_up for joind_test_begin's prefix; SRV CLA CLB CLC RLY name its namespaces
#   conf_sample                    CONF=$WORK/conf, a copy of etc/ to change; $WORK/spool
#   conf_load CONFDIR              `joind --check` of CONFDIR, kept as JSON in $WORK/conf.json
#   conf_tag "LABEL…" TAG          a dhcpcap entry's tag, with its tc= inclusions resolved by joind; with
#                                  several labels (most specific first), the first that has TAG
#   conf_ranges NETWORK            the ranges of NETWORK in nets ("first-last" words)
#   conf_in_ranges IP NETWORK      true if IP lies in one of NETWORK's ranges
#   expect_options OUTDIR WHO "LABEL…" [LEASE]   mask, router, DNS, domain (and lease time) of the
#                                  result equal to those of the dhcpcap entries LABEL…
#   expect_all_sent                no SEND_FAILED in joind's logs
#   store_query SQL [ARGS…]        run SQL read-only on $STORE_DB (default $WORK/spool/joind.db), as the
#                                  admin commands read it (the server commits its journal first), and
#                                  print each row as tab-separated values
#   store_state IP                 the state name of IP's record (active, released, abandoned, …)

[ -n "${_EXPECT_LOADED:-}" ] && return 0
_EXPECT_LOADED=1

# conf_load CONFDIR — what joind itself makes of the configuration, so the checks follow the files.
conf_load() {
  node "$DIST/src/cli/main.js" --check --config-dir "$1" > "$WORK/conf.json" 2> "$WORK/conf.err" \
    || fail "joind --check rejected $1: $(cat "$WORK/conf.err")"
}

# _conf_js EXPR ARGS… — evaluate EXPR with `c` = the loaded configuration and `a` = ARGS; print it.
_conf_js() {
  local expr=$1
  shift
  node -e '
    const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const a = process.argv.slice(2);
    const v = (function () { return '"$expr"'; })();
    if (v !== undefined && v !== null) console.log(Array.isArray(v) ? v.join(" ") : String(v));' \
    "$WORK/conf.json" "$@"
}

# conf_tag "LABEL [LABEL…]" TAG — the first of the entries (most specific first) that has TAG.
conf_tag() {
  _conf_js 'a[0].split(" ").map((l) => (c.dhcpcap.entries.find((e) => e.label === l) || { tags: {} }).tags[a[1]])
    .find((v) => v !== undefined)' "$1" "$2"
}

conf_ranges() {
  _conf_js '(c.networks.find((n) => n.network === a[0]) || { owners: [] }).owners.flatMap((o) => o.ranges)' "$1"
}

conf_in_ranges() {
  local ip=$1 r first last n
  n=$(_bed_ip2int "$ip") || return 1
  for r in $(conf_ranges "$2"); do
    first=${r%-*} last=${r#*-}
    (( n >= $(_bed_ip2int "$first") && n <= $(_bed_ip2int "$last") )) && return 0
  done
  return 1
}

# expect_options OUTDIR WHO "LABEL…" [LEASE] — fail unless the client's subnet mask, routers, DNS
# servers and domain name are those of the dhcpcap entries LABEL… (most specific first, as conf_tag);
# the lease time too unless LEASE is "-" (BOOTP).
expect_options() {
  local out=$1 who=$2 label=$3 lease=${4:-} key tag want got
  for key in mask:sm router:gw dns:ds domain:dn lease:lt; do
    tag=${key#*:} key=${key%%:*}
    [ "$key" = lease ] && [ "$lease" = - ] && continue
    want=$(conf_tag "$label" "$tag")
    [ -n "$want" ] || fail "dhcpcap entry $label has no $tag"
    got=$(bed_result "$out" "$key")
    # lists: the configuration separates by blanks or commas, the clients by blanks
    [ "${got//,/ }" = "${want//,/ }" ] || fail "$who: $key '$got', the configuration ($label:$tag) says '$want'"
  done
}

# expect_all_sent — fail if joind's logs ($WORK/joind*.log) say a reply could not be sent.
expect_all_sent() {
  ! grep -h '"SEND_FAILED"' "$WORK"/joind*.log || fail "joind could not send every reply (above)"
}

: "${STORE_DB:=}"
# store_query SQL [ARG...] — rows of SQL against joind's store, as joind's admin commands read it: a
# running server first commits its lease journal to the database (the newest leases are only there
# until it does); with none running, a journal it left is replayed first (src/cli/admin-common.ts).
store_query() {
  local sql=$1
  shift
  node -e '
    const { openForReading } = require(process.argv[1] + "/src/cli/admin-common");
    const path = require("node:path");
    (async () => {
      const store = await openForReading(path.dirname(process.argv[2]));
      try {
        for (const row of store.db.prepare(process.argv[3]).raw().all(...process.argv.slice(4).map((x) => (/^[0-9]+$/.test(x) ? Number(x) : x))))
          console.log(row.map((v) => (v === null ? "" : String(v))).join("\t"));
      } finally {
        store.close();
      }
    })();' \
    "${DIST:-$ROOT/dist}" "${STORE_DB:-$WORK/spool/joind.db}" "$sql" "$@"
}

# store_state IP — the state of the address's record, by name (empty when there is no record).
store_state() {
  local s
  s=$(store_query 'SELECT state FROM leases WHERE address = ?' "$(_bed_ip2int "$1")")
  case $s in 1) echo active ;; 2) echo expired ;; 3) echo released ;; 4) echo abandoned ;;
    5) echo static ;; 6) echo bootp ;; *) echo "$s" ;; esac
}
