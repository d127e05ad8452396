#!/usr/bin/env bash
# The release build: one self-contained binary, Swift runtime and libstdc++ linked in
# (--static-swift-stdlib), only glibc (2.36 or later), libgcc_s and zlib from the system. Prints its path.
#   scripts/build-release.sh            → .build-release/monitoring-agent (stripped)
#                                          .build-release/release/monitoring-agent (symbols, for
#                                          symbolicating a crash report)
#   scripts/build-release.sh --flags    prints the swift build flags (for other release products)
# Link flags (RELEASE_FLAGS, shared with scripts/bench.sh), each measured in docs/BENCHMARKS.md:
#   -use-ld=lld               the toolchain's own linker (gold cannot pack relocations)
#   -z pack-relative-relocs   RELR: the 127,000 relative relocations of a position-independent
#                             binary in about 1 KB instead of a 2.1 MB table that ld.so reads, and
#                             keeps resident, at every start. Needs glibc 2.36 (Debian 12) to run;
#                             an older loader refuses it by name (GLIBC_ABI_DT_RELR), never silently.
#   --no-export-dynamic       the static-stdlib link exports every package symbol (-export-dynamic);
#                             nothing looks them up, and the table cost 3.3 MB of file and up to
#                             5 MB of RSS.
#   -L <dir with libstdc++.a> the Swift runtime's C++ parts link libstdc++ statically (only what
#                             they use) instead of mapping all of libstdc++.so: 1.1 MB less RSS.
#                             The directory holds only the archive, so the linker finds it before
#                             the system's libstdc++.so. (GCC's runtime library exception allows it.)
#   -function-sections, -ffunction-sections, --symbol-ordering-file, -T hot-text.ld
#                             every Swift and C function in a section of its own, and the functions
#                             a running agent executes (packaging/hot-text/, from the profiles of
#                             scripts/profile-release.sh --docker) placed together at the start of
#                             .text. Code stays resident in whole 64 KB blocks once touched; packed,
#                             the resident code is about what runs (5 MB instead of 14.5 MB).
#                             A stale profile only costs memory, never correctness.
# The link map is written to $SCRATCH/monitoring-agent.map (scripts/profile-release.sh reads it).
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build-release}
cxx="$PWD/$SCRATCH/static-libstdc++"
archive=$(g++ -print-file-name=libstdc++.a 2>/dev/null || true)
[ -f "$archive" ] || { echo "build-release.sh: libstdc++.a not found (apt-get install libstdc++-12-dev)" >&2; exit 1; }
mkdir -p "$cxx" && ln -sf "$archive" "$cxx/libstdc++.a"
hot=${HOT_TEXT_DIR:-$PWD/packaging/hot-text}
RELEASE_FLAGS=(-c release --static-swift-stdlib -Xswiftc -use-ld=lld -Xswiftc -L"$cxx"
  -Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic
  -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections
  -Xlinker --symbol-ordering-file="$hot/hot-symbols.txt" -Xlinker --no-warn-symbol-ordering
  -Xlinker -T -Xlinker "$hot/hot-text.ld")
[ "${1:-}" = "--flags" ] && { echo "${RELEASE_FLAGS[*]}"; exit 0; }
swift build "${RELEASE_FLAGS[@]}" -Xlinker -Map="$PWD/$SCRATCH/monitoring-agent.map" -Xlinker --no-demangle \
  --product monitoring-agent --scratch-path "$SCRATCH" >&2
strip -o "$SCRATCH/monitoring-agent" "$SCRATCH/release/monitoring-agent"
if ldd "$SCRATCH/monitoring-agent" | grep -q 'libstdc++'; then
  echo "build-release.sh: libstdc++ was linked dynamically" >&2; exit 1
fi
# How much of the hot-text profile still names functions of this build (a stale one costs memory).
awk 'NR == FNR { hot[$0] = 1; n++; next } ($NF in hot) && !seen[$NF]++ { found++ }
  END { printf "build-release.sh: hot-text profile: %d of %d symbols found\n", found, n }' \
  "$hot/hot-symbols.txt" <(nm --defined-only "$SCRATCH/release/monitoring-agent") >&2
echo "$SCRATCH/monitoring-agent"
