#!/usr/bin/env bash
# The one test command (README and .ci/run both call it): installs what is missing,
# starts the real peers, runs `swift test`, and stops what it started by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/peer-lib.sh

log() { printf '\n== %s\n' "$*"; }

# ---- system packages -------------------------------------------------------
need=()
command -v openssl >/dev/null || need+=(openssl)
command -v python3 >/dev/null || need+=(python3)
command -v curl >/dev/null || need+=(curl)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
[ -x /lib/systemd/systemd-journald ] || need+=(systemd)
command -v rsyslogd >/dev/null || need+=(rsyslog)
command -v sshpass >/dev/null || need+=(sshpass)
command -v stress-ng >/dev/null || need+=(stress-ng)
command -v dockerd >/dev/null || need+=(docker.io)
command -v busybox >/dev/null || need+=(busybox-static)
command -v script >/dev/null || need+=(bsdutils)
command -v podman >/dev/null || need+=(podman)
# compress-nio builds against the system zlib (the agent links libz for gzip payloads).
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
# The server executable's store (GRDB links the system's SQLite).
[ -f /usr/include/sqlite3.h ] || need+=(libsqlite3-dev)
# The dashboard's browser tests: headless Chromium driven by Selenium.
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
# The server's PostgreSQL store: a throw-away cluster of Debian's server.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi
if ! python3 -c "import selenium" 2>/dev/null; then
  log "installing selenium (PyPI)"
  python3 -m pip install -q selenium
fi
# fail2ban's labelled sshd logs are the detection corpus (Fail2banCorpusTests); fail2ban-regex is
# the comparison in scripts/bench.sh auth. Its daemon must not start (it would act on this host's
# auth log): a policy-rc.d refuses service starts during the install, unless one is there already.
if [ ! -f /usr/lib/python3/dist-packages/fail2ban/tests/files/logs/sshd ]; then
  log "installing fail2ban (its test corpus; the service is not started)"
  export DEBIAN_FRONTEND=noninteractive
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then policy=/usr/sbin/policy-rc.d; printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; fi
  apt-get update -qq && apt-get install -y -qq --no-install-recommends fail2ban || { [ -n "$policy" ] && rm -f "$policy"; exit 1; }
  [ -n "$policy" ] && rm -f "$policy"
fi
# promtool and a real Prometheus server for the /metrics exposition tests (no recommends: no exporters).
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
  log "installing prometheus"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus
fi

# ---- peers -------------------------------------------------------------------
# Peers started here are recorded and stopped by PID on exit. The HTTP(S) verifier peers
# (Tests/Support/verify_receiver.py) are started per test by the tests themselves.
PIDS=()
W=$(mktemp -d /tmp/ma-peers.XXXXXX)
cleanup() {
  if [ -n "${PG_DIR:-}" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  [ -n "${PG_DIR:-}" ] && rm -rf "$PG_DIR"
  [ -n "${PODMAN_DIR:-}" ] && scripts/podman.sh stop "$PODMAN_DIR" || true
  if [ -n "${MA_DOCKER_SOCK:-}" ] && [ -S "$MA_DOCKER_SOCK" ]; then
    ids=$(docker -H "unix://$MA_DOCKER_SOCK" ps -aq 2>/dev/null || true)
    [ -n "$ids" ] && docker -H "unix://$MA_DOCKER_SOCK" rm -f $ids >/dev/null 2>&1 || true
  fi
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null || true; done
  # Mounts a daemon left under $W (dockerd bind-mounts its data root) would keep it busy.
  unmount_under "$W"
  # A peer's last writes may still land while we delete: retry, and never let cleanup decide
  # the exit status (that is the tests').
  for _ in 1 2 3 4 5; do rm -rf "$W" 2>/dev/null && break; sleep 1; done
  return 0
}
trap cleanup EXIT

# rsyslog writing auth,authpriv to a file of our own (traditional prefix), owning /dev/log.
log "starting rsyslogd and sshd"
mkdir -p "$W/rsyslog-work" "$W/sshd" /run/sshd
cat > "$W/rsyslog.conf" <<R
global(workDirectory="$W/rsyslog-work")
module(load="imuxsock" SysSock.Name="/dev/log")
auth,authpriv.* action(type="omfile" file="$W/auth.log" template="RSYSLOG_TraditionalFileFormat")
R
rsyslogd -n -f "$W/rsyslog.conf" -i "$W/rsyslogd.pid" > "$W/rsyslogd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do [ -S /dev/log ] && break; sleep 0.2; done
[ -S /dev/log ] || { echo "rsyslogd did not create /dev/log"; cat "$W/rsyslogd.out"; exit 1; }

# An account with a known password, for the login-after-failures test.
id matest >/dev/null 2>&1 || useradd -m -s /bin/sh matest
echo 'matest:matest-right-pass' | chpasswd
# sshd on 127.0.0.1:2222 with PAM and passwords, logging to AUTH.
SSHD_PORT=${SSHD_PORT:-2222}
ssh-keygen -q -t ed25519 -N '' -f "$W/sshd/host_ed25519"
cat > "$W/sshd/sshd_config" <<S
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $W/sshd/host_ed25519
PidFile $W/sshd/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
SyslogFacility AUTH
LogLevel INFO
S
/usr/sbin/sshd -t -f "$W/sshd/sshd_config"
/usr/sbin/sshd -D -f "$W/sshd/sshd_config" > "$W/sshd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do grep -q "Server listening" "$W/auth.log" 2>/dev/null && break; sleep 0.2; done
grep -q "Server listening" "$W/auth.log" || { echo "sshd did not start"; cat "$W/sshd.out"; exit 1; }
export MA_AUTH_LOG="$W/auth.log" MA_SSHD_PORT="$SSHD_PORT"

# journald (volatile journal in /run/log/journal); rsyslog keeps /dev/log, journald listens on
# its own sockets under /run/systemd/journal.
if ! pgrep -f /lib/systemd/systemd-journald >/dev/null; then
  log "starting systemd-journald"
  mkdir -p /run/systemd/journal
  rm -f /run/systemd/journal/socket /run/systemd/journal/dev-log /run/systemd/journal/stdout  # stale sockets of a dead journald
  /lib/systemd/systemd-journald > "$W/journald.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 50); do [ -S /run/systemd/journal/dev-log ] && break; sleep 0.2; done
  [ -S /run/systemd/journal/dev-log ] || { echo "journald did not start"; cat "$W/journald.out"; exit 1; }
fi

# dockerd (Debian's docker.io, API 1.41) on a private socket with vfs storage, and a busybox
# image built without a registry (scripts/dockerd.sh). The restart test starts a second one.
log "starting dockerd"
DOCKER_DIR="$W/docker"
DOCKERD_PID=$(scripts/dockerd.sh start "$DOCKER_DIR")
PIDS+=("$DOCKERD_PID")
export MA_DOCKER_SOCK="$DOCKER_DIR/docker.sock"

# podman's Docker-compatible service (API 1.41, different events and whole-second log times).
log "starting podman system service"
PODMAN_DIR="$W/podman"
scripts/podman.sh start "$PODMAN_DIR" >/dev/null
export MA_PODMAN_SOCK="$PODMAN_DIR/podman.sock"

# PostgreSQL on a free loopback port (the server's --database tests); the cluster refuses to run
# as root, so it runs as the package's postgres user in a directory of its own.
log "starting PostgreSQL"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PG_DIR=$(mktemp -d /tmp/ma-pg.XXXXXX)
chown postgres "$PG_DIR"
PG_PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -l "$PG_DIR/pg.log" \
  -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
PIDS+=("$(head -1 "$PG_DIR/data/postmaster.pid")")
export MA_POSTGRES_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"

# ---- build and test ------------------------------------------------------------
# The tests' own directories (Paths.tempDir: agent and receiver logs, queues) go under $W, so the
# secret check below reads every log line of the whole run.
export TMPDIR="$W/tmp"
mkdir -p "$TMPDIR"

log "building"
swift build
# AGENT_BIN=path runs the integration tests against another build (e.g. the release binary).
export AGENT_BIN="${AGENT_BIN:-$PWD/.build/debug/monitoring-agent}"
if (($#)); then
  swift test "$@"
  exit
fi
log "swift test (all suites but the CPU load test)"
swift test --skip CPULoadTests
log "swift test (CPU load test, alone so other suites do not blur the baseline)"
swift test --filter CPULoadTests
log "no test secret in any log or output file of the run"
scripts/check-secrets.sh "$TMPDIR"
# libFuzzer over every parser of outside bytes (docs/SECURITY.md); FUZZ_SECONDS=0 skips it.
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
if [ "$FUZZ_SECONDS" != 0 ]; then
  log "fuzzing each parser for $FUZZ_SECONDS s"
  scripts/fuzz.sh "$FUZZ_SECONDS"
fi
