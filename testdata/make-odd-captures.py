#!/usr/bin/env python3
"""Writes testdata/odd/*.pcap: small captures of the odd kinds public corpora hold (NFLOG, PPP, unknown link
types, far-future and impossible times, nanosecond and big-endian files, cut records, snaplen-cut frames, IP
options, IPv6 extension headers, empty records), each holding one HTTP exchange on port 8080, then asks tshark
how many TCP packets of port 8080 each holds and writes odd-captures.expected from its answer.

Run from the repository root: python3 testdata/make-odd-captures.py (needs python3 and tshark)."""
import os
import struct
import subprocess

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "odd")
T2016 = 1464000000  # 2016-05-23
T2038 = 2145916800  # 2038-01-01, past what a topic accepts (message.timestamp.after.max.ms)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", v6=False, options=b""):
    off = (20 + len(options)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, 65535, 0, 0) + options
    seg = hdr + payload
    if v6:
        pseudo = src + dst + struct.pack("!IxxxB", len(seg), 6)
    else:
        pseudo = src + dst + struct.pack("!xBH", 6, len(seg))
    c = checksum(pseudo + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def ipv4(src, dst, seg, options=b""):
    ihl = (20 + len(options)) // 4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(options) + len(seg), 1, 0x4000, 64, 6, 0, src, dst)
    hdr += options
    c = checksum(hdr)
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + seg


def ipv6(src, dst, seg, hop_by_hop=False):
    nxt, ext = 6, b""
    if hop_by_hop:
        nxt, ext = 0, struct.pack("!BB", 6, 0) + b"\x01\x04\0\0\0\0"  # next=TCP, len 0, PadN
    return struct.pack("!IHBB", 0x60000000, len(ext) + len(seg), nxt, 64) + src + dst + ext + seg


C4, S4 = bytes([10, 9, 0, 2]), bytes([10, 9, 0, 1])
C6, S6 = bytes.fromhex("fd090000000000000000000000000002"), bytes.fromhex("fd090000000000000000000000000001")
REQ = b"GET /odd/r01 HTTP/1.1\r\nHost: odd\r\n\r\n"
RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def session(v6=False, sport=40001, ip_options=b"", hop_by_hop=False):
    """The IP packets of one HTTP exchange: handshake, request, answer, close (9 packets)."""
    c, s = (C6, S6) if v6 else (C4, S4)
    cs, ss = 1000, 5000
    segs = [
        (True, tcp(c, s, sport, 8080, cs, 0, 0x02, v6=v6)),
        (False, tcp(s, c, 8080, sport, ss, cs + 1, 0x12, v6=v6)),
        (True, tcp(c, s, sport, 8080, cs + 1, ss + 1, 0x10, v6=v6)),
        (True, tcp(c, s, sport, 8080, cs + 1, ss + 1, 0x18, REQ, v6=v6)),
        (False, tcp(s, c, 8080, sport, ss + 1, cs + 1 + len(REQ), 0x18, RESP, v6=v6)),
        (True, tcp(c, s, sport, 8080, cs + 1 + len(REQ), ss + 1 + len(RESP), 0x11, v6=v6)),
        (False, tcp(s, c, 8080, sport, ss + 1 + len(RESP), cs + 2 + len(REQ), 0x11, v6=v6)),
        (True, tcp(c, s, sport, 8080, cs + 2 + len(REQ), ss + 2 + len(RESP), 0x10, v6=v6)),
    ]
    out = []
    for to_server, seg in segs:
        src, dst = (c, s) if to_server else (s, c)
        out.append(ipv6(src, dst, seg, hop_by_hop) if v6 else ipv4(src, dst, seg, ip_options))
    return out


def ethernet(ip, v6=False):
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02" + (b"\x86\xdd" if v6 else b"\x08\x00") + ip


def nflog_tlv(t, value, little):
    n = 4 + len(value)
    hdr = struct.pack("<HH" if little else ">HH", n, t)
    return hdr + value + b"\0" * ((4 - n % 4) % 4)


def nflog(ip, little, v6=False, with_payload=True):
    frame = struct.pack("!BBH", 10 if v6 else 2, 0, 5)  # family, version 0, group 5 (network order)
    frame += nflog_tlv(1, struct.pack("!HBB", 0x86DD if v6 else 0x0800, 3, 0), little)  # NFULA_PACKET_HDR
    frame += nflog_tlv(10, b"tb-odd\0", little)  # NFULA_PREFIX
    if with_payload:
        frame += nflog_tlv(9, ip, little)  # NFULA_PAYLOAD
    return frame


def ppp(ip, v6=False, hdlc=True, compressed=False):
    proto = (b"\x57" if v6 else b"\x21") if compressed else (b"\x00\x57" if v6 else b"\x00\x21")
    return (b"\xff\x03" if hdlc else b"") + proto + ip


def write_pcap(name, linktype, frames, snaplen=65535, nanos=False, big_endian=False, cut_last=0):
    """frames: (seconds, fraction, bytes[, wire length]); fraction in µs (ns for nanos)."""
    e = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)
    for f in frames:
        sec, frac, data = f[0], f[1], f[2]
        wire = f[3] if len(f) > 3 else len(data)
        kept = data[:snaplen]
        out += struct.pack(e + "IIII", sec, frac, len(kept), wire) + kept
    if cut_last:
        out = out[:-cut_last]
    with open(os.path.join(OUT, name), "wb") as fh:
        fh.write(out)


def timed(frames, start=T2016):
    return [(start + i // 4, (i % 4) * 250_000, f) for i, f in enumerate(frames)]


def main():
    os.makedirs(OUT, exist_ok=True)
    s4, s6 = session(), session(v6=True, sport=40002)
    write_pcap("nflog-little-endian.pcap", 239, timed([nflog(p, True) for p in s4]
                                                      + [nflog(p, True, v6=True) for p in s6]
                                                      + [nflog(b"", True, with_payload=False)]))
    write_pcap("nflog-big-endian.pcap", 239, timed([nflog(p, False) for p in s4]))
    lcp = b"\xff\x03\xc0\x21\x01\x01\x00\x04"  # an LCP Configure-Request: PPP, not IP
    write_pcap("ppp.pcap", 9, timed([ppp(p) for p in s4[:4]] + [ppp(p, compressed=True) for p in s4[4:]]
                                    + [ppp(p, v6=True, hdlc=False) for p in s6] + [lcp]))
    write_pcap("ppp-serial.pcap", 50, timed([ppp(p) for p in s4]))
    write_pcap("unknown-link-type.pcap", 147, timed([ethernet(p) for p in s4]))  # USER0: nobody knows its header
    mixed = timed([ethernet(p) for p in s4])
    mixed.insert(4, (T2038, 0, ethernet(session(sport=40003)[0])))
    write_pcap("future-timestamp.pcap", 1, mixed)
    bad_usec = timed([ethernet(p) for p in s4])
    bad_usec[2] = (bad_usec[2][0], 1_000_000, bad_usec[2][2])
    bad_usec[5] = (bad_usec[5][0], 4_294_967_295, bad_usec[5][2])
    write_pcap("microseconds-overflow.pcap", 1, bad_usec)
    write_pcap("nanoseconds.pcap", 1, [(s, f * 1000 + 7, d) for s, f, d in timed([ethernet(p) for p in s4])],
               nanos=True)
    write_pcap("big-endian.pcap", 1, timed([ethernet(p) for p in s4]), big_endian=True)
    write_pcap("cut-last-record.pcap", 1, timed([ethernet(p) for p in s4]), cut_last=5)
    write_pcap("snaplen-60.pcap", 1, timed([ethernet(p) for p in s4]), snaplen=60)
    write_pcap("ip-options-and-ipv6-extension.pcap", 1,
               timed([ethernet(p) for p in session(sport=40004, ip_options=b"\x01\x01\x01\x00")]
                     + [ethernet(p, v6=True) for p in session(v6=True, sport=40005, hop_by_hop=True)]))
    # A client that speaks first in no protocol trafficbus knows, and a server that never answers.
    hello = b"hello trafficbus\n"
    quiet = [tcp(C4, S4, 40006, 8080, 1, 0, 0x02), tcp(S4, C4, 8080, 40006, 9, 2, 0x12),
             tcp(C4, S4, 40006, 8080, 2, 10, 0x10), tcp(C4, S4, 40006, 8080, 2, 10, 0x18, hello),
             tcp(S4, C4, 8080, 40006, 10, 2 + len(hello), 0x10),
             tcp(C4, S4, 40006, 8080, 2 + len(hello), 10, 0x11),
             tcp(S4, C4, 8080, 40006, 10, 3 + len(hello), 0x11), tcp(C4, S4, 40006, 8080, 3 + len(hello), 11, 0x10)]
    write_pcap("no-answer.pcap", 1, timed([ethernet(ipv4(S4 if seg[:2] == b"\x1f\x90" else C4,
                                                        C4 if seg[:2] == b"\x1f\x90" else S4, seg))
                                           for seg in quiet]))
    empty = timed([ethernet(p) for p in s4])
    empty.insert(3, (T2016 + 1, 1, b"", 60))
    write_pcap("empty-record.pcap", 1, empty)

    lines = ["# file tcp-port-8080-packets, as tshark -r FILE -Y 'tcp.port == 8080' counts them (it reads NFLOG in"
             " this host's byte order only; a cut file up to the cut)"]
    for name in sorted(os.listdir(OUT)):
        if not name.endswith(".pcap"):
            continue
        r = subprocess.run(["tshark", "-r", os.path.join(OUT, name), "-Y", "tcp.port == 8080", "-T", "fields",
                            "-e", "frame.number"], capture_output=True, text=True)
        n = len(r.stdout.split())
        lines.append("%s %d" % (name, n))
    with open(os.path.join(OUT, "odd-captures.expected"), "w") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
