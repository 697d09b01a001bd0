#!/usr/bin/env python3
"""probe.py — how long a DHCP server takes to answer: from a given start instant until the first OFFER.

Run inside the generator's namespace. It acts as a relay, as perfdhcp does (from GEN:67, giaddr GEN), and
sends a DISCOVER from a fresh client every 20 ms until an OFFER for one of them comes back or the
deadline passes. Prints the seconds elapsed since START (a time.time() value taken just before the
server was started), or exits 1 on time-out.
Usage: probe.py GEN_ADDR SERVER_ADDR START DEADLINE_SECONDS"""
import os
import select
import socket
import struct
import sys
import time


def discover(xid: int, gen: str) -> bytes:
    chaddr = bytes([0x02, 0xBE]) + os.urandom(4)
    head = struct.pack('!BBBBIHH4s4s4s4s16s64s128s', 1, 1, 6, 1, xid, 0, 0, bytes(4), bytes(4), bytes(4),
                       socket.inet_aton(gen), chaddr + bytes(10), bytes(64), bytes(128))
    return head + bytes([99, 130, 83, 99, 53, 1, 1, 255]) + bytes(60)


def main() -> int:
    gen, server, start, deadline = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((gen, 67))
    sent = set()
    xid = int.from_bytes(os.urandom(4), 'big') & 0x7FFFFFFF
    while time.time() - start < deadline:
        xid += 1
        sent.add(xid)
        try:
            sock.sendto(discover(xid, gen), (server, 67))
        except OSError:
            pass
        until = time.time() + 0.02
        while True:
            left = until - time.time()
            if left <= 0:
                break
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                break
            data = sock.recv(2048)
            if len(data) >= 244 and data[0] == 2 and struct.unpack('!I', data[4:8])[0] in sent:
                print(f'{time.time() - start:.3f}')
                return 0
    return 1


if __name__ == '__main__':
    sys.exit(main())
