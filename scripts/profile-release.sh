#!/usr/bin/env bash
# Regenerates the link-order profile of the release build (packaging/hot-text/):
# which functions a running agent executes, so scripts/build-release.sh can place them together
# and the code it keeps resident is about the code it runs.
#   scripts/profile-release.sh [seconds] [--docker]   (default 30 seconds)
# --docker (how the committed profile was made): a private dockerd (scripts/dockerd.sh) with one
# container writing nginx-style access lines (200s and 502s, a password in a URL) and one
# `docker exec sh`, so the event and log streams, masking, the 5xx and shell detectors run too.
# Builds the release binary with the current symbol order, runs it under valgrind's callgrind (every
# executed instruction address) as the README deploys it, without Docker and then (--docker) with
# it, the Docker-only functions ordered after the rest: --interval 1 with a local receiver, the
# auth log tailed from a file that gets sshd failures appended, /healthz and both /metrics formats
# scraped, then SIGTERM. scripts/hot-text.py maps the addresses to the link map's input
# sections and writes hot-symbols.txt and hot-text.ld. Rebuild afterwards (scripts/build-release.sh)
# and compare with scripts/bench.sh footprint. Rerun after large code or dependency changes: a
# stale profile costs resident memory, never correctness.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/peer-lib.sh
secs=30; docker=no
for a in "$@"; do case "$a" in --docker) docker=yes ;; *) secs=$a ;; esac; done
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
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ "$docker" = yes ] && scripts/dockerd.sh stop "$W/docker" >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT
# Same layout as the link map, symbols kept (valgrind cannot read this toolchain's DWARF).
strip --strip-debug -o "$W/monitoring-agent" "$SCRATCH/release/monitoring-agent"
cp "$SCRATCH/monitoring-agent.map" "$W/link.map"
printf 'profile-secret\n' > "$W/secret"
port=$(freeport)
"$W/monitoring-agent" --secret-file "$W/secret" receive --listen "127.0.0.1:$port" > /dev/null 2>&1 &
PIDS+=($!)
# profile NAME DOCKER_SOCKET: the agent under callgrind for $secs seconds, then SIGTERM.
profile() {
  local name=$1 socket=$2 health; health=$(freeport)
  : > "$W/auth.log"
  valgrind --tool=callgrind --vex-guest-chase=no --dump-instr=yes --compress-pos=no --demangle=no \
    --callgrind-out-file="$W/$name.callgrind" "$W/monitoring-agent" --server-url "http://127.0.0.1:$port/" \
    --secret-file "$W/secret" --interval 1 --docker-socket "$socket" --auth-source file --auth-log "$W/auth.log" \
    --health-addr "127.0.0.1:$health" --queue-dir "$W/queue-$name" > /dev/null 2> "$W/$name.err" &
  local agent=$!; PIDS+=($agent)
  for i in $(seq 1 "$secs"); do
    sleep 1
    printf '%s host sshd[%d]: Failed password for invalid user admin from 203.0.113.%d port 4%03d ssh2\n' \
      "$(date '+%b %e %H:%M:%S')" $((1000 + i)) $((i % 5 + 1)) "$i" >> "$W/auth.log"
    [ "$socket" != none ] && [ "$i" -eq $((secs / 2)) ] && "${D[@]}" exec profile-web sh -c 'true' || true
    if [ $((i % 10)) -eq 0 ]; then
      curl -sf -o /dev/null "http://127.0.0.1:$health/healthz" || true
      curl -sf -o /dev/null "http://127.0.0.1:$health/metrics" || true
      curl -sf -o /dev/null -H 'Accept: text/plain' "http://127.0.0.1:$health/metrics" || true
    fi
  done
  kill -TERM "$agent"
  wait "$agent" || true
  grep -q 'Collected' "$W/$name.err" || { echo "profile-release.sh: callgrind did not finish" >&2; cat "$W/$name.err" >&2; exit 1; }
}
profile base none
profiles=("$W/base.callgrind")
if [ "$docker" = yes ]; then
  command -v dockerd >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static >&2; }
  scripts/dockerd.sh start "$W/docker" > /dev/null
  D=(docker -H "unix://$W/docker/docker.sock")
  "${D[@]}" run -d --name profile-web test/busybox:latest sh -c 'i=0; while true; do i=$((i+1))
    echo "10.0.0.$((i % 9)) - - [29/Nov/2026:05:00:00 +0000] \"GET /item/$i HTTP/1.1\" 200 512 \"-\" \"curl\""
    [ $((i % 7)) -eq 0 ] && echo "10.0.0.1 - - [29/Nov/2026:05:00:00 +0000] \"GET /https://u:password@db/x HTTP/1.1\" 502 0 \"-\" \"curl\"" >&2
    sleep 0.2; done' > /dev/null
  profile docker "$W/docker/docker.sock"
  profiles+=(-- "$W/docker.callgrind")
fi
mkdir -p packaging/hot-text
cp "$W"/*.callgrind "$SCRATCH/" # kept for inspection (callgrind_annotate)
python3 scripts/hot-text.py "$W/link.map" monitoring-agent packaging/hot-text "${profiles[@]}"
echo "profile written to packaging/hot-text/; rebuild with scripts/build-release.sh" >&2
