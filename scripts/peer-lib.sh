# Shared by the scripts that start peers and benchmarks (sourced, not run).

# A daemon started here lives on after the script: it must not hold descriptors the caller
# waits on (a pipe read to its end, or a process monitor's own descriptors). Keep only 0-2.
close_inherited_fds() {
  for fd in $(ls /proc/$$/fd); do
    [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true
  done
}

# wait_for_ping SOCKET PID LOG TRIES: until the Engine API on SOCKET answers /_ping; fails with the
# log's tail if PID exits first or it never answers.
wait_for_ping() {
  local sock=$1 pid=$2 logf=$3 tries=$4
  for _ in $(seq 1 "$tries"); do
    curl -sf --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { echo "daemon exited:" >&2; tail -20 "$logf" >&2; return 1; }
    sleep 0.25
  done
  echo "daemon on $sock did not answer /_ping" >&2
  return 1
}

# import_busybox SOCKET WORKDIR: the test image test/busybox:latest, built from busybox-static
# without a registry, unless the daemon has it already.
import_busybox() {
  local sock=$1 work=$2
  docker -H "unix://$sock" image inspect test/busybox:latest >/dev/null 2>&1 && return 0
  local root="$work/rootfs"
  rm -rf "$root"; mkdir -p "$root/bin" "$root/etc" "$root/tmp"
  cp "$(command -v busybox)" "$root/bin/busybox"
  for a in $("$root/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
  tar -C "$root" -cf "$work/rootfs.tar" .
  docker -H "unix://$sock" import -c 'CMD ["/bin/sh"]' "$work/rootfs.tar" test/busybox:latest >/dev/null
  rm -rf "$root" "$work/rootfs.tar"
}

# unmount_under DIR: releases mounts a daemon left below DIR (dockerd bind-mounts its data root).
unmount_under() {
  awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

# freeport: a TCP port on 127.0.0.1 that nothing listens on right now.
freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
