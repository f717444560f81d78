#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A tiny authoritative DNS server for e2e tests (RFC 1035 §4): answers
# "A" queries for one name with one IPv4 address, every other question
# about that name with an empty NOERROR answer (no NAPTR, SRV or AAAA),
# and any other name with NXDOMAIN. Exits after 120 s at most.
#   dns_server.py IP PORT NAME ADDRESS
import socket, struct, sys, time

ip, port, name, addr = sys.argv[1], int(sys.argv[2]), sys.argv[3].lower().rstrip("."), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((ip, port))
s.settimeout(1.0)
end = time.time() + 120
while time.time() < end:
    try:
        q, peer = s.recvfrom(512)
    except socket.timeout:
        continue
    if len(q) < 12:
        continue
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    if qd != 1:
        continue
    i, labels = 12, []
    while i < len(q) and q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
        i += 1 + q[i]
    qname_end = i + 1
    qtype, = struct.unpack("!H", q[qname_end:qname_end + 2])
    question = q[12:qname_end + 4]
    qname = ".".join(labels).lower()
    rcode = 0 if qname == name else 3
    answers = b""
    an = 0
    if qname == name and qtype == 1:
        answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
        an = 1
    head = struct.pack("!HHHHHH", qid, 0x8400 | (flags & 0x0100) | rcode, 1, an, 0, 0)
    s.sendto(head + question + answers, peer)
