#!/usr/bin/env bash
# A long outage, measured: the receiver is down while the agent queues PAYLOADS payloads (built
# at --interval 0.1, the shortest, in about 5 minutes; 2,900 is a day at the default 30 s interval), then the agent restarts
# at the default interval and settings and the receiver comes back. Prints the time until the
# backlog is delivered, the receiver's requests per second while it drains (from its stored
# payloads, second by second) and whether they arrived oldest first, each once.
#   scripts/outage-bench.sh [release binary] [payloads]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build-release/monitoring-agent}
N=${2:-2900}
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
printf 'outage-bench-secret\n' > "$dir/secret"; chmod 600 "$dir/secret"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port); health=$(free_port)
queue_length() { curl -s "http://127.0.0.1:$health/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["queue_length"])' 2>/dev/null || echo -1; }
agent() {
  "$BIN" --server-url "http://127.0.0.1:$port/ingest" --secret-file "$dir/secret" --health-addr "127.0.0.1:$health" \
    --docker-socket none --queue-dir "$dir/queue" --interval "$1" > /dev/null 2>> "$dir/agent.log" &
  pids+=($!)
}
agent 0.1
while [ "$(queue_length)" -lt "$N" ]; do
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "agent exited:"; cat "$dir/agent.log"; exit 1; }
  sleep 1
done
kill -TERM "${pids[-1]}"; wait "${pids[-1]}" || true
queued=$(ls "$dir/queue" | wc -l)
"$BIN" --secret-file "$dir/secret" receive --listen "127.0.0.1:$port" --data "$dir/received" > /dev/null 2>> "$dir/receiver.log" &
pids+=($!)
until grep -q "receiver listening" "$dir/receiver.log" 2>/dev/null; do sleep 0.1; done
start=$(date +%s.%N)
agent 30
count() { [ -f "$dir/received/payloads.jsonl" ] && wc -l < "$dir/received/payloads.jsonl" || echo 0; }
: > "$dir/samples"
until [ "$(count)" -ge "$N" ] && [ "$(queue_length)" = 0 ]; do echo "$(date +%s.%N) $(count)" >> "$dir/samples"; sleep 1; done
end=$(date +%s.%N)
echo "$end $(count)" >> "$dir/samples"
python3 - "$dir/received/payloads.jsonl" "$start" "$end" "$N" <<'PY'
import json, sys
path, start, end, n = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rows = [json.loads(l) for l in open(path)]
ids = [r["payload_id"] for r in rows]
stamps = [r["timestamp"] for r in rows]
print(f"long outage: {n} payloads queued while the receiver was down, agent restarted at the default interval")
print(f"  delivered: {len(rows)} payloads in {end - start:.1f} s after the receiver returned"
      f" (default --drain-batch 50, --drain-rate 20/s)")
print(f"  each once: {len(set(ids)) == len(ids)}; oldest first: {stamps[:n] == sorted(stamps[:n])}")
PY
# Requests per second: stored payloads sampled once a second while the backlog drained.
python3 - "$dir/samples" <<'PY'
import sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
rates = [(c2 - c1) / (t2 - t1) for (t1, c1), (t2, c2) in zip(rows, rows[1:]) if t2 > t1]
if rates:
    print(f"  receiver payloads per second while draining: max {max(rates):.1f}, mean {sum(rates)/len(rates):.1f} over {len(rates)} s")
PY
