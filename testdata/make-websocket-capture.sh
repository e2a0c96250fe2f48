#!/usr/bin/env bash
# Makes testdata/websocket-sessions.pcap: a real WebSocket service (websocket-server.py) and a real WebSocket
# client, both python3-websockets (Debian package; permessage-deflate as negotiated by default), on loopback,
# recorded by tcpdump on lo. Three connections:
#   /echo  5 text messages 0.1 s apart, each echoed; 2 binary ones (100 and 70000 bytes, the latter with a 64-bit
#          length); a ping (answered by a pong); the close handshake
#   /sink  8 text messages 0.1 s apart that get no answer (their timing alone paces them); the close handshake
#   /echo  one text message sent as 3 fragments (continuation frames), echoed; the close handshake
# Needs root (tcpdump), tcpdump, /usr/bin/python3 with python3-websockets. Writes websocket-sessions.pcap and
# websocket-sessions.expected: the service port, then the server's log of every message it received.
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
PY=/usr/bin/python3
if [ "$(id -u)" != 0 ]; then
    echo "make-websocket-capture.sh: needs root (tcpdump)" >&2
    exit 2
fi
command -v tcpdump >/dev/null || { echo "make-websocket-capture.sh: tcpdump is missing" >&2; exit 2; }
"$PY" -c 'import websockets' 2>/dev/null || { echo "make-websocket-capture.sh: needs python3-websockets" >&2; exit 2; }

WORK=$(mktemp -d /tmp/tbws.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$PY" "$HERE/websocket-server.py" 0 "$WORK/server.log" > "$WORK/port" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT=$(head -1 "$WORK/port")

tcpdump -i lo -s 0 -B 65536 -U --immediate-mode -w "$WORK/ws.pcap" "tcp port $PORT" 2> "$WORK/tcpdump.log" &
TCPDUMP=$!
PIDS+=($TCPDUMP)
for _ in $(seq 50); do grep -q 'listening on' "$WORK/tcpdump.log" && break; sleep 0.1; done

"$PY" - "$PORT" <<'PY'
import asyncio, os, sys
import websockets

port = int(sys.argv[1])

async def main():
    async with websockets.connect("ws://127.0.0.1:%d/echo" % port, ping_interval=None) as ws:
        for i in range(5):
            text = "hello %d " % i + "x" * (10 * i)
            await ws.send(text)
            assert await ws.recv() == text
            await asyncio.sleep(0.1)
        for size in (100, 70000):
            data = bytes((i * 7) % 256 for i in range(size))
            await ws.send(data)
            assert await ws.recv() == data
        await (await ws.ping(b"are you there"))
    await asyncio.sleep(0.1)
    async with websockets.connect("ws://127.0.0.1:%d/sink" % port, ping_interval=None) as ws:
        for i in range(8):
            await ws.send("tick %d" % i)
            await asyncio.sleep(0.1)
    await asyncio.sleep(0.1)
    async with websockets.connect("ws://127.0.0.1:%d/echo" % port, ping_interval=None) as ws:
        await ws.send(["part one, ", "part two, ", "part three"])
        assert await ws.recv() == "part one, part two, part three"

asyncio.run(main())
PY

sleep 0.5
kill "$TCPDUMP"; wait "$TCPDUMP" 2>/dev/null || true
cp "$WORK/ws.pcap" "$HERE/websocket-sessions.pcap"
{
    echo "# made by make-websocket-capture.sh: the service port, then the server's log: path kind bytes sha256-prefix time"
    echo "port $PORT"
    cat "$WORK/server.log"
} > "$HERE/websocket-sessions.expected"
echo "make-websocket-capture.sh: $(grep -c '^/' "$HERE/websocket-sessions.expected") messages on port $PORT" >&2
