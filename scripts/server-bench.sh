#!/usr/bin/env bash
# The server under load (docs/BENCHMARKS.md, "The server"): server-loadgen's simulated agents
# against monitoring-server on SQLite and on PostgreSQL (a throw-away cluster), one after the
# other on this machine, then two servers on one PostgreSQL with every payload sent to both.
# Prints figures; asserts nothing. Needs root (the cluster runs as the postgres user).
#   scripts/server-bench.sh [rate] [seconds] [agents]     defaults 2000 30 1000
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:-2000}
SECS=${2:-30}
AGENTS=${3:-1000}
SCRATCH=${SERVER_SCRATCH:-.build-server}
swift build -c release --scratch-path "$SCRATCH" --product monitoring-server >&2
swift build -c release --scratch-path "$SCRATCH" --product server-loadgen >&2
SERVER="$SCRATCH/release/monitoring-server"
LOADGEN="$SCRATCH/release/server-loadgen"

W=$(mktemp -d /tmp/ma-server-bench.XXXXXX)
chmod 755 "$W"
PIDS=()
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
cleanup() {
  # Servers are started in command substitutions (subshells), so their PIDs are in files.
  for f in "$W"/*.pid; do [ -f "$f" ] && PIDS+=("$(cat "$f")"); done
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; done
  [ -f "$W/pg/data/postmaster.pid" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$W/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
# CPU seconds (user+system) a process has used.
cpu_of() { awk '{print ($14+$15)/100}' "/proc/$1/stat"; }
# CPU seconds of every postgres process of the cluster.
pg_cpu() { local t=0; for p in $(pgrep -u postgres postgres); do t=$(awk -v t="$t" '{print t+($14+$15)/100}' "/proc/$p/stat" 2>/dev/null || echo "$t"); done; echo "$t"; }

# 16 keys, as a fleet rotating keys would have; agent i signs with key i mod 16.
for i in $(seq 0 15); do echo "k$i: bench-secret-$i-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"; done > "$W/keyring"

mkdir -p "$W/pg"; chown postgres "$W/pg"
PG_PORT=$(free_port)
runuser -u postgres -- "$PG_BIN/initdb" -D "$W/pg/data" -A trust -U postgres >/dev/null
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$W/pg/data" -w -l "$W/pg/pg.log" \
  -o "-p $PG_PORT -k $W/pg -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null
PG="postgres://postgres@127.0.0.1:$PG_PORT"
psql "$PG/postgres" -X -q -c "CREATE DATABASE bench" -c "CREATE DATABASE bench2"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $("$PG_BIN/postgres" --version); PostgreSQL settings as installed (synchronous_commit on, fsync on)"
echo "load: $AGENTS agents, 16 keys, $RATE payloads/s for $SECS s, payloads of metrics + 5 log lines + 1 event + 2 alerts with detail"

# start_server NAME ARGS...: starts monitoring-server, waits until it listens, prints its port.
start_server() {
  local name=$1; shift
  local port; port=$(free_port)
  "$SERVER" --keyring "$W/keyring" --listen "127.0.0.1:$port" --log-level warning "$@" > "$W/$name.out" 2> "$W/$name.err" &
  echo "$!" > "$W/$name.pid"
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
  echo "$port"
}

run_store() {
  local label=$1 port=$2 pid=$3
  local c0 p0 c1 p1
  c0=$(cpu_of "$pid"); p0=$(pg_cpu)
  echo; echo "== $label"
  "$LOADGEN" --url "http://127.0.0.1:$port/ingest" --keyring "$W/keyring" --rate "$RATE" --duration "$SECS" --agents "$AGENTS"
  c1=$(cpu_of "$pid"); p1=$(pg_cpu)
  awk -v a="$c0" -v b="$c1" -v s="$SECS" -v pa="$p0" -v pb="$p1" \
    'BEGIN {printf "server CPU %.0f%% of one core; PostgreSQL processes %.0f%%\n", (b-a)/s*100, (pb-pa)/s*100}'
}

port=$(start_server sqlite --data "$W/sqlite")
run_store "SQLite (--data)" "$port" "$(cat "$W/sqlite.pid")"
echo "stored: $(python3 -c "import sqlite3;print(sqlite3.connect('$W/sqlite/monitoring.sqlite').execute('select count(*) from payloads').fetchone()[0])")"
kill "$(cat "$W/sqlite.pid")"

port=$(start_server pg --database "$PG/bench?sslmode=disable")
run_store "PostgreSQL (--database)" "$port" "$(cat "$W/pg.pid")"
echo "stored: $(psql "$PG/bench" -X -A -t -c 'select count(*) from payloads'), partitions: $(psql "$PG/bench" -X -A -t -c "select count(*) from pg_inherits")"
kill "$(cat "$W/pg.pid")"

a=$(start_server pg-a --database "$PG/bench2?sslmode=disable")
b=$(start_server pg-b --database "$PG/bench2?sslmode=disable")
HALF=$((RATE / 2))
echo; echo "== two servers on one PostgreSQL, every payload to both ($HALF payloads/s, $RATE requests/s)"
"$LOADGEN" --url "http://127.0.0.1:$a/ingest" --url "http://127.0.0.1:$b/ingest" --every-url --keyring "$W/keyring" \
  --rate "$HALF" --duration "$SECS" --agents "$AGENTS"
echo "stored rows: $(psql "$PG/bench2" -X -A -t -c 'select count(*), count(distinct payload_id) from payloads' | tr '|' ' ') (rows, distinct ids)"
