#!/usr/bin/env bash
# Fuzzes every parser that reads bytes from outside the process with libFuzzer.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (default: 30 s each, every target)
#
# Builds Sources/agent-fuzz with -sanitize=fuzzer,address (release, own scratch path
# .build-fuzz), seeds each target's corpus from the test fixtures and the saved regression
# inputs (Tests/Fixtures/fuzz/TARGET/), runs each target for SECONDS, and prints one line per
# target with its executions. A crash, trap or leak fails the run: the input is kept in
# .build-fuzz/crashes/TARGET/ and replayed with `.build-fuzz/release/agent-fuzz` under
# AGENT_FUZZ_TARGET=TARGET; copy it to Tests/Fixtures/fuzz/TARGET/ with the fix, so the
# ordinary tests replay it for good (AgentIntegrationTests/FuzzReplayTests).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-30}
shift || true
SCRATCH=.build-fuzz
BIN=$SCRATCH/release/agent-fuzz

# libFuzzer without its own main: SwiftPM names the module's entry point (agent_fuzz_main, with
# --defsym main=...), so the target's FUZZING @main starts libFuzzer's driver itself. Coverage
# flags are those of -sanitize=fuzzer; AddressSanitizer catches out-of-bounds access too.
echo "== building agent-fuzz with libFuzzer and AddressSanitizer"
swiftc_path=$(readlink -f "$(command -v swiftc)")
nomain=$(ls "$(dirname "$(dirname "$swiftc_path")")"/lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a | head -1)
[ -f "$nomain" ] || { echo "libclang_rt.fuzzer_no_main not found in the toolchain"; exit 1; }
rm -f "$BIN"
swift build --scratch-path "$SCRATCH" -c release --product agent-fuzz \
  -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
  -Xswiftc -DFUZZING -Xlinker "$nomain" 2>&1 | grep -E "error:|Compiling agent|complete" || true
[ -x "$BIN" ] || { echo "fuzz build failed"; exit 1; }

targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(swift build --product agent-fuzz >/dev/null 2>&1 && .build/debug/agent-fuzz list)
fi

# seed DIR FILE...: copies files into a corpus directory; a .jsonl file gives one input per line.
seed() {
  local dir=$1; shift
  for f in "$@"; do
    [ -f "$f" ] || continue
    case "$f" in
      *.jsonl) split -l 1 -a 4 "$f" "$dir/$(basename "$f")." ;;
      *) cp "$f" "$dir/" ;;
    esac
  done
}

F=Tests/Fixtures
failed=0
for t in "${targets[@]}"; do
  corpus=$SCRATCH/corpus/$t
  crashes=$SCRATCH/crashes/$t
  mkdir -p "$corpus" "$crashes"
  case "$t" in
    auth-line) seed "$corpus" $F/auth/*.log ;;
    journal) printf '%s\n' '{"MESSAGE":"Failed password for root from 192.0.2.1 port 22 ssh2","_PID":"7","SYSLOG_IDENTIFIER":"sshd","__CURSOR":"s=1"}' > "$corpus/seed-journal" ;;
    docker-frames|secret-masker) seed "$corpus" $F/docker/*.mux $F/docker/*.raw ;;
    docker-event) seed "$corpus" $F/docker/*.jsonl ;;
    timestamps) printf '2026-11-28T22:50:06.943219372Z' > "$corpus/seed-ts"; printf '2025-01-15T10:30:00+05:30' > "$corpus/seed-offset" ;;
    proc) seed "$corpus" $F/proc/t0/stat $F/proc/t0/meminfo $F/proc/t0/net/dev $F/proc/t0/net/snmp ;;
    flat-yaml) seed "$corpus" packaging/config.example.yaml ;;
    options) seed "$corpus" packaging/agent.env.example ;;
    http-date) printf 'Sun, 06 Nov 1994 08:49:37 GMT' > "$corpus/seed-date"; printf '120' > "$corpus/seed-delta" ;;
    receiver) { printf '1736937000\0sha256=00\0'; cat $F/golden/payload.json; } > "$corpus/seed-request" ;;
    payload-decode) cp $F/golden/payload.json "$corpus/seed-payload" ;;
    queue-segment) { cat $F/golden/payload.json; echo; cat $F/golden/payload.json; } > "$corpus/seed-segment" ;;
    json-array) printf '[{"Id":"a","Names":["/x"]},{"Id":"b"}]' > "$corpus/seed-list" ;;
    gzip) printf 'payload body' | gzip -c > "$corpus/seed-gzip"; gzip -c $F/golden/payload.json > "$corpus/seed-payload" ;;
    address) printf '2001:db8::1' > "$corpus/seed-v6"; printf '192.0.2.1' > "$corpus/seed-v4"; printf 'scanner.example.net' > "$corpus/seed-name" ;;
  esac
  [ -d "$F/fuzz/$t" ] && cp "$F/fuzz/$t"/* "$corpus/" 2>/dev/null || true
  # Line-shaped inputs need no more than a few lines; streams and listings a few frames.
  case "$t" in
    queue-segment|json-array|payload-decode) max_len=16384 ;;
    *) max_len=4096 ;;
  esac
  log=$SCRATCH/$t.log
  if AGENT_FUZZ_TARGET=$t "$BIN" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -max_len=$max_len \
       -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$crashes/" "$corpus" > "$log" 2>&1; then
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    printf '%-14s %12s executions, 0 crashes\n' "$t" "$execs"
  else
    failed=1
    printf '%-14s CRASH: input kept in %s\n' "$t" "$crashes"
    grep -E "ERROR|Fatal error|SUMMARY|deadly signal|==[0-9]+==" "$log" | head -8 || tail -20 "$log"
  fi
done
exit $failed
