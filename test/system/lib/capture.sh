# shellcheck shell=bash
# capture.sh — packet captures in bed namespaces, and a reader for the DHCP/BOOTP packets in them.
# Sourced by bed.sh.

[ -n "${_BED_CAPTURE_LOADED:-}" ] && return 0
_BED_CAPTURE_LOADED=1

# capture_start PREFIX NS IFACE PCAP [FILTER...]
#   Start tcpdump in NS on IFACE writing every packet (whole, -s 0) that matches FILTER (default
#   "udp port 67 or udp port 68") to PCAP, read from the kernel at once (--immediate-mode: otherwise
#   libpcap hands packets over in blocks up to 1 s late, and a stop loses them) and written per packet
#   (-U), through an 8 MiB kernel buffer (-B 8192: the default 2 MiB dropped packets of a failover
#   link's bursts). Runs as root (-Z root: Debian's
#   tcpdump would otherwise drop to user tcpdump and could not write a root-only test folder).
#   Recorded like any bed process (bed_down stops it); sets BED_PID and CAPTURE_PID (the same). Waits
#   (≤ 5 s) until tcpdump is listening, so that nothing sent after the call is missed. Log: PCAP.log.
capture_start() {
  local p=$1 ns=$2 ifc=$3 pcap=$4
  shift 4
  [ $# -gt 0 ] || set -- udp port 67 or udp port 68
  rm -f "$pcap" "$pcap.log"
  bed_spawn "$p" "$ns" tcpdump "$pcap.log" -- \
    tcpdump -i "$ifc" -n -s 0 -B 8192 --immediate-mode -U -Z root -w "$pcap" "$@" || return 1
  # shellcheck disable=SC2034  # for the caller
  CAPTURE_PID=$BED_PID
  printf '%s %s\n' "$BED_PID" "$pcap" >> "$(bed_dir "$p")/captures"
  bed_wait_for 5 grep -q 'listening on' "$pcap.log" && return 0
  echo "capture_start: tcpdump did not start; its log:" >&2
  cat "$pcap.log" >&2
  return 1
}

# capture_stop PREFIX PID — stop one capture by PID, once its file has stopped growing for 0.3 s
# (≤ 3 s): on TERM tcpdump exits without reading what is still queued in the kernel.
capture_stop() {
  local p=$1 pid=$2 cpid pcap="" size last=-1 still=0 i
  while read -r cpid pcap; do [ "$cpid" = "$pid" ] && break; pcap=""; done < "$(bed_dir "$p")/captures"
  if [ -n "$pcap" ]; then
    for (( i = 0; i < 30 && still < 3; i++ )); do
      size=$(stat -c %s "$pcap" 2>/dev/null || echo 0)
      if [ "$size" = "$last" ]; then still=$((still + 1)); else still=0; last=$size; fi
      sleep 0.1
    done
  fi
  bed_stop "$p" "$pid"
}

# capture_dhcp PCAP — print one line per BOOTP/DHCP packet in PCAP, in order:
#   op=request|reply type=DISCOVER|OFFER|REQUEST|ACK|NAK|RELEASE|DECLINE|INFORM|BOOTP src_mac=… dst_mac=…
#   src=IP.PORT dst=IP.PORT bcast=0|1 xid=0x… ciaddr=… yiaddr=… giaddr=… chaddr=…
# (addresses absent from the packet print as 0.0.0.0; type BOOTP = no option 53). Parses
# `tcpdump -r PCAP -e -n -vv`, whose BOOTP printer shows every header field that is not zero.
capture_dhcp() {
  tcpdump -r "$1" -e -n -vv 2>/dev/null | awk '
    function flush() {
      if (have) printf "op=%s type=%s src_mac=%s dst_mac=%s src=%s dst=%s bcast=%d xid=%s ciaddr=%s yiaddr=%s giaddr=%s chaddr=%s\n",
        op, type, smac, dmac, src, dst, bcast, xid, ci, yi, gi, ch
      have = 0
    }
    # a new frame: "TIME SRCMAC > DSTMAC, ethertype IPv4 (0x0800), length N: (tos ...)"
    /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]+ / {
      flush()
      smac = $2; dmac = $4; sub(/,$/, "", dmac)
      op = ""; type = "BOOTP"; src = ""; dst = ""; bcast = 0; xid = ""
      ci = yi = gi = "0.0.0.0"; ch = ""
      next
    }
    # "SRC.PORT > DST.PORT: [udp sum ok] BOOTP/DHCP, Request from …, length N, xid 0x…, Flags [Broadcast] (0x8000)"
    / > .*BOOTP\/DHCP, (Request|Reply)/ {
      have = 1
      src = $1; dst = $3; sub(/:$/, "", dst)
      op = ($0 ~ /BOOTP\/DHCP, Request/) ? "request" : "reply"
      if (match($0, /xid 0x[0-9a-f]+/)) xid = substr($0, RSTART + 4, RLENGTH - 4)
      if ($0 ~ /Flags \[Broadcast\]/) bcast = 1
      next
    }
    have && $1 == "Client-IP"              { ci = $2; next }
    have && $1 == "Your-IP"                { yi = $2; next }
    have && $1 == "Gateway-IP"             { gi = $2; next }
    have && $1 == "Client-Ethernet-Address" { ch = $2; next }
    have && /DHCP-Message \(53\)/          { type = toupper($NF); next }
    END { flush() }'
}

# capture_replies PCAP — capture_dhcp's lines for server replies (op=reply) only.
capture_replies() { capture_dhcp "$1" | grep '^op=reply ' || true; }
