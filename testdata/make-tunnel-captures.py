#!/usr/bin/env python3
"""Wraps every frame of a real capture in tunnel headers, as cloud traffic mirroring delivers it.

tcprewrite cannot encapsulate, so this does: for each record of http-sessions.pcap (Ethernet, made by
make-captures.sh) it writes the same record (same timestamps, same inner bytes) inside outer headers:

  http-sessions-vxlan.pcap  Ethernet / IPv4 192.0.2.1 > 192.0.2.2 / UDP > 4789 / VXLAN VNI 77 / the whole frame
  http-sessions-gre.pcap    Ethernet / IPv4 192.0.2.1 > 192.0.2.2 / GRE with key 77 and sequence numbers / the
                            frame's IP packet (its Ethernet header dropped)

Run it from anywhere: python3 testdata/make-tunnel-captures.py. Only the standard library is used.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUTER_MACS = bytes.fromhex("020000000002" "020000000001")  # destination, source
OUTER_SRC = bytes([192, 0, 2, 1])
OUTER_DST = bytes([192, 0, 2, 2])


def records(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic != 0xA1B2C3D4:
        sys.exit(f"{path}: expected a little-endian microsecond pcap")
    link_type = struct.unpack("<I", data[20:24])[0] & 0xFFFF
    if link_type != 1:
        sys.exit(f"{path}: expected Ethernet frames, found link type {link_type}")
    header, p = data[:24], 24
    out = []
    while p + 16 <= len(data):
        sec, usec, caplen, wirelen = struct.unpack("<IIII", data[p:p + 16])
        out.append((sec, usec, data[p + 16:p + 16 + caplen], wirelen))
        p += 16 + caplen
    return header, out


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(protocol, payload, ident):
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, 64, protocol, 0,
                       OUTER_SRC, OUTER_DST)
    head = head[:10] + struct.pack("!H", checksum(head)) + head[12:]
    return head + payload


def outer_ethernet(ip_packet):
    return OUTER_MACS + b"\x08\x00" + ip_packet


def vxlan(frame, index):
    inner = struct.pack("!II", 0x08000000, 77 << 8) + frame
    # The source port spreads flows as a VTEP's hash would; the checksum 0 means none (allowed over IPv4).
    udp = struct.pack("!HHHH", 50000 + index % 16, 4789, 8 + len(inner), 0) + inner
    return outer_ethernet(ipv4(17, udp, index))


def gre(frame, index):
    ethertype = struct.unpack("!H", frame[12:14])[0]
    # Key (K) and sequence (S) present: the longest header GRE tunnels commonly send.
    header = struct.pack("!HHII", 0x3000, ethertype, 77, index)
    return outer_ethernet(ipv4(47, header + frame[14:], index))


def write(name, header, recs, wrap):
    path = os.path.join(HERE, name)
    with open(path, "wb") as f:
        f.write(header)
        for i, (sec, usec, frame, wirelen) in enumerate(recs):
            wrapped = wrap(frame, i)
            extra = len(wrapped) - len(frame)
            f.write(struct.pack("<IIII", sec, usec, len(wrapped), wirelen + extra))
            f.write(wrapped)
    print(f"wrote {path}: {len(recs)} frames")


def main():
    header, recs = records(os.path.join(HERE, "http-sessions.pcap"))
    write("http-sessions-vxlan.pcap", header, recs, vxlan)
    write("http-sessions-gre.pcap", header, recs, gre)


if __name__ == "__main__":
    main()
