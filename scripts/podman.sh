#!/usr/bin/env bash
# Podman's Docker-compatible API service for the tests (recipe from docs: vfs storage, lowered
# ulimits, file events logger, cgroupfs).
#   scripts/podman.sh start DIR   serves DIR/podman.sock, waits for /_ping, imports the busybox
#                                 test image; prints the service's PID
#   scripts/podman.sh stop DIR    removes its containers and stops it by PID
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?DIR}
. "$(dirname "$0")/peer-lib.sh"
close_inherited_fds # the service outlives this script
mkdir -p "$dir"
export CONTAINERS_CONF="$dir/containers.conf"
P=(podman --root "$dir/root" --runroot "$dir/runroot" --storage-driver vfs)
case "$cmd" in
start)
  cat > "$CONTAINERS_CONF" <<'C'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
events_logger = "file"
cgroup_manager = "cgroupfs"
C
  "${P[@]}" system service --time=0 "unix://$dir/podman.sock" >> "$dir/podman.log" 2>&1 < /dev/null &
  pid=$!
  echo "$pid" > "$dir/podman.pid"
  wait_for_ping "$dir/podman.sock" "$pid" "$dir/podman.log" 80
  import_busybox "$dir/podman.sock" "$dir"
  echo "$pid"
  ;;
stop)
  [ -f "$dir/podman.pid" ] || exit 0
  "${P[@]}" rm -af -t 0 >/dev/null 2>&1 || true
  pid=$(cat "$dir/podman.pid")
  kill -TERM "$pid" 2>/dev/null || exit 0
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
  # conmon of an exec session waits 300 s (--exit-delay) after it ends: stop ours now. Then wait
  # for the `podman container cleanup` processes conmon started, which still write under $dir.
  pkill -f "conmon .*$dir/" 2>/dev/null || true
  for _ in $(seq 1 40); do pgrep -f -- "--root $dir/root" >/dev/null || break; sleep 0.25; done
  pkill -KILL -f -- "--root $dir/root" 2>/dev/null || true
  ;;
esac
