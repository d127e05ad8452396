#!/usr/bin/env bash
# Benchmarks: builds release and prints figures. Nothing here is asserted; see docs/BENCHMARKS.md.
#   scripts/bench.sh            all benchmarks
#   scripts/bench.sh queue      disk queue: enqueue/drain throughput, 100 MiB backlog recovery
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
  *) echo "usage: scripts/bench.sh [queue|all]" >&2; exit 64 ;;
esac
