#!/usr/bin/env bash
# failover-joind-dhcpd — joind paired with ISC dhcpd 4.4.3 (issue 13 point 6): joind primary + dhcpd
# secondary, then dhcpd primary + joind secondary, each from empty stores in a pair bed of its own,
# through failover-joind-pair.test.sh (FO_PRIMARY/FO_SECONDARY), so each run makes the same checks:
# normal/normal from empty stores (seconds from the later start recorded; joind's `ctl failover` says
# normal/normal too), pool balance per address the same in joind's export and dhcpd.leases (halves
# ±1), real clients served by the server their hash names with each lease active in both stores (same
# hardware address, ends within 2 s), releases to either side reaching the other, DISCOVERs answered
# as the RFC 3074 hash predicts (secs 0) and by both (secs above load balance max seconds), at most
# max-unacked-updates BNDUPDs in flight, every BNDUPD acknowledged, and the update latency.
# FO_ROLES chooses the runs: "joind-dhcpd dhcpd-joind" (the default), or one of them. Each run prints a
# line starting "failover-joind-dhcpd:". Without joind's failover engine each run does the checks that
# need none (joind's configuration, its dhcpd-conf export through dhcpd -t, joind starting) and the
# test skips (exit 77): "joind failover engine not present". Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
rcs=()
for roles in ${FO_ROLES:-joind-dhcpd dhcpd-joind}; do
  case $roles in
    joind-dhcpd|dhcpd-joind) ;;
    *) echo "FAIL: FO_ROLES: joind-dhcpd or dhcpd-joind, not '$roles'"; exit 1 ;;
  esac
  echo "# failover-joind-dhcpd: primary ${roles%-*}, secondary ${roles#*-}"
  FO_PRIMARY=${roles%-*} FO_SECONDARY=${roles#*-} FO_TEST=failover-joind-dhcpd bash "$here/failover-joind-pair.test.sh"
  rc=$?
  rcs+=("$rc")
  [ "$rc" = 0 ] || [ "$rc" = 77 ] || { echo "FAIL: failover-joind-dhcpd: the $roles pair failed (exit $rc)"; exit 1; }
done
# Every run passed: pass; every one skipped: skip; passes and skips mixed cannot happen (one joind).
case " ${rcs[*]} " in *" 77 "*) exit 77 ;; esac
echo PASS
