#!/usr/bin/env bash
# Makes testdata/http-tokens.pcap: a real token-issuing service (token-server.py) and a real HTTP client
# (python3's http.client, one keep-alive connection per session) on loopback, recorded by tcpdump on lo. Each of
# 4 sessions asks GET /token, then GET /secure?token=<the token it got> twice. Replayed into a fresh
# token-server.py, the captured tokens are unknown there: only a middleware that reads the answers (GoReplay's
# token_modifier example, --middleware-responses) makes /secure succeed. Needs root (tcpdump), tcpdump, python3.
# Writes http-tokens.pcap and http-tokens.expected (the service port, then one line per request).
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
if [ "$(id -u)" != 0 ]; then
    echo "make-middleware-capture.sh: needs root (tcpdump)" >&2
    exit 2
fi
for tool in tcpdump python3; do
    command -v "$tool" >/dev/null || { echo "make-middleware-capture.sh: '$tool' is missing" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/tbtokens.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 "$HERE/token-server.py" 0 > "$WORK/port" &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT=$(head -1 "$WORK/port")

tcpdump -i lo -s 0 -B 65536 -U --immediate-mode -w "$WORK/tokens.pcap" "tcp port $PORT" 2> "$WORK/tcpdump.log" &
TCPDUMP=$!
PIDS+=($TCPDUMP)
for _ in $(seq 50); do grep -q 'listening on' "$WORK/tcpdump.log" && break; sleep 0.1; done

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
    echo "# made by make-middleware-capture.sh: the service port, then client-port method path per request"
    echo "port $PORT"
    cat "$WORK/requests"
} > "$HERE/http-tokens.expected"
echo "make-middleware-capture.sh: $(grep -c GET "$HERE/http-tokens.expected") requests on port $PORT" >&2
