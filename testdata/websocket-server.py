#!/usr/bin/env python3
# A WebSocket service for the replay fixtures (python3-websockets): /echo answers every message with the same
# message, /sink answers nothing. Every message received is logged to LOG as one line
# "PATH KIND BYTES SHA256-PREFIX MONOTONIC-SECONDS" (KIND text or binary). Prints the port it listens on.
# Usage: websocket-server.py PORT LOG [HOST]   (PORT 0: any free port; HOST 127.0.0.1 unless given)
import asyncio
import hashlib
import sys
import time

import websockets

LOG = open(sys.argv[2], "a", buffering=1)


async def handler(ws, path=None):
    path = path or ws.path
    async for message in ws:
        data = message.encode() if isinstance(message, str) else message
        kind = "text" if isinstance(message, str) else "binary"
        LOG.write("%s %s %d %s %.6f\n" % (path, kind, len(data), hashlib.sha256(data).hexdigest()[:16],
                                          time.monotonic()))
        if path == "/echo":
            await ws.send(message)


async def main():
    # No pings of its own: what the server sends is only what the clients ask for.
    async with websockets.serve(handler, sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1", int(sys.argv[1]),
                                  ping_interval=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


asyncio.run(main())
