#!/usr/bin/env bash
# The one test command (README and .ci/run both call it): installs what is missing,
# starts the real peers, runs `swift test`, and stops what it started by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

# ---- system packages -------------------------------------------------------
need=()
command -v openssl >/dev/null || need+=(openssl)
command -v python3 >/dev/null || need+=(python3)
command -v curl >/dev/null || need+=(curl)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi

# ---- peers -------------------------------------------------------------------
# Peers started here are recorded and stopped by PID on exit. The HTTP(S) verifier peers
# (Tests/Support/verify_receiver.py) are started per test by the tests themselves.
PIDS=()
cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# ---- build and test ------------------------------------------------------------
log "building"
swift build
export AGENT_BIN="$PWD/.build/debug/monitoring-agent"
log "swift test"
swift test "$@"
