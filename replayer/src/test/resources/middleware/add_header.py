#!/usr/bin/env python3
# A GoReplay-protocol middleware: adds "X-Middleware: 1" after the request line of every request (the request
# grows), passes other messages back unchanged, and logs each request line to stderr.
import sys

for line in sys.stdin:
    decoded = bytes.fromhex(line.strip())
    meta, payload = decoded.split(b'\n', 1)
    if meta.startswith(b'1 '):
        first, rest = payload.split(b'\r\n', 1)
        payload = first + b'\r\nX-Middleware: 1\r\n' + rest
        sys.stderr.write('seen ' + first.decode('latin-1') + '\n')
        sys.stderr.flush()
    sys.stdout.write((meta + b'\n' + payload).hex() + '\n')
    sys.stdout.flush()
