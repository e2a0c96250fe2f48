#!/usr/bin/env bash
# Makes the link-type fixtures of the capture-forwarder tests from real traffic between two network
# namespaces (needs root, tcpdump, iproute2, python3, curl, ping, tcprewrite, editcap). Run from anywhere:
#   sudo capture-forwarder/src/test/resources/pcap/make-fixtures.sh
# Writes *.pcap next to this script and prints the expected counts that README.md and the tests quote.
set -euo pipefail

OUT="$(cd "$(dirname "$0")" && pwd)"
NS_A=tbcap-a   # server side: HTTP on 8080 (the service port) and 9000 (another port)
NS_B=tbcap-b   # client side
WORK="$(mktemp -d)"
PIDS=()

cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  ip netns del "$NS_A" 2>/dev/null
  ip netns del "$NS_B" 2>/dev/null
  ip link del tbcap-ta 2>/dev/null
  ip link del tbcap-tb 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "make-fixtures.sh: needs root (network namespaces)" >&2; exit 1; }
for tool in tcpdump ip python3 curl ping tcprewrite editcap; do
  command -v "$tool" >/dev/null || { echo "make-fixtures.sh: $tool is not installed" >&2; exit 1; }
done

ip netns del "$NS_A" 2>/dev/null || true
ip netns del "$NS_B" 2>/dev/null || true
ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add tbcap-va type veth peer name tbcap-vb
ip link set tbcap-va netns "$NS_A"
ip link set tbcap-vb netns "$NS_B"
ip -n "$NS_A" addr add 10.77.0.1/24 dev tbcap-va
ip -n "$NS_B" addr add 10.77.0.2/24 dev tbcap-vb
ip -n "$NS_A" addr add fd77::1/64 dev tbcap-va nodad
ip -n "$NS_B" addr add fd77::2/64 dev tbcap-vb nodad
for ns in "$NS_A" "$NS_B"; do ip -n "$ns" link set lo up; done
ip -n "$NS_A" link set tbcap-va up
ip -n "$NS_B" link set tbcap-vb up

mkdir -p "$WORK/www"
printf 'hello from the fixture server\n' > "$WORK/www/hello.txt"
head -c 3000 /dev/zero | tr '\0' 'x' > "$WORK/www/big.txt"   # more than one segment
for port in 8080 9000; do
  ip netns exec "$NS_A" python3 -m http.server "$port" --bind :: --directory "$WORK/www" \
    >"$WORK/http-$port.log" 2>&1 &
  PIDS+=($!)
done
for _ in $(seq 1 50); do
  ip netns exec "$NS_B" curl -s -o /dev/null --max-time 1 http://10.77.0.1:8080/hello.txt \
    && ip netns exec "$NS_B" curl -s -o /dev/null --max-time 1 http://10.77.0.1:9000/hello.txt && break
  sleep 0.1
done

B() { ip netns exec "$NS_B" "$@"; }
get() { B curl -s -o /dev/null --max-time 5 "$@"; }

# capture NS IFACE FILE [tcpdump options...]: starts tcpdump and waits until it is listening.
capture() {
  local ns=$1 iface=$2 file=$3; shift 3
  ip netns exec "$ns" tcpdump -i "$iface" -U --immediate-mode -n -Z root "$@" -w "$file" 2>"$file.log" &
  CAPTURE_PID=$!
  PIDS+=("$CAPTURE_PID")
  for _ in $(seq 1 50); do grep -q 'listening on' "$file.log" 2>/dev/null && break; sleep 0.1; done
}
stop_capture() {
  sleep 0.5
  kill -INT "$CAPTURE_PID"
  wait "$CAPTURE_PID" || true
  rm -f "$1.log"
}

# 1. Ethernet (veth), a mix: HTTP on 8080 over IPv4 and IPv6, HTTP on 9000, UDP, ICMP, IPv4 fragments, ARP/NDP.
ip -n "$NS_B" neigh flush all   # so the capture holds an ARP exchange (not IP)
capture "$NS_B" tbcap-vb "$OUT/ethernet.pcap"
get http://10.77.0.1:8080/hello.txt
get http://10.77.0.1:8080/big.txt
get http://10.77.0.1:8080/hello.txt
get -g 'http://[fd77::1]:8080/hello.txt'
get http://10.77.0.1:9000/hello.txt
B bash -c 'echo probe > /dev/udp/10.77.0.1/5353' || true
B ping -c 2 -i 0.2 -q 10.77.0.1 >/dev/null
B ping -c 1 -q -s 2000 10.77.0.1 >/dev/null   # fragmented both ways at MTU 1500
stop_capture "$OUT/ethernet.pcap"

# 2. Snaplen cut: the same kind of traffic captured with -s 80 so every data segment is cut.
capture "$NS_B" tbcap-vb "$OUT/snaplen80.pcap" -s 80
get http://10.77.0.1:8080/hello.txt
stop_capture "$OUT/snaplen80.pcap"

# 3./4. 802.1Q and 802.1ad+802.1Q tags. This kernel has no 8021q module (no VLAN sub-interfaces, no tc
# vlan action), so the tags are added to the real Ethernet capture with tcprewrite.
tcprewrite --enet-vlan=add --enet-vlan-tag=100 --enet-vlan-cfi=0 --enet-vlan-pri=0 \
  --infile="$OUT/ethernet.pcap" --outfile="$OUT/vlan.pcap"
tcprewrite --enet-vlan=add --enet-vlan-tag=200 --enet-vlan-cfi=0 --enet-vlan-pri=0 --enet-vlan-proto=802.1ad \
  --infile="$OUT/vlan.pcap" --outfile="$OUT/qinq.pcap"

# pcapng: the Ethernet capture in the other file format libpcap reads (editcap from wireshark-common).
editcap -F pcapng "$OUT/ethernet.pcap" "$OUT/ethernet.pcapng"

# 5./6. Linux cooked captures on the "any" device of the server namespace.
capture "$NS_A" any "$OUT/sll.pcap" -y LINUX_SLL
get http://10.77.0.1:8080/hello.txt
get -g 'http://[fd77::1]:8080/hello.txt'
get http://10.77.0.1:9000/hello.txt
stop_capture "$OUT/sll.pcap"
capture "$NS_A" any "$OUT/sll2.pcap" -y LINUX_SLL2
get http://10.77.0.1:8080/hello.txt
get -g 'http://[fd77::1]:8080/hello.txt'
get http://10.77.0.1:9000/hello.txt
stop_capture "$OUT/sll2.pcap"

# 7. Raw IP: a tun device in each namespace, joined by a small relay that copies packets between them.
cat > "$WORK/tun-relay.py" <<'EOF'
import fcntl, os, select, struct, sys, time
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454ca, 0x0001, 0x1000
def tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd
a, b = tun("tbcap-ta"), tun("tbcap-tb")
print("ready", flush=True)
peer = {a: b, b: a}
deadline = time.time() + 60   # bounded: the script stops it long before
while time.time() < deadline:
    ready, _, _ = select.select([a, b], [], [], 0.5)
    for fd in ready:
        packet = os.read(fd, 65536)
        try:
            os.write(peer[fd], packet)
        except OSError:
            pass   # the peer is not up yet: drop, as a cable would

EOF
python3 "$WORK/tun-relay.py" > "$WORK/relay.log" 2>&1 &
RELAY_PID=$!
PIDS+=("$RELAY_PID")
for _ in $(seq 1 50); do grep -q ready "$WORK/relay.log" && break; sleep 0.1; done
ip link set tbcap-ta netns "$NS_A"
ip link set tbcap-tb netns "$NS_B"
ip -n "$NS_A" addr add 10.79.0.1 peer 10.79.0.2 dev tbcap-ta
ip -n "$NS_B" addr add 10.79.0.2 peer 10.79.0.1 dev tbcap-tb
ip -n "$NS_A" link set tbcap-ta up
ip -n "$NS_B" link set tbcap-tb up
capture "$NS_A" tbcap-ta "$OUT/raw.pcap"
get http://10.79.0.1:8080/hello.txt
get http://10.79.0.1:8080/big.txt
get http://10.79.0.1:9000/hello.txt
B ping -c 1 -q 10.79.0.1 >/dev/null
stop_capture "$OUT/raw.pcap"

# Expected counts for the tests, by the same rules as the forwarder (service port 8080), from tcpdump filters.
count() { tcpdump -r "$1" -n "$2" 2>/dev/null | wc -l; }
printf '%-15s %-11s %5s %9s %9s %8s %8s %11s %6s\n' \
  file link-type total published not-port not-tcp not-ip ip-fragment bytes
for f in ethernet snaplen80 vlan qinq sll sll2 raw; do
  file="$OUT/$f.pcap"
  case $f in vlan) v='vlan and ' ;; qinq) v='vlan and vlan and ' ;; *) v='' ;; esac
  frag="ip[6:2] & 0x3fff != 0"
  total=$(count "$file" '')
  port=$(count "$file" "${v}tcp port 8080")
  notport=$(count "$file" "${v}tcp and not port 8080")
  nottcp=$(count "$file" "${v}((ip and not tcp and not ($frag)) or (ip6 and not tcp))")
  notip=$(count "$file" "${v}not ip and not ip6")
  fragments=$(count "$file" "${v}ip and ($frag)")
  dlt=$(tcpdump -r "$file" -c 1 2>&1 >/dev/null | sed -n 's/.*link-type \([^ ]*\).*/\1/p')
  printf '%-15s %-11s %5s %9s %9s %8s %8s %11s %6s\n' \
    "$f.pcap" "$dlt" "$total" "$port" "$notport" "$nottcp" "$notip" "$fragments" "$(stat -c %s "$file")"
done
# snaplen80.pcap: segments longer than the 80-byte snaplen are "truncated", not published.
echo "snaplen80.pcap cut short: $(tcpdump -r "$OUT/snaplen80.pcap" -n -v 'tcp port 8080 and greater 81' 2>/dev/null | grep -c 'IP (')"
