#!/usr/bin/env bash
# Makes the shared end-to-end pcap fixtures from real traffic: nginx (testdata/nginx-fixture.conf) in a "server"
# network namespace, curl in a "client" namespace, tcpdump on the server side of a 1500-MTU veth pair.
# Needs root and: iproute2, nginx-light, tcpdump, curl, ethtool, iputils-ping, python3.
# Writes: testdata/http-sessions.pcap + .expected, testdata/paced-sessions.pcap + .expected,
#         testdata/mixed-frames.pcap + .expected, examples/capture.pcap (a copy of http-sessions.pcap),
#         testdata/http-credentials.pcap + .expected.
# Usage: make-captures.sh [NAME...]  (NAME: http-sessions, paced-sessions, mixed-frames, http-credentials; default all)
set -euo pipefail

ALL=(http-sessions paced-sessions mixed-frames http-credentials)
WANT=("${@:-${ALL[@]}}")
for w in "${WANT[@]}"; do
    [[ " ${ALL[*]} " == *" $w "* ]] || { echo "make-captures.sh: unknown capture '$w' (known: ${ALL[*]})" >&2; exit 2; }
done
want() { [[ " ${WANT[*]} " == *" $1 "* ]]; }

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
ROOT=$(dirname "$HERE")

if [ "$(id -u)" != 0 ]; then
    echo "make-captures.sh: needs root (network namespaces, tcpdump)" >&2
    exit 2
fi
for tool in ip nginx tcpdump curl ethtool ping sha256sum python3; do
    command -v "$tool" >/dev/null || { echo "make-captures.sh: '$tool' is missing" >&2; exit 2; }
done

ID=$$
NS_S=tbfix-s-$ID
NS_C=tbfix-c-$ID
DEV_S=tbfs$ID
DEV_C=tbfc$ID
SERVER4=10.77.0.1
CLIENT4=10.77.0.2
SERVER6=fd77::1
CLIENT6=fd77::2
PORT=8080
OTHER_PORT=9090
WORK=$(mktemp -d /tmp/tbfix.XXXXXX)
PIDS=()
TCPDUMP_PID=

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    ip netns del "$NS_S" 2>/dev/null || true
    ip netns del "$NS_C" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_client() { ip netns exec "$NS_C" "$@"; }

# --- network: two namespaces joined by a veth pair, IPv4 and IPv6, no offloads so the capture shows
# --- real 1500-MTU segments (with TSO/GRO tcpdump would see 64 KB super-packets).
ip netns add "$NS_S"
ip netns add "$NS_C"
ip link add "$DEV_S" netns "$NS_S" type veth peer name "$DEV_C" netns "$NS_C"
for side in "$NS_S $DEV_S $SERVER4 $SERVER6" "$NS_C $DEV_C $CLIENT4 $CLIENT6"; do
    read -r ns dev ip4 ip6 <<<"$side"
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "$dev" mtu 1500 up
    ip -n "$ns" addr add "$ip4/24" dev "$dev"
    ip -n "$ns" addr add "$ip6/64" dev "$dev" nodad
    ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off tx off rx off >/dev/null 2>&1 \
        || ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off >/dev/null
done

# --- the real server
mkdir -p "$WORK/nginx"
# Started with "ip netns exec" itself (not through a function, which would run in a subshell) so that $! is
# the server's own PID: ip netns exec execs the command.
ip netns exec "$NS_S" nginx -p "$WORK/nginx/" -c "$HERE/nginx-fixture.conf" -e "$WORK/nginx/error.log" &
PIDS+=($!)
for _ in $(seq 50); do
    in_client curl -s -o /dev/null --max-time 1 "http://$SERVER4:$PORT/ready" && break
    sleep 0.1
done
in_client curl -sf -o /dev/null --max-time 2 "http://$SERVER4:$PORT/ready" \
    || { echo "make-captures.sh: nginx did not start:" >&2; cat "$WORK/nginx/error.log" >&2; exit 1; }

start_capture() { # file [filter...]
    local out=$1
    shift
    : >"$WORK/tcpdump.log"
    ip netns exec "$NS_S" tcpdump -i "$DEV_S" -s 0 -U --immediate-mode -Z root -w "$out" "$@" 2>"$WORK/tcpdump.log" &
    TCPDUMP_PID=$!
    PIDS+=("$TCPDUMP_PID")
    for _ in $(seq 100); do
        grep -q "listening on" "$WORK/tcpdump.log" && return 0
        sleep 0.1
    done
    echo "make-captures.sh: tcpdump did not start:" >&2
    cat "$WORK/tcpdump.log" >&2
    exit 1
}

stop_capture() {
    sleep 1 # let the last FIN/ACKs through; --immediate-mode hands packets over at once
    kill -TERM "$TCPDUMP_PID" # background jobs ignore SIGINT; tcpdump flushes and closes the file on TERM
    wait "$TCPDUMP_PID" || true
}

# One curl process = one TCP connection (curl reuses its connection for every URL on its command line).
# -w prints what curl actually sent: client port (= the session), method, URL, body bytes uploaded.
REQUESTS=$WORK/requests.txt
: >"$REQUESTS"
session() { # [curl options...] -- url-path...
    local opts=() urls=()
    while [ "$1" != "--" ]; do opts+=("$1"); shift; done
    shift
    for path in "$@"; do urls+=(-o /dev/null "http://$SERVER4:$PORT$path"); done
    in_client curl -sS --max-time 10 -H 'Expect:' "${opts[@]}" \
        -w '%{local_port} %{method} %{url_effective} %{size_upload}\n' "${urls[@]}" >>"$REQUESTS"
}

# Writes the .expected file: one line per request in the order sent, "client-port method path body-bytes body-sha256".
write_expected() { # out body-file-or-empty
    local out=$1 body=$2 sum=-
    [ -n "$body" ] && sum=$(sha256sum "$body" | cut -d' ' -f1)
    {
        echo "# Made by testdata/make-captures.sh from curl's own report (-w) of what it sent."
        echo "# client-port method path body-bytes body-sha256 (one line per request, in the order sent)"
        while read -r cport method url size; do
            local path="/${url#*://*/}" hash=-
            [ "$size" != 0 ] && hash=$sum
            echo "$cport $method $path $size $hash"
        done <"$REQUESTS"
    } >"$out"
}

check_capture() { # pcap sessions
    local syns biggest
    syns=$(tcpdump -nr "$1" "tcp dst port $PORT and tcp[tcpflags] & tcp-syn != 0" 2>/dev/null | wc -l)
    [ "$syns" = "$2" ] || { echo "make-captures.sh: $1 has $syns SYNs, expected $2" >&2; cp "$1" /tmp/failed-capture.pcap; cat "$REQUESTS" >&2; exit 1; }
    biggest=$(tcpdump -nr "$1" -e 2>/dev/null | sed -n 's/.*length \([0-9]*\):.*/\1/p' | sort -n | tail -1)
    [ "$biggest" -le 1514 ] || { echo "make-captures.sh: $1 has a $biggest-byte frame (offloads on?)" >&2; exit 1; }
}

if want http-sessions; then
# --- http-sessions.pcap: 10 one-request sessions, 5 keep-alive sessions, one keep-alive session with a 20 KB POST
BODY=$WORK/post-body.txt
seq -w 1 4096 >"$BODY" # 4096 lines of 5 bytes: 20480 bytes, no two segments alike
start_capture "$WORK/http-sessions.pcap" tcp port "$PORT"
for s in $(seq -w 1 10); do
    session -H 'Connection: close' -- "/s$s/r01"
    sleep 0.05
done
n=3
for s in 11 12 13 14 15; do
    paths=()
    for r in $(seq 1 "$n"); do paths+=("$(printf '/s%s/r%02d' "$s" "$r")"); done
    session -- "${paths[@]}"
    n=$(( n == 5 ? 3 : n + 1 ))
    sleep 0.05
done
in_client curl -sS --max-time 10 -H 'Expect:' -w '%{local_port} %{method} %{url_effective} %{size_upload}\n' \
    -o /dev/null "http://$SERVER4:$PORT/s16/r01" \
    --next -H 'Expect:' -w '%{local_port} %{method} %{url_effective} %{size_upload}\n' \
    -o /dev/null --data-binary "@$BODY" "http://$SERVER4:$PORT/s16/r02" \
    --next -H 'Expect:' -w '%{local_port} %{method} %{url_effective} %{size_upload}\n' \
    -o /dev/null "http://$SERVER4:$PORT/s16/r03" >>"$REQUESTS"
stop_capture
check_capture "$WORK/http-sessions.pcap" 16
write_expected "$WORK/http-sessions.expected" "$BODY"
[ "$(cut -d' ' -f1 "$WORK/http-sessions.expected" | grep -v '^#' | sort -u | wc -l)" = 16 ] \
    || { echo "make-captures.sh: curl did not keep one connection per session" >&2; exit 1; }
fi

if want paced-sessions; then
# --- paced-sessions.pcap: 4 one-request sessions started 0.5 s apart (for the --speed 1 timing test)
: >"$REQUESTS"
start_capture "$WORK/paced-sessions.pcap" tcp port "$PORT"
for s in 1 2 3 4; do
    session -H 'Connection: close' -- "/p0$s/r01"
    [ "$s" = 4 ] || sleep 0.5
done
stop_capture
check_capture "$WORK/paced-sessions.pcap" 4
write_expected "$WORK/paced-sessions.expected" ""
fi

if want mixed-frames; then
# --- mixed-frames.pcap: everything on the wire: ARP/NDP, ICMP and ICMPv6 pings, UDP (and the ICMP errors it
# --- draws), IPv4 and IPv6 TCP to the service port and to another port.
ip -n "$NS_S" neigh flush dev "$DEV_S"
ip -n "$NS_C" neigh flush dev "$DEV_C"
start_capture "$WORK/mixed-frames.pcap"
in_client ping -q -c 3 -i 0.2 "$SERVER4" >/dev/null
in_client ping -q -6 -c 2 -i 0.2 "$SERVER6" >/dev/null
in_client curl -sS --max-time 5 -o /dev/null -o /dev/null "http://$SERVER4:$PORT/m01/r01" "http://$SERVER4:$PORT/m01/r02"
in_client curl -sS --max-time 5 -g -o /dev/null "http://[$SERVER6]:$PORT/m02/r01"
in_client curl -sS --max-time 5 -o /dev/null "http://$SERVER4:$OTHER_PORT/m03/r01"
in_client curl -sS --max-time 5 -g -o /dev/null "http://[$SERVER6]:$OTHER_PORT/m04/r01"
in_client bash -c "for i in 1 2 3; do echo datagram-\$i >/dev/udp/$SERVER4/5353; done"
in_client bash -c "for i in 1 2; do echo datagram6-\$i >/dev/udp/$SERVER6/5353; done"
stop_capture
count() { tcpdump -nr "$WORK/mixed-frames.pcap" "$@" 2>/dev/null | wc -l; }
{
    echo "# Made by testdata/make-captures.sh: packet counts of mixed-frames.pcap by tcpdump filter."
    echo "# name count  (tcp-port: TCP to or from port $PORT, IPv4 and IPv6; the rest are the forwarder's skip reasons)"
    echo "packets $(count)"
    echo "tcp-port $(count "tcp port $PORT")"
    echo "tcp-port-ipv6 $(count "ip6 and tcp port $PORT")"
    echo "not-port $(count "tcp and not port $PORT")"
    echo "not-tcp $(count "(ip or ip6) and not tcp")"
    echo "not-ip $(count "not ip and not ip6")"
} >"$WORK/mixed-frames.expected"
fi

if want http-credentials; then
# --- http-credentials.pcap: credentials in clear, for the redaction tests. Two curl sessions of 5 keep-alive
# --- requests with Authorization, Cookie and X-Api-Key headers and a token in the query (nginx answers with
# --- Set-Cookie); then a python3 client writes one request head in four writes with TCP_NODELAY, 0.2 s apart,
# --- so that header lines are split across segments (inside a name, inside values), and a second request whole.
: >"$REQUESTS"
start_capture "$WORK/http-credentials.pcap" tcp port "$PORT"
for s in 1 2; do
    paths=()
    for r in 1 2 3 4 5; do paths+=("/cred/s$s/r0$r?token=tbQueryToken$s"); done
    session -H "Authorization: Bearer tbBearerSecret$s" -H "Cookie: session=tbCookieSecret$s" \
        -H "X-Api-Key: tbApiKeySecret$s" -- "${paths[@]}"
    sleep 0.05
done
in_client python3 - "$SERVER4" "$PORT" >>"$REQUESTS" <<'PY'
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def answer():
    data = b""
    while b"\r\n\r\nok\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit("server closed the connection")
        data += chunk
for part in (b"GET /cred/split/r01 HTTP/1.1\r\nHost: " + host.encode() + b"\r\nAuthori",
             b"zation: Bearer tbSplitBearerSecret\r\nCookie: session=tbSplit",
             b"CookieSecret\r\nX-Api-Key: tbSplitApi",
             b"KeySecret\r\n\r\n"):
    s.sendall(part)
    time.sleep(0.2)
answer()
s.sendall(b"GET /cred/split/r02 HTTP/1.1\r\nHost: " + host.encode() + b"\r\nCookie: session=tbWholeCookieSecret\r\n\r\n")
answer()
print(s.getsockname()[1], "GET", "http://%s:%d/cred/split/r01" % (host, port), 0)
print(s.getsockname()[1], "GET", "http://%s:%d/cred/split/r02" % (host, port), 0)
s.close()
PY
stop_capture
check_capture "$WORK/http-credentials.pcap" 3
split=$(tcpdump -nr "$WORK/http-credentials.pcap" -A "tcp dst port $PORT" 2>/dev/null | grep -c 'Authori$' || true)
[ "$split" -ge 1 ] || { echo "make-captures.sh: no segment of http-credentials.pcap ends inside 'Authorization'" >&2; exit 1; }
write_expected "$WORK/http-credentials.expected" ""
{
    echo "# secrets: the credential values this capture holds in clear (the redaction tests look for them)"
    for s in 1 2; do
        echo "# secret Authorization tbBearerSecret$s"
        echo "# secret Cookie tbCookieSecret$s"
        echo "# secret X-Api-Key tbApiKeySecret$s"
        echo "# secret token tbQueryToken$s"
    done
    echo "# secret Set-Cookie tbSetCookieSecret42"
    echo "# secret Authorization tbSplitBearerSecret"
    echo "# secret Cookie tbSplitCookieSecret"
    echo "# secret X-Api-Key tbSplitApiKeySecret"
    echo "# secret Cookie tbWholeCookieSecret"
} >>"$WORK/http-credentials.expected"
fi

for name in "${WANT[@]}"; do
    cp "$WORK/$name.pcap" "$WORK/$name.expected" "$HERE"/
    chmod 644 "$HERE/$name.pcap" "$HERE/$name.expected"
done
if want http-sessions; then
    mkdir -p "$ROOT/examples"
    cp "$WORK/http-sessions.pcap" "$ROOT/examples/capture.pcap"
    chmod 644 "$ROOT/examples/capture.pcap"
fi
echo "wrote:"
for name in "${WANT[@]}"; do ls -l "$HERE/$name.pcap" "$HERE/$name.expected"; done
