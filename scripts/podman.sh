#!/usr/bin/env bash
# Podman's Docker-compatible API service for the tests (recipe from docs: vfs storage, lowered
# ulimits, file events logger, cgroupfs).
#   scripts/podman.sh start DIR   serves DIR/podman.sock, waits for /_ping, imports the busybox
#                                 test image; prints the service's PID
#   scripts/podman.sh stop DIR    removes its containers and stops it by PID
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?DIR}
# The service outlives this script: it must not hold the caller's descriptors (see dockerd.sh).
for fd in $(ls /proc/$$/fd); do
  [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true
done
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
  for _ in $(seq 1 80); do
    curl -sf --unix-socket "$dir/podman.sock" http://localhost/_ping >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { echo "podman exited:" >&2; tail -20 "$dir/podman.log" >&2; exit 1; }
    sleep 0.25
  done
  curl -sf --unix-socket "$dir/podman.sock" http://localhost/_ping >/dev/null || { echo "podman did not answer /_ping" >&2; exit 1; }
  root="$dir/rootfs"; rm -rf "$root"; mkdir -p "$root/bin" "$root/etc" "$root/tmp"
  cp "$(command -v busybox)" "$root/bin/busybox"
  for a in $("$root/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
  tar -C "$root" -cf "$dir/rootfs.tar" .
  docker -H "unix://$dir/podman.sock" import -c 'CMD ["/bin/sh"]' "$dir/rootfs.tar" test/busybox:latest >/dev/null
  rm -rf "$root" "$dir/rootfs.tar"
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
