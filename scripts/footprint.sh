#!/usr/bin/env bash
# Footprint benchmark. Figures only; nothing is asserted. Called by scripts/bench.sh.
#   scripts/footprint.sh run [seconds]   (default 120) the stripped static release binary at
#       --interval 1 with a receiver and no Docker, beside node_exporter scraped at 1 Hz, both
#       measured in the same run: RSS now and peak, anonymous memory (smaps_rollup), CPU per
#       cycle / per scrape (summed /proc/PID/task/*/schedstat, nanoseconds), binary sizes; then
#       what is resident (scripts/resident.py), allocations per cycle (LD_PRELOAD counter,
#       scripts/malloc-count.c) and start-up time to the first /healthz answer.
#   scripts/footprint.sh soak [cycles]   (default 10000) the agent at --interval 0.02 with a
#       receiver; prints RSS and anonymous memory every 500 cycles, then the growth.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/peer-lib.sh
mode=${1:-run}
arg=${2:-}
command -v prometheus-node-exporter >/dev/null && command -v gcc >/dev/null && command -v curl >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    prometheus-node-exporter gcc libc6-dev curl binutils >&2
}
SCRATCH=${SCRATCH:-.build-release}
export SCRATCH
scripts/build-release.sh > /dev/null
W=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
cp "$SCRATCH/release/monitoring-agent" "$W/monitoring-agent.unstripped"
cp "$SCRATCH/monitoring-agent" "$W/monitoring-agent"
AGENT_BIN="$W/monitoring-agent"
printf 'footprint-secret\n' > "$W/secret"
port=$(freeport)
"$AGENT_BIN" --secret-file "$W/secret" receive --listen "127.0.0.1:$port" > "$W/recv.out" 2> "$W/recv.err" &
PIDS+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done

# start_agent NAME INTERVAL [env...]: the agent as the README deploys it, minus Docker and auth
start_agent() {
  local name=$1 interval=$2; shift 2
  local health; health=$(freeport)
  env "$@" "$AGENT_BIN" --server-url "http://127.0.0.1:$port/" --secret-file "$W/secret" --interval "$interval" \
    --docker-socket none --auth-source none --health-addr "127.0.0.1:$health" --queue-dir "$W/queue-$name" \
    2> "$W/$name.err" &
  AGENT=$!; PIDS+=($AGENT)
}
payloads() { wc -l < "$W/recv.out"; }
kb() { awk -v k="$2" '$1 == k":" {print $2}' "$1"; }
cpu_ns() { local t=0 v; for f in /proc/"$1"/task/*/schedstat; do read -r v _ < "$f" && t=$((t + v)); done; echo $t; }

case "$mode" in
run)
  secs=${arg:-120}
  nport=$(freeport)
  start_agent main 1
  prometheus-node-exporter --web.listen-address="127.0.0.1:$nport" > "$W/ne.log" 2>&1 &
  NE=$!; PIDS+=($NE)
  sleep 3
  a0=$(cpu_ns $AGENT); n0=$(cpu_ns $NE); c0=$(payloads)
  scrapes=0
  for _ in $(seq 1 "$secs"); do
    curl -sf "http://127.0.0.1:$nport/metrics" > /dev/null && scrapes=$((scrapes + 1))
    sleep 1
  done
  a1=$(cpu_ns $AGENT); n1=$(cpu_ns $NE); c1=$(payloads)
  cycles=$((c1 - c0))
  ne_version=$(prometheus-node-exporter --version 2>&1 | awk 'NR==1{print $3}')
  printf '\nfootprint after %s s at 1 Hz, same run, same machine (%s vCPU, kernel %s)\n' "$secs" "$(nproc)" "$(uname -r)"
  printf '%-36s %16s %18s\n' "" "monitoring-agent" "node_exporter $ne_version"
  printf '%-36s %13s kB %15s kB\n' "RSS now (VmRSS)" "$(kb /proc/$AGENT/status VmRSS)" "$(kb /proc/$NE/status VmRSS)"
  printf '%-36s %13s kB %15s kB\n' "RSS peak (VmHWM)" "$(kb /proc/$AGENT/status VmHWM)" "$(kb /proc/$NE/status VmHWM)"
  printf '%-36s %13s kB %15s kB\n' "anonymous (smaps_rollup)" "$(kb /proc/$AGENT/smaps_rollup Anonymous)" "$(kb /proc/$NE/smaps_rollup Anonymous)"
  printf '%-36s %13s kB %15s kB\n' "proportional (Pss, smaps_rollup)" "$(kb /proc/$AGENT/smaps_rollup Pss)" "$(kb /proc/$NE/smaps_rollup Pss)"
  printf '%-36s %16s %18s\n' "threads" "$(kb /proc/$AGENT/status Threads)" "$(kb /proc/$NE/status Threads)"
  awk -v a=$((a1 - a0)) -v n=$((n1 - n0)) -v c="$cycles" -v s="$scrapes" 'BEGIN {
    printf "%-36s %13.3f ms %15.3f ms   (%d payloads delivered, %d scrapes)\n", "CPU per cycle / per scrape",
      (c ? a / c / 1e6 : 0), (s ? n / s / 1e6 : 0), c, s }'
  printf '%-36s %13s B  %15s B\n' "binary (stripped)" "$(stat -c %s "$AGENT_BIN")" "$(stat -c %s "$(command -v prometheus-node-exporter)")"
  echo
  python3 scripts/resident.py "$AGENT" "$W/monitoring-agent.unstripped" --top 10 || true
  kill "$AGENT" "$NE"

  # Allocations per cycle: the same binary with the counting allocator preloaded.
  gcc -O2 -shared -fPIC -o "$W/malloc-count.so" scripts/malloc-count.c -ldl -lpthread
  start_agent alloc 1 LD_PRELOAD="$W/malloc-count.so" MALLOC_COUNT_FILE="$W/alloc.txt"
  sleep 5
  read -r m0 b0 _ < "$W/alloc.txt"; p0=$(payloads)
  sleep 30
  read -r m1 b1 _ < "$W/alloc.txt"; p1=$(payloads)
  kill "$AGENT"
  awk -v m=$((m1 - m0)) -v b=$((b1 - b0)) -v c=$((p1 - p0)) 'BEGIN {
    printf "\nallocations per cycle (malloc/calloc/realloc/aligned, %d cycles): %.0f, %.0f bytes asked for\n", c, m / c, b / c }'

  # Start-up: exec to the first 200 from /healthz, five fresh starts.
  python3 - "$AGENT_BIN" "$W" "$port" <<'EOF'
import os, socket, subprocess, sys, time
binary, work, port = sys.argv[1], sys.argv[2], sys.argv[3]
times = []
for run in range(5):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); health = s.getsockname()[1]; s.close()
    t0 = time.monotonic()
    p = subprocess.Popen([binary, "--server-url", f"http://127.0.0.1:{port}/", "--secret-file", f"{work}/secret",
                          "--interval", "30", "--docker-socket", "none", "--auth-source", "none",
                          "--health-addr", f"127.0.0.1:{health}", "--queue-dir", f"{work}/queue-start{run}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            c = socket.create_connection(("127.0.0.1", health), timeout=1)
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if c.recv(64).startswith(b"HTTP/1.1 200"):
                times.append((time.monotonic() - t0) * 1000)
                c.close()
                break
            c.close()
        except OSError:
            pass
        if time.monotonic() - t0 > 10:
            times.append(float("inf")); break
        time.sleep(0.001)
    p.terminate(); p.wait()
times.sort()
print(f"start-up to /healthz 200 (5 starts): min {times[0]:.1f} ms, median {times[2]:.1f} ms, max {times[-1]:.1f} ms")
EOF
  ;;
soak)
  cycles=${arg:-10000}
  start_agent soak 0.02
  printf '\nsoak: --interval 0.02, RSS and anonymous memory by payloads delivered\n%10s %10s %10s %12s\n' cycles "RSS kB" "anon kB" "elapsed s"
  start=$(date +%s); p0=$(payloads); next=0; first=""
  while :; do
    done_=$(( $(payloads) - p0 ))
    if [ "$done_" -ge "$next" ]; then
      rss=$(kb /proc/$AGENT/status VmRSS); anon=$(kb /proc/$AGENT/smaps_rollup Anonymous)
      printf '%10d %10d %10d %12d\n' "$done_" "$rss" "$anon" $(( $(date +%s) - start ))
      [ -z "$first" ] && [ "$done_" -ge 1000 ] && first="$rss $anon"
      [ "$done_" -ge "$cycles" ] && break
      next=$((next + 500))
    fi
    kill -0 "$AGENT" || { echo "agent exited" >&2; cat "$W/soak.err" >&2; exit 1; }
    sleep 0.2
  done
  read -r r1k a1k <<< "$first"
  printf 'growth from 1,000 to %d cycles: RSS %+d kB, anonymous %+d kB (peak %s kB)\n' "$done_" \
    $((rss - r1k)) $((anon - a1k)) "$(kb /proc/$AGENT/status VmHWM)"
  ;;
*) echo "usage: scripts/footprint.sh run [seconds] | soak [cycles]" >&2; exit 64 ;;
esac
