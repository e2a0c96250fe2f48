#!/usr/bin/env bash
# Imports every capture of a folder (e.g. the tcpdump project's tests/*.pcap) with `forward --pcap` into one
# embedded broker and checks what a user relies on for odd real-world files: no stack trace, no hang, an exit
# code of 0 (done) or 2 (bad input named), and read = published + skipped. Prints one line per file that breaks
# a rule and a table of exit codes, skip reasons and link types.
# Usage: bench/corpus-import.sh DIR [PORTS]   (PORTS: service ports, default the well-known TCP services; the broker listens on 19392)
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
dir=${1:?usage: bench/corpus-import.sh DIR [PORT]}
port=${2:-20,21,22,23,25,53,80,110,111,119,139,143,179,389,443,445,513,514,873,1723,2049,3128,3306,5060,5432,6379,8080,8443,9092}
out=bench/out/corpus; mkdir -p "$out"; rm -f "$out"/*.log
per_file_timeout=${CORPUS_TIMEOUT:-60}
echo "corpus: $(ls "$dir" | wc -l) files in $dir; load: $(cut -d' ' -f1-3 /proc/loadavg)"

bin/trafficbus broker --listen 127.0.0.1:19392 > "$out/broker.out" 2>&1 &
broker=$!
trap 'kill $broker 2>/dev/null; wait $broker 2>/dev/null || true' EXIT
for _ in $(seq 60); do grep -q "listening\|ready\|started" "$out/broker.out" 2>/dev/null && break; sleep 1; done

n=0; bad=0; hung=0; traces=0; unbalanced=0
declare -A codes=()
for f in "$dir"/*; do
    n=$((n + 1))
    name=$(basename "$f")
    log="$out/$name.log"
    rc=0
    timeout -k 5 "$per_file_timeout" bin/trafficbus forward --pcap "$f" --port "$port" --source "c$n" \
        --bootstrap-servers 127.0.0.1:19392 > "$log" 2>&1 || rc=$?
    codes[$rc]=$(( ${codes[$rc]:-0} + 1 ))
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then hung=$((hung + 1)); echo "HANG   $name"; continue; fi
    if grep -qE '^\s+at [a-z]|Exception in thread' "$log"; then traces=$((traces + 1)); echo "TRACE  $name"; fi
    if [ "$rc" != 0 ] && [ "$rc" != 2 ]; then bad=$((bad + 1)); echo "EXIT$rc  $name: $(tail -1 "$log")"; fi
    # The summary line reads "forward S: N packets read, P published in R records …; skipped: REASON K, …".
    summary=$(grep -E '[0-9]+ packets read' "$log" | tail -1 || true)
    if [ -n "$summary" ]; then
        read_=$(grep -oE '[0-9]+ packets read' <<<"$summary" | grep -oE '^[0-9]+')
        pub=$(grep -oE '[0-9]+ published' <<<"$summary" | grep -oE '^[0-9]+' || echo 0)
        skip=0
        for k in $(sed -nE 's/.*skipped: ([^;]*).*/\1/p' <<<"$summary" | grep -oE '[0-9]+'); do skip=$((skip + k)); done
        if [ $((pub + skip)) != "$read_" ]; then unbalanced=$((unbalanced + 1)); echo "SUM    $name: $read_ read, $pub published, $skip skipped"; fi
    fi
done
echo
echo "files: $n; hangs: $hung; stack traces: $traces; unexpected exit codes: $bad; read != published + skipped: $unbalanced"
echo -n "exit codes:"; for c in "${!codes[@]}"; do echo -n " $c=${codes[$c]}"; done; echo
echo "skip reasons (files naming them):"
cat "$out"/*.log | sed -nE 's/.*packets read.*skipped: ([^;]*).*/\1/p' | tr ',' '\n' | sed -E 's/^ *//; s/ [0-9]+$//' | sort | uniq -c | sort -rn | head -25
echo "files not read (their last line, file names and numbers left out):"
for l in "$out"/*.log; do grep -q 'packets read' "$l" || tail -1 "$l"; done \
    | sed -E 's#^(trafficbus forward: )[^ ]+#\1FILE#; s/[0-9]+/N/g' | cut -c1-100 | sort | uniq -c | sort -rn | head -10
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$hung" = 0 ] && [ "$traces" = 0 ] && [ "$bad" = 0 ] && [ "$unbalanced" = 0 ]
