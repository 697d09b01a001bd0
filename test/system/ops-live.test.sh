#!/usr/bin/env bash
# Operations against a live joind in a namespace, with a real client (ISC dhclient): the admin commands
# read the store while the server runs; writes (load, register) go through the server; the metrics
# endpoint passes promtool and shows the real numbers; the control API (joind ctl, Unix socket 0660, TCP
# with a token) lists, releases, deletes, binds, reports pool use and reloads (refusing a broken
# configuration). Needs root (namespaces); exits 77 (skip) without.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need dhclient promtool curl
. "$(dirname "$0")/lib/joind.sh"

P=op$$
joind_test_begin "$P"
joind_bed_up
J() { node "$DIST/src/cli/main.js" "$@"; }
in_srv() { ip netns exec "$SRV" "$@"; }

conf_sample
grep -v '^10\.77\.[23]\.0' etc/nets > "$WORK/conf/nets"
echo "s3cret-$$" > "$WORK/token"
printf '\ntransport udp\nping_timeout 0\nmetrics_listen 127.0.0.1:9267\ncontrol_listen 127.0.0.1:9268\ncontrol_token_file %s\n' "$WORK/token" >> "$WORK/conf/server.pcy"
A=(--config-dir "$WORK/conf" --spool-dir "$WORK/spool")
joind_start "$SRV" "$WORK/conf" "$WORK/spool"
bed_wait_for 5 grep -q '"what":"metrics"' "$WORK/joind.log" || fail "metrics endpoint not listening"

[ "$(stat -c %a "$WORK/spool/joind.sock")" = 660 ] || fail "control socket mode $(stat -c %a "$WORK/spool/joind.sock"), expected 660"
echo "ok: control socket $WORK/spool/joind.sock is mode 0660"

run_dhclient "$CLA" a-cli "$WORK/c1" || fail "dhclient got no lease"
IP1=$(bed_result "$WORK/c1" ip); MAC1=$(bed_client_mac "$P" cla 0)
echo "ok: dhclient ($MAC1) got $IP1"

# --- reads while the server runs
J show "${A[@]}" > "$WORK/show" || fail "show while running"
grep -q "^$IP1 *$MAC1 *active" "$WORK/show" || { cat "$WORK/show"; fail "show lacks the lease"; }
J dump "${A[@]}" -c -k "$IP1" > "$WORK/dump" || fail "dump while running"
[ "$(wc -l < "$WORK/dump")" = 1 ] && grep -q "^$MAC1|1|6|$IP1|" "$WORK/dump" || { cat "$WORK/dump"; fail "dump -c -k $IP1"; }
J check-db "${A[@]}" > "$WORK/check" || { cat "$WORK/check"; fail "check-db while running"; }
echo "ok: show, dump -c -k and check-db read the live store"

# --- metrics: promtool's linter, and the real numbers
in_srv curl -sf http://127.0.0.1:9267/metrics > "$WORK/metrics" || fail "no /metrics"
promtool check metrics < "$WORK/metrics" > "$WORK/promtool.out" 2>&1 || { cat "$WORK/promtool.out"; fail "promtool check metrics"; }
metric() { awk -v m="$1" '$1 == m { print $2 }' "$WORK/metrics"; }
[ "$(metric 'joind_subnet_assigned_addresses{subnet="10.77.1.0/24"}')" = 1 ] || { grep subnet "$WORK/metrics"; fail "assigned addresses"; }
[ "$(metric 'joind_subnet_total_addresses{subnet="10.77.1.0/24"}')" = 100 ] || { grep subnet "$WORK/metrics"; fail "total addresses"; }
[ "$(metric 'joind_pkt4_received_total{type="discover"}')" -ge 1 ] || fail "discover count"
[ "$(metric 'joind_pkt4_received_total{type="request"}')" -ge 1 ] || fail "request count"
[ "$(metric 'joind_pkt4_sent_total{type="ack"}')" -ge 1 ] || fail "ack count"
[ "$(metric 'joind_store_commits_total')" -ge 1 ] || fail "commits"
# One client's lease is a batch of one ACK: fsynced on the event loop, not handed to the thread pool.
[ "$(metric 'joind_store_syncs_total{where="event-loop"}')" -ge 1 ] || { grep store_syncs "$WORK/metrics"; fail "syncs on the event loop"; }
echo "ok: promtool passes /metrics; it shows 1 of 100 assigned on 10.77.1.0/24 and the DISCOVER/REQUEST/ACK"

# --- control API
J ctl status --spool-dir "$WORK/spool" > "$WORK/status" || fail "ctl status"
grep -q "\"version\": \"" "$WORK/status" && grep -q "\"transportKind\": \"udp\"" "$WORK/status" || { head -20 "$WORK/status"; fail "ctl status content"; }
J ctl pools --spool-dir "$WORK/spool" > "$WORK/pools" || fail "ctl pools"
grep -Eq '^10\.77\.1\.0/24 +100 +1 +0 +0 +99$' "$WORK/pools" || { cat "$WORK/pools"; fail "ctl pools numbers"; }
J ctl leases --spool-dir "$WORK/spool" --search "$MAC1" | grep -q "\"address\": \"$IP1\"" || fail "ctl leases --search"
echo "ok: ctl status, pools (100/1/0/0/99) and leases --search"

# TCP with a token: refused without, served with.
code=$(in_srv curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9268/v1/status)
[ "$code" = 401 ] || fail "TCP without token answered $code"
code=$(in_srv curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong" http://127.0.0.1:9268/v1/status)
[ "$code" = 401 ] || fail "TCP with a wrong token answered $code"
in_srv node "$DIST/src/cli/main.js" ctl version --url 127.0.0.1:9268 --token-file "$WORK/token" | grep -q '"version"' || fail "ctl --url --token-file"
echo "ok: TCP listener refuses without the token (401) and serves ctl with it"

# --- writes through the server: release, delete, then a binding loaded with `joind load` is what the
# client gets next.
J ctl release "$IP1" --spool-dir "$WORK/spool" | grep -q '"state": "released"' || fail "ctl release"
J ctl release "$IP1" --spool-dir "$WORK/spool" 2> "$WORK/err" && fail "releasing twice should fail"
grep -q 'not an active lease' "$WORK/err" || fail "no reason for the second release: $(cat "$WORK/err")"
J ctl delete "$IP1" --spool-dir "$WORK/spool" > /dev/null || fail "ctl delete"
J ctl lease "$IP1" --spool-dir "$WORK/spool" 2>/dev/null && fail "deleted lease still there"
bed_stop "$P" "$(bed_result "$WORK/c1" pid)"
printf '%s|1|6|10.77.1.150||||||||||boundpc\n' "$MAC1" > "$WORK/binding"
J load "${A[@]}" "$WORK/binding" > "$WORK/load.out" || fail "load through the server"
grep -q '"what":"load"' "$WORK/joind.log" || fail "the load did not go through the server"
J dump "${A[@]}" -k 10.77.1.150 | grep -q '|static|10.77.1.0|' || fail "the binding is not in the store"
J load "${A[@]}" "$WORK/binding" 2> "$WORK/load.err" && fail "loading it again without -w should be refused"
grep -q 'overwrite it with -w' "$WORK/load.err" || fail "no reason: $(cat "$WORK/load.err")"
run_dhclient "$CLA" a-cli "$WORK/c2" || fail "dhclient got no lease after the binding"
[ "$(bed_result "$WORK/c2" ip)" = 10.77.1.150 ] || fail "the client got $(bed_result "$WORK/c2" ip), not its binding 10.77.1.150"
echo "ok: release, delete, and a binding loaded while running is what the client gets (10.77.1.150)"

# A static binding through ctl, and its removal; deleting frees the address for the pool at once.
J ctl bind 10.77.1.160 02:aa:bb:cc:dd:ee --hostname printer --spool-dir "$WORK/spool" | grep -q '"state": "static"' || fail "ctl bind"
J ctl bind 10.77.1.150 02:aa:bb:cc:dd:ef --spool-dir "$WORK/spool" 2> "$WORK/err" && fail "binding a held address should be refused"
grep -q 'bound to another client' "$WORK/err" || fail "no reason: $(cat "$WORK/err")"
J ctl unbind 10.77.1.160 --spool-dir "$WORK/spool" > /dev/null || fail "ctl unbind"
J ctl unbind 10.77.1.150 --spool-dir "$WORK/spool" 2> "$WORK/err" >/dev/null || fail "unbind of the loaded binding"
echo "ok: ctl bind/unbind, a held address is refused"

# register through the server
printf '02:00:00:00:00:01|1|6\n02:00:00:00:00:02\n' | J register "${A[@]}" > /dev/null || fail "register"
[ "$(J register "${A[@]}" -s | wc -l)" = 2 ] || fail "register -s"
echo "ok: register through the server, -s lists them"

# reload: a broken configuration is refused with its problem, the running one stays.
cp "$WORK/conf/nets" "$WORK/nets.good"
echo '10.77.1.0 10.77.1.1 10.77.1.300-10.77.1.310' > "$WORK/conf/nets"
J ctl reload --spool-dir "$WORK/spool" 2> "$WORK/err" && fail "a broken reload should fail"
grep -q 'nets:1:' "$WORK/err" || fail "the problem is not located: $(cat "$WORK/err")"
cp "$WORK/nets.good" "$WORK/conf/nets"
J ctl reload --spool-dir "$WORK/spool" | grep -q '"reloaded": true' || fail "ctl reload"
echo "ok: ctl reload refuses a broken nets with nets:1:…, accepts the fixed one"

# export while running, and import through the server (with -w: every record is already there).
J ctl bind 10.77.1.170 02:aa:bb:cc:dd:01 --spool-dir "$WORK/spool" > /dev/null || fail "ctl bind .170"
J export "${A[@]}" -o "$WORK/live.leases" || fail "export while running"
grep -q '^lease 10.77.1.170 {' "$WORK/live.leases" || fail "export lacks the binding"
n_before=$(grep -c '"what":"load"' "$WORK/joind.log")
J import -w "${A[@]}" "$WORK/live.leases" | grep -q "$(grep -c '^lease ' "$WORK/live.leases") record(s) loaded" || fail "import -w through the server"
[ "$(grep -c '"what":"load"' "$WORK/joind.log")" -gt "$n_before" ] || fail "the import did not go through the server"
echo "ok: export while running, import -w through the server"

J check-db "${A[@]}" > /dev/null || fail "check-db after all the changes"
bed_stop "$P" "$JOIND" || fail "joind did not stop"
[ ! -e "$WORK/spool/joind.sock" ] || fail "socket left behind"
echo "PASS"
