#!/usr/bin/env python3
# A GoReplay-protocol middleware: returns every request except the 10th, 20th, ... it reads, and writes the
# request line of each one it drops to the file named by its argument.
import sys

dropped = open(sys.argv[1], 'w')
n = 0
for line in sys.stdin:
    decoded = bytes.fromhex(line.strip())
    meta, payload = decoded.split(b'\n', 1)
    if meta.startswith(b'1 '):
        n += 1
        if n % 10 == 0:
            dropped.write(payload.split(b'\r\n', 1)[0].decode('latin-1') + '\n')
            dropped.flush()
            continue
    sys.stdout.write(line.strip() + '\n')
    sys.stdout.flush()
