#!/usr/bin/env bash
# Footprint benchmark (issue 6, first version): builds the static release binary and prints, from
# one run on this machine, the agent's idle and peak RSS, private (anonymous) memory and CPU
# seconds per collection cycle at --interval 1 with a receiver and without Docker, its binary
# size, and the same for Prometheus' node_exporter scraped at 1 Hz. Figures only; nothing asserted.
#   scripts/footprint.sh [seconds]     (default 120)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-120}
command -v prometheus-node-exporter >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-node-exporter >&2
}
swift build -c release --static-swift-stdlib --product monitoring-agent --scratch-path .build-release >&2
W=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"' EXIT
cp .build-release/release/monitoring-agent "$W/monitoring-agent"
strip "$W/monitoring-agent"
printf 'footprint-secret\n' > "$W/secret"
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
health=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
nport=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$W/monitoring-agent" --secret-file "$W/secret" receive --listen "127.0.0.1:$port" > "$W/recv.out" 2> "$W/recv.err" &
PIDS+=($!)
sleep 1
"$W/monitoring-agent" --server-url "http://127.0.0.1:$port/" --secret-file "$W/secret" --interval 1 \
  --docker-socket none --auth-source none --health-addr "127.0.0.1:$health" --queue-dir "$W/queue" 2> "$W/agent.err" &
AGENT=$!; PIDS+=($AGENT)
prometheus-node-exporter --web.listen-address="127.0.0.1:$nport" > "$W/ne.log" 2>&1 &
NE=$!; PIDS+=($NE)
sleep 2
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
a0=$(cpu $AGENT); n0=$(cpu $NE); c0=$(wc -l < "$W/recv.out")
scrapes=0
for _ in $(seq 1 "$secs"); do
  curl -sf "http://127.0.0.1:$nport/metrics" > /dev/null && scrapes=$((scrapes + 1))
  sleep 1
done
a1=$(cpu $AGENT); n1=$(cpu $NE); c1=$(wc -l < "$W/recv.out")
cycles=$((c1 - c0))
printf '\nfootprint after %s s at 1 Hz (2 vCPU, %s)\n' "$secs" "$(uname -r)"
printf '%-34s %14s %18s\n' "" "monitoring-agent" "node_exporter $(prometheus-node-exporter --version 2>&1 | awk 'NR==1{print $3}')"
printf '%-34s %11s kB %15s kB\n' "RSS now" "$(rss $AGENT)" "$(rss $NE)"
printf '%-34s %11s kB %15s kB\n' "RSS peak (VmHWM)" "$(awk '/^VmHWM/ {print $2}' /proc/$AGENT/status)" "$(awk '/^VmHWM/ {print $2}' /proc/$NE/status)"
printf '%-34s %11s kB %15s kB\n' "private anonymous (smaps_rollup)" "$(awk '/^Anonymous/ {print $2}' /proc/$AGENT/smaps_rollup)" "$(awk '/^Anonymous/ {print $2}' /proc/$NE/smaps_rollup)"
awk -v a=$((a1 - a0)) -v n=$((n1 - n0)) -v t="$ticks" -v c="$cycles" -v s="$scrapes" \
  'BEGIN { printf "%-34s %11.2f ms %15.2f ms   (%d cycles, %d scrapes; clock ticks of %.0f ms)\n", "CPU per cycle / per scrape", (c ? a / t / c * 1000 : 0), (s ? n / t / s * 1000 : 0), c, s, 1000 / t }'
printf '%-34s %11s B  %15s B\n' "binary (stripped)" "$(stat -c %s "$W/monitoring-agent")" "$(stat -c %s "$(command -v prometheus-node-exporter)")"
