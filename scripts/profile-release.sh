#!/usr/bin/env bash
# Regenerates the link-order profile of the release build (packaging/hot-text/, issue 6):
# which functions a running agent executes, so scripts/build-release.sh can place them together
# and the code it keeps resident is about the code it runs.
#   scripts/profile-release.sh [seconds]   (default 30)
# Builds the release binary with the current symbol order, runs it under valgrind's callgrind (every
# executed instruction address) as the README deploys it: --interval 1 with a local receiver, the
# auth log tailed from a file that gets sshd failures appended, /healthz and both /metrics formats
# scraped, then SIGTERM; no Docker. scripts/hot-text.py maps the addresses to the link map's input
# sections and writes hot-symbols.txt and hot-text.ld. Rebuild afterwards (scripts/build-release.sh)
# and compare with scripts/bench.sh footprint. Rerun after large code or dependency changes: a
# stale profile costs resident memory, never correctness.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
command -v valgrind >/dev/null && command -v curl >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind curl >&2
}
SCRATCH=${SCRATCH:-.build-release}
export SCRATCH
W=$(mktemp -d)
# The profiled build keeps the symbol order but not hot-text.ld: valgrind attributes only the
# .text section to the binary, so functions moved to .text.hot would go unseen.
mkdir -p "$W/hot" && cp packaging/hot-text/hot-symbols.txt "$W/hot/" && : > "$W/hot/hot-text.ld"
HOT_TEXT_DIR="$W/hot" scripts/build-release.sh > /dev/null
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
# Same layout as the link map, symbols kept (valgrind cannot read this toolchain's DWARF).
strip --strip-debug -o "$W/monitoring-agent" "$SCRATCH/release/monitoring-agent"
cp "$SCRATCH/monitoring-agent.map" "$W/link.map"
printf 'profile-secret\n' > "$W/secret"
freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port=$(freeport); health=$(freeport)
"$W/monitoring-agent" --secret-file "$W/secret" receive --listen "127.0.0.1:$port" > /dev/null 2>&1 &
PIDS+=($!)
: > "$W/auth.log"
valgrind --tool=callgrind --vex-guest-chase=no --dump-instr=yes --compress-pos=no --demangle=no \
  --callgrind-out-file="$W/callgrind.out" "$W/monitoring-agent" --server-url "http://127.0.0.1:$port/" \
  --secret-file "$W/secret" --interval 1 --docker-socket none --auth-source file --auth-log "$W/auth.log" \
  --health-addr "127.0.0.1:$health" --queue-dir "$W/queue" > /dev/null 2> "$W/agent.err" &
AGENT=$!; PIDS+=($AGENT)
for i in $(seq 1 "$secs"); do
  sleep 1
  printf '%s host sshd[%d]: Failed password for invalid user admin from 203.0.113.%d port 4%03d ssh2\n' \
    "$(date '+%b %e %H:%M:%S')" $((1000 + i)) $((i % 5 + 1)) "$i" >> "$W/auth.log"
  if [ $((i % 10)) -eq 0 ]; then
    curl -sf -o /dev/null "http://127.0.0.1:$health/healthz" || true
    curl -sf -o /dev/null "http://127.0.0.1:$health/metrics" || true
    curl -sf -o /dev/null -H 'Accept: text/plain' "http://127.0.0.1:$health/metrics" || true
  fi
done
kill -TERM "$AGENT"
wait "$AGENT" || true
grep -q 'Collected' "$W/agent.err" || { echo "profile-release.sh: callgrind did not finish" >&2; cat "$W/agent.err" >&2; exit 1; }
mkdir -p packaging/hot-text
cp "$W/callgrind.out" "$SCRATCH/profile.callgrind" # kept for inspection (callgrind_annotate)
python3 scripts/hot-text.py "$W/link.map" monitoring-agent packaging/hot-text "$W/callgrind.out"
echo "profile written to packaging/hot-text/; rebuild with scripts/build-release.sh" >&2
