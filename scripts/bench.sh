#!/usr/bin/env bash
# Benchmarks: build release and print figures. Nothing here is asserted; see docs/BENCHMARKS.md.
#   scripts/bench.sh                   all of the below except soak, in one run (about 6 minutes)
#   scripts/bench.sh footprint [secs]  the static release binary beside node_exporter at 1 Hz:
#                                      RSS, anonymous memory, CPU per cycle, allocations per cycle,
#                                      binary size, what is resident, start-up to /healthz
#   scripts/bench.sh soak [cycles]     RSS curve over 10,000 collection cycles (--interval 0.02)
#   scripts/bench.sh queue             disk queue: enqueue/drain throughput, 100 MiB backlog recovery
#   scripts/bench.sh auth              auth lines parsed+detected per second on a 1,000,000-line log,
#                                      bytes per tracked address, and fail2ban-regex on the same file
#   scripts/bench.sh logs              container log throughput (demultiplex + mask + 5xx) on a
#                                      stream recorded from dockerd, MiB/s on one core
#   scripts/bench.sh outage [n]        a day's backlog (2,900 payloads) queued while the receiver is
#                                      down, then delivered: time, payloads/s, order (about 8 minutes)
#   scripts/bench.sh load [args]       a busy host (scripts/load-bench.py): 50/100/200 containers on a
#                                      private dockerd, 1,000 churned, a 50,000 lines/s auth flood
#                                      (about 25 minutes; needs root for dockerd)
#   scripts/bench.sh compress          bytes per payload with and without gzip (idle host and 500
#                                      recorded log lines) and the time to compress and decode
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build-release}
export SCRATCH
what="${1:-all}"
case "$what" in
  footprint|all) scripts/footprint.sh run "${2:-120}" ;;
  soak) scripts/footprint.sh soak "${2:-10000}"; exit 0 ;;
  queue|auth|logs|compress) ;;
  outage) scripts/build-release.sh >/dev/null; scripts/outage-bench.sh .build-release/monitoring-agent "${2:-2900}"; exit 0 ;;
  load) scripts/build-release.sh >/dev/null; shift; python3 scripts/load-bench.py --agent .build-release/monitoring-agent "$@"; exit 0 ;;
  *) echo "usage: scripts/bench.sh [all|footprint [secs]|soak [cycles]|queue|auth|logs|compress|outage [n]|load [args]]" >&2; exit 64 ;;
esac
[ "$what" = footprint ] && exit 0
# Same flags as scripts/build-release.sh, so both share one build folder without rebuilding.
# shellcheck disable=SC2046
swift build $(scripts/build-release.sh --flags) --scratch-path "$SCRATCH" --product agent-bench >&2
BIN="$SCRATCH/release/agent-bench"
case "$what" in
  queue|all)
    dir=$(mktemp -d)
    "$BIN" queue "$dir/q" 100 2000
    rm -rf "$dir"
    ;;
  *) ;;
esac
case "$what" in
  auth|all)
    command -v fail2ban-regex >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fail2ban >&2; }
    dir=$(mktemp -d)
    "$BIN" auth 1000000 "$dir/auth.log"
    echo "fail2ban-regex, stock sshd filter, same file:"
    start=$(date +%s.%N)
    fail2ban-regex "$dir/auth.log" /etc/fail2ban/filter.d/sshd.conf > "$dir/f2b.out" 2>&1 || true
    end=$(date +%s.%N)
    grep -E "^Lines:|Failregex: [0-9]+ total" "$dir/f2b.out" | sed 's/^/  /'
    awk -v s="$start" -v e="$end" 'BEGIN { printf "  fail2ban-regex:             %10.0f lines/s (%.1f s)\n", 1000000/(e-s), e-s }'
    rm -rf "$dir"
    ;;
esac
case "$what" in
  logs|all)
    "$BIN" logs 256 Tests/Fixtures/docker/logs-mixed.mux
    ;;
esac
case "$what" in
  compress|all)
    "$BIN" compress Tests/Fixtures/docker/logs-mixed.mux
    ;;
esac
