#!/usr/bin/env bash
# The status page of a live joind in headless Debian chromium (playwright-core): the bars show the
# server's real pool numbers, the latest lease is listed, the page refreshes itself when a second client
# gets a lease, the graph draws; the screenshot is kept in test/artifacts/ops-status.png. Needs root.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need /usr/bin/chromium dhclient udhcpc
. "$(dirname "$0")/lib/joind.sh"

P=oq$$
joind_test_begin "$P"
joind_bed_up
conf_sample
mkdir -p "$ROOT/test/artifacts"
grep -v '^10\.77\.[23]\.0' etc/nets > "$WORK/conf/nets"
echo "page-token-$$" > "$WORK/token"
printf '\ntransport udp\nping_timeout 0\ncontrol_listen 127.0.0.1:9268\ncontrol_token_file %s\n' "$WORK/token" >> "$WORK/conf/server.pcy"
joind_start "$SRV" "$WORK/conf" "$WORK/spool"

run_dhclient "$CLA" a-cli "$WORK/c1" || fail "dhclient got no lease"
IP1=$(bed_result "$WORK/c1" ip)
IFS=' ' read -r UD < <(bed_add_clients "$P" cla 1)

# The browser runs in the server's namespace (the page is on its loopback); when it has checked the
# first state it asks for the second lease through $WORK/step.
bed_spawn "$P" "$SRV" browser "$WORK/browser.log" -- node "$DIST/test/system/ops-page-browser.js" \
  http://127.0.0.1:9268/ "$(cat "$WORK/token")" "$ROOT/test/artifacts/ops-status.png" "$IP1" "$WORK/step"
BROWSER=$BED_CMD_PID
bed_wait_for 60 test -e "$WORK/step" || { cat "$WORK/browser.log"; fail "the browser did not get through the first checks"; }
run_udhcpc "$CLA" "$UD" "$WORK/c2" || fail "udhcpc got no lease"
bed_wait_for 80 grep -qE '^(FAIL|ok: screenshot)' "$WORK/browser.log"
cat "$WORK/browser.log"
grep -q '^ok: screenshot' "$WORK/browser.log" || fail "status page checks"
bed_wait_for 10 bash -c "! kill -0 $BROWSER 2>/dev/null"
echo "PASS"
