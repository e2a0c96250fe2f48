#!/usr/bin/env bash
# Makes testdata/redis-sessions.pcap from real Redis traffic: redis-server on a free loopback port, the real
# redis-cli and redis-benchmark as clients, tcpdump on lo. Needs root (tcpdump) and: redis-server, redis-tools,
# tcpdump. Writes redis-sessions.pcap and redis-sessions.expected (what the replay must reproduce).
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
if [ "$(id -u)" != 0 ]; then
    echo "make-redis-capture.sh: needs root (tcpdump)" >&2
    exit 2
fi
for tool in redis-server redis-cli redis-benchmark tcpdump python3; do
    command -v "$tool" >/dev/null || { echo "make-redis-capture.sh: '$tool' is missing" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/tbredis.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" --daemonize no \
    > "$WORK/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do redis-cli -p "$PORT" PING >/dev/null 2>&1 && break; sleep 0.1; done
cli() { redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }

tcpdump -i lo -s 0 -B 65536 -U --immediate-mode -w "$WORK/redis.pcap" "tcp port $PORT" 2> "$WORK/tcpdump.log" &
TCPDUMP=$!
PIDS+=($TCPDUMP)
for _ in $(seq 50); do grep -q 'listening on' "$WORK/tcpdump.log" && break; sleep 0.1; done

# 1. One connection, 120 commands pipelined by redis-cli --pipe (it sends them all, then an ECHO marker):
#    strings, counters, a list, a hash, a sorted set, and replies of every RESP2 type (nested arrays included).
python3 - > "$WORK/pipe.txt" <<'PY'
def cmd(*a):
    out = "*%d\r\n" % len(a)
    for x in a:
        out += "$%d\r\n%s\r\n" % (len(x.encode()), x)
    return out
s = ""
for i in range(40):
    s += cmd("SET", "key:%d" % i, "value-%d" % i)
for i in range(20):
    s += cmd("INCR", "counter")
for i in range(20):
    s += cmd("RPUSH", "list", "item-%d" % i)
s += cmd("HSET", "hash", "a", "1", "b", "2", "c", "3")
s += cmd("ZADD", "zset", "1", "one", "2", "two", "3", "three")
for i in range(10):
    s += cmd("GET", "key:%d" % i)
s += cmd("GET", "missing")
s += cmd("MGET", "key:1", "missing", "key:2")
s += cmd("LRANGE", "list", "0", "-1")
s += cmd("HGETALL", "hash")
s += cmd("ZRANGE", "zset", "0", "-1", "WITHSCORES")
s += cmd("INCR", "key:0")  # an error reply: not an integer
for i in range(18):
    s += cmd("EXISTS", "key:%d" % i)
print(s, end="")
PY
# --pipe exits non-zero when a reply is an error, as the INCR on a string is on purpose.
cli --pipe < "$WORK/pipe.txt" > "$WORK/pipe.out" 2>&1 || grep -q "errors: 1," "$WORK/pipe.out"

# 2. Request-answer sessions of one command each, RESP2 and RESP3 (HELLO 3 first: a map reply).
cli SET single "one command" >/dev/null
cli GET single >/dev/null
cli -3 HGETALL hash >/dev/null
cli LRANGE list 0 4 >/dev/null

# 3. redis-benchmark: 2 connections, 10 commands pipelined per write.
redis-benchmark -h 127.0.0.1 -p "$PORT" -c 2 -n 200 -P 10 -t set,get,lpush -q > "$WORK/bench.out"

sleep 0.5
kill -INT "$TCPDUMP"
wait "$TCPDUMP" 2>/dev/null || true
# A capture with holes would be replayed incomplete: refuse it rather than commit it.
dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$WORK/tcpdump.log")
if [ "${dropped:-0}" != 0 ]; then
    echo "make-redis-capture.sh: tcpdump dropped $dropped packets; run it again on a quieter machine" >&2
    exit 1
fi
cp "$WORK/redis.pcap" "$HERE/redis-sessions.pcap"
{
    echo "port $PORT"
    echo "counter $(cli GET counter)"
    echo "list-length $(cli LLEN list)"
    echo "key:39 $(cli GET key:39)"
    echo "pipe-replies $(sed -n 's/.*replies: \([0-9]*\).*/\1/p' "$WORK/pipe.out")"
} > "$HERE/redis-sessions.expected"
cat "$WORK/pipe.out" "$WORK/bench.out" >&2
cat "$HERE/redis-sessions.expected" >&2
