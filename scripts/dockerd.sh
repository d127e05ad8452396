#!/usr/bin/env bash
# A private Docker Engine for the tests (recipe from docs: vfs storage, no bridge, no iptables).
#   scripts/dockerd.sh start DIR   starts dockerd with its socket at DIR/docker.sock, waits for /_ping,
#                                  imports the busybox test image once; prints dockerd's PID
#   scripts/dockerd.sh stop DIR    stops it by the PID in DIR/docker.pid and waits for it to exit
# --live-restore keeps containers running while dockerd is down (the tests restart it).
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?DIR}
. "$(dirname "$0")/peer-lib.sh"
close_inherited_fds
mkdir -p "$dir/data" "$dir/exec"
case "$cmd" in
start)
  dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs --live-restore \
    --host "unix://$dir/docker.sock" --data-root "$dir/data" --exec-root "$dir/exec" \
    --pidfile "$dir/docker.pid" >> "$dir/dockerd.log" 2>&1 &
  pid=$!
  wait_for_ping "$dir/docker.sock" "$pid" "$dir/dockerd.log" 240
  import_busybox "$dir/docker.sock" "$dir"
  echo "$pid"
  ;;
stop)
  [ -f "$dir/docker.pid" ] || exit 0
  pid=$(cat "$dir/docker.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
  unmount_under "$dir" # dockerd bind-mounts its data root onto itself
  ;;
esac
