#!/usr/bin/env bash
# Makes the file-format fixtures of the capture-forwarder tests from the committed link-type captures (no root, no
# network): the same real packets as nanosecond pcap, as big-endian pcap, and as pcapng with several interfaces of
# different link types, snap lengths and time resolutions, in one or two sections. Needs tcpdump, editcap and mergecap
# (Debian: tcpdump, wireshark-common) and python3. Run from anywhere:
#   capture-forwarder/src/test/resources/pcap/make-file-formats.sh
# The tests quote the counts of the inputs (README.md), so the outputs need no counts of their own.
set -euo pipefail

OUT="$(cd "$(dirname "$0")" && pwd)"
for tool in tcpdump editcap mergecap python3; do
  command -v "$tool" >/dev/null || { echo "make-file-formats.sh: $tool is not installed" >&2; exit 1; }
done
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Byte-swaps every header field of a pcap or pcapng file (no tool writes the other byte order on this machine's
# little-endian CPU; the packets themselves are bytes and stay as they are).
cat > "$WORK/swap.py" <<'PY'
import struct, sys

def swap_pcap(b):
    out = bytearray(b[:24])
    struct.pack_into('>IHHiIII', out, 0, *struct.unpack_from('<IHHiIII', b, 0))
    p = 24
    while p < len(b):
        sec, frac, cap, wire = struct.unpack_from('<IIII', b, p)
        out += struct.pack('>IIII', sec, frac, cap, wire) + b[p + 16:p + 16 + cap]
        p += 16 + cap
    return bytes(out)

NUMERIC_OPTIONS = {1: {8: 'Q', 10: 'I', 14: 'q'}, 6: {2: 'I', 4: 'Q'}}  # per block type: option code -> format

def swap_options(b, p, end, block_type):
    out = bytearray()
    while p + 4 <= end:
        code, size = struct.unpack_from('<HH', b, p)
        value = b[p + 4:p + 4 + ((size + 3) & ~3)]
        fmt = NUMERIC_OPTIONS.get(block_type, {}).get(code)
        if fmt and struct.calcsize(fmt) == size:
            value = struct.pack('>' + fmt, *struct.unpack_from('<' + fmt, value, 0)) + value[size:]
        out += struct.pack('>HH', code, size) + value
        p += 4 + len(value)
        if code == 0:
            break
    return bytes(out)

def swap_pcapng(b):
    out = bytearray()
    p = 0
    while p < len(b):
        t, l = struct.unpack_from('<II', b, p)
        body_end = p + l - 4
        if t == 0x0A0D0D0A:
            fixed, opts = '<IHHq', p + 24
        elif t == 1:
            fixed, opts = '<HHI', p + 16
        elif t == 6:
            cap = struct.unpack_from('<I', b, p + 20)[0]
            fixed, opts = '<IIIII', p + 28 + ((cap + 3) & ~3)
        elif t == 0x0A:
            size = struct.unpack_from('<I', b, p + 12)[0]
            fixed, opts = '<II', p + 16 + ((size + 3) & ~3)
        else:
            sys.exit('swap.py: block type %#x is not handled' % t)
        n = struct.calcsize(fixed)
        head = struct.pack('>' + fixed[1:], *struct.unpack_from(fixed, b, p + 8))
        out += struct.pack('>II', t, l) + head + b[p + 8 + n:opts] + swap_options(b, opts, body_end, t)
        out += struct.pack('>I', l)
        p += l
    return bytes(out)

data = open(sys.argv[1], 'rb').read()
swapped = swap_pcapng(data) if data[:4] == b'\x0a\x0d\x0d\x0a' else swap_pcap(data)
assert len(swapped) == len(data)
open(sys.argv[2], 'wb').write(swapped)
PY

# Nanosecond pcap: tcpdump rewrites the microsecond capture with nanosecond timestamps (magic a1b23c4d).
tcpdump -q -Z root --time-stamp-precision=nano -r "$OUT/ethernet.pcap" -w "$OUT/ethernet-nsec.pcap" 2>/dev/null
python3 "$WORK/swap.py" "$OUT/ethernet.pcap" "$OUT/ethernet-be.pcap"
python3 "$WORK/swap.py" "$OUT/ethernet-nsec.pcap" "$OUT/ethernet-nsec-be.pcap"

# pcapng with four interfaces: Ethernet with nanosecond timestamps (if_tsresol 9), Linux cooked v2, raw IP, and
# Ethernet with an 80-byte snap length; libpcap stops at the second interface ("an interface has a type 276
# different from the type of the first interface"). editcap adds a comment option to the first packet, a section
# comment, and a Decryption Secrets Block that a reader has to step over.
mergecap -F pcapng -w "$WORK/merged.pcapng" "$OUT/ethernet-nsec.pcap" "$OUT/sll2.pcap" "$OUT/raw.pcap" "$OUT/snaplen80.pcap"
printf 'CLIENT_RANDOM 00 00\n' > "$WORK/keys.txt"
editcap -F pcapng --capture-comment "trafficbus fixture" -a "1:first packet" --inject-secrets "tls,$WORK/keys.txt" \
  "$WORK/merged.pcapng" "$OUT/multi-link.pcapng"
python3 "$WORK/swap.py" "$OUT/multi-link.pcapng" "$OUT/multi-link-be.pcapng"
# Two sections, one of each byte order: a file made by concatenating pcapng files is still one pcapng file.
cat "$OUT/ethernet.pcapng" "$OUT/multi-link-be.pcapng" > "$OUT/two-sections.pcapng"

ls -l "$OUT"/ethernet-nsec.pcap "$OUT"/ethernet-be.pcap "$OUT"/ethernet-nsec-be.pcap "$OUT"/multi-link.pcapng \
  "$OUT"/multi-link-be.pcapng "$OUT"/two-sections.pcapng
