#!/usr/bin/env bash
# Makes the protocol fixtures from real tools on loopback, recorded by tcpdump on lo (root). Needs tcpdump, python3,
# and /usr/bin/python3 with python3-websockets (Debian package). `make-protocol-captures.sh tokens` or `... websocket`
# remakes only that one.
#
# http-tokens.pcap: a token-issuing service (token-server.py) and python3's http.client, one keep-alive connection
#   per session: each of 4 sessions asks GET /token, then GET /secure?token=<the token it got> twice. Replayed into
#   a fresh token-server.py the captured tokens are unknown there: only a middleware that reads the answers
#   (GoReplay's token_modifier example, --middleware-responses) makes /secure succeed. http-tokens.expected: the
#   service port, then one line per request.
# websocket-sessions.pcap: python3-websockets' client against websocket-server.py (permessage-deflate as negotiated
#   by default), three connections:
#     /echo  5 text messages 0.1 s apart, each echoed; 2 binary ones (100 and 70000 bytes, the latter with a 64-bit
#            length); a ping (answered by a pong); the close handshake
#     /sink  8 text messages 0.1 s apart that get no answer (their timing alone paces them); the close handshake
#     /echo  one text message sent as 3 fragments (continuation frames), echoed; the close handshake
#   websocket-sessions.expected: the service port, then the server's log of every message it received.
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
PY=/usr/bin/python3
WHAT="${1:-all}"
if [ "$(id -u)" != 0 ]; then
    echo "make-protocol-captures.sh: needs root (tcpdump)" >&2
    exit 2
fi
command -v tcpdump >/dev/null || { echo "make-protocol-captures.sh: tcpdump is missing" >&2; exit 2; }
"$PY" -c 'import websockets' 2>/dev/null || { echo "make-protocol-captures.sh: needs python3-websockets" >&2; exit 2; }

WORK=$(mktemp -d /tmp/tbproto.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# record NAME PORT: tcpdump of the port into $WORK/NAME.pcap, its PID in TCPDUMP once it listens
record() {
    tcpdump -i lo -s 0 -B 65536 -U --immediate-mode -w "$WORK/$1.pcap" "tcp port $2" 2> "$WORK/$1.tcpdump.log" &
    TCPDUMP=$!
    PIDS+=($TCPDUMP)
    for _ in $(seq 50); do grep -q 'listening on' "$WORK/$1.tcpdump.log" && break; sleep 0.1; done
}

# wait_port FILE: the first line of FILE once the server wrote it
wait_port() {
    for _ in $(seq 100); do [ -s "$1" ] && break; sleep 0.1; done
    head -1 "$1"
}

tokens() {
python3 "$HERE/token-server.py" 0 > "$WORK/tokens.port" &
PIDS+=($!)
PORT=$(wait_port "$WORK/tokens.port")

record tokens "$PORT"

python3 - "$PORT" > "$WORK/requests" <<'PY'
import http.client, sys, time
port = int(sys.argv[1])
for s in range(4):
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", "/token")
    r = c.getresponse()
    token = r.read().decode()
    assert r.status == 200, r.status
    print(c.sock.getsockname()[1], "GET", "/token")
    for k in range(2):
        c.request("GET", "/secure?token=" + token)
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
        print(c.sock.getsockname()[1], "GET", "/secure")
    c.close()
    time.sleep(0.05)
PY

sleep 0.5
kill "$TCPDUMP"; wait "$TCPDUMP" 2>/dev/null || true
cp "$WORK/tokens.pcap" "$HERE/http-tokens.pcap"
{
    echo "# made by make-protocol-captures.sh: the service port, then client-port method path per request"
    echo "port $PORT"
    cat "$WORK/requests"
} > "$HERE/http-tokens.expected"
echo "make-protocol-captures.sh: http-tokens: $(grep -c GET "$HERE/http-tokens.expected") requests on port $PORT" >&2
}

websocket() {
"$PY" "$HERE/websocket-server.py" 0 "$WORK/server.log" > "$WORK/ws.port" &
PIDS+=($!)
PORT=$(wait_port "$WORK/ws.port")

record ws "$PORT"

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
    echo "# made by make-protocol-captures.sh: the service port, then the server's log: path kind bytes sha256-prefix time"
    echo "port $PORT"
    cat "$WORK/server.log"
} > "$HERE/websocket-sessions.expected"
echo "make-protocol-captures.sh: websocket-sessions: $(grep -c '^/' "$HERE/websocket-sessions.expected") messages on port $PORT" >&2
}

case "$WHAT" in
    tokens) tokens ;;
    websocket) websocket ;;
    all) tokens; websocket ;;
    *) echo "make-protocol-captures.sh: no fixture '$WHAT' (tokens, websocket)" >&2; exit 2 ;;
esac
