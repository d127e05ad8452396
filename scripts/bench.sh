#!/usr/bin/env bash
# Benchmarks: builds release and prints figures. Nothing here is asserted; see docs/BENCHMARKS.md.
#   scripts/bench.sh            all benchmarks
#   scripts/bench.sh queue      disk queue: enqueue/drain throughput, 100 MiB backlog recovery
#   scripts/bench.sh auth       auth lines parsed+detected per second on a 1,000,000-line log,
#                               bytes per tracked address, and fail2ban-regex on the same file
#   scripts/bench.sh logs       container log throughput (demultiplex + mask + 5xx) on a
#                               stream recorded from dockerd, MiB/s on one core
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=.build-release
swift build -c release --scratch-path "$SCRATCH" --product agent-bench >&2
BIN="$SCRATCH/release/agent-bench"
what="${1:-all}"
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
case "$what" in queue|auth|logs|all) ;; *) echo "usage: scripts/bench.sh [queue|auth|logs|all]" >&2; exit 64 ;; esac
