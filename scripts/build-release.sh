#!/usr/bin/env bash
# The release build (issue 6): one self-contained binary, Swift runtime linked in
# (--static-swift-stdlib), only glibc, libstdc++, libm and zlib from the system. Prints its path.
#   scripts/build-release.sh            → .build-release/monitoring-agent (stripped)
#                                          .build-release/release/monitoring-agent (symbols, for
#                                          symbolicating a crash report)
# Link flags, each measured in docs/BENCHMARKS.md:
#   --no-export-dynamic  the Swift static-stdlib link exports every package symbol to the dynamic
#                        table (-export-dynamic); nothing looks them up, and the table and its
#                        hash pages cost about 2.4 MB of file size and 1-5 MB of RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build-release}
swift build -c release --static-swift-stdlib --product monitoring-agent --scratch-path "$SCRATCH" \
  -Xlinker --no-export-dynamic >&2
strip -o "$SCRATCH/monitoring-agent" "$SCRATCH/release/monitoring-agent"
echo "$SCRATCH/monitoring-agent"
