#!/usr/bin/env bash
# A private Docker Engine for the tests (recipe from docs: vfs storage, no bridge, no iptables).
#   scripts/dockerd.sh start DIR   starts dockerd with its socket at DIR/docker.sock, waits for /_ping,
#                                  imports the busybox test image once; prints dockerd's PID
#   scripts/dockerd.sh stop DIR    stops it by the PID in DIR/docker.pid and waits for it to exit
# --live-restore keeps containers running while dockerd is down (the tests restart it).
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?DIR}
# dockerd lives on after this script: it must not hold descriptors the caller waits on
# (a pipe read to its end, or a process monitor's own descriptors). Keep only 0-2.
for fd in $(ls /proc/$$/fd); do
  [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true
done
mkdir -p "$dir/data" "$dir/exec"
case "$cmd" in
start)
  dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs --live-restore \
    --host "unix://$dir/docker.sock" --data-root "$dir/data" --exec-root "$dir/exec" \
    --pidfile "$dir/docker.pid" >> "$dir/dockerd.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do
    curl -sf --unix-socket "$dir/docker.sock" http://localhost/_ping >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { echo "dockerd exited:" >&2; tail -20 "$dir/dockerd.log" >&2; exit 1; }
    sleep 0.5
  done
  curl -sf --unix-socket "$dir/docker.sock" http://localhost/_ping >/dev/null || { echo "dockerd did not answer /_ping" >&2; exit 1; }
  export DOCKER_HOST="unix://$dir/docker.sock"
  if ! docker image inspect test/busybox:latest >/dev/null 2>&1; then
    root="$dir/rootfs"; rm -rf "$root"; mkdir -p "$root/bin" "$root/etc" "$root/tmp"
    cp "$(command -v busybox)" "$root/bin/busybox"
    for a in $("$root/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
    echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
    tar -C "$root" -cf "$dir/rootfs.tar" .
    docker import -c 'CMD ["/bin/sh"]' "$dir/rootfs.tar" test/busybox:latest >/dev/null
    rm -rf "$root" "$dir/rootfs.tar"
  fi
  echo "$pid"
  ;;
stop)
  [ -f "$dir/docker.pid" ] || exit 0
  pid=$(cat "$dir/docker.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
  # dockerd bind-mounts its data root onto itself; release what it left mounted under DIR.
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  ;;
esac
