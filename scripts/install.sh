#!/usr/bin/env bash
# Installs monitoring-agent (or, with --server, monitoring-server) on this host (run as root):
#   the self-contained release binary  → $PREFIX/bin/NAME (default /usr/local)
#   the systemd unit                   → /etc/systemd/system/NAME.service
#   the example settings               → /etc/NAME/agent.env or server.env (kept if present)
#   a system user NAME, and the secret in /etc/NAME/secret checked for its mode
#
#   scripts/install.sh                       build release (--static-swift-stdlib, stripped) and install
#   scripts/install.sh --binary PATH         install a binary built elsewhere (same OS and arch)
#   scripts/install.sh --server [--binary PATH]   the same for monitoring-server (needs libsqlite3-0)
#   DESTDIR=/tmp/stage scripts/install.sh    stage into a directory (packaging); no user, no systemctl
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
binary=""
name=monitoring-agent
settings=agent.env
while (($#)); do
  case "$1" in
    --binary) binary=${2:?--binary PATH}; shift 2 ;;
    --server) name=monitoring-server; settings=server.env; shift ;;
    *) echo "install.sh: unknown argument $1" >&2; exit 64 ;;
  esac
done
if [ -z "$binary" ]; then
  if [ "$name" = monitoring-agent ]; then
    binary=$(scripts/build-release.sh)
  else
    read -ra flags <<< "$(scripts/build-release.sh --flags)"
    swift build "${flags[@]}" --product monitoring-server --scratch-path .build-release >&2
    binary=.build-release/release/monitoring-server
  fi
fi
[ -x "$binary" ] || { echo "install.sh: $binary is not an executable" >&2; exit 1; }

install -d -m 0755 "$DESTDIR$PREFIX/bin" "$DESTDIR/etc/systemd/system"
install -d -m 0750 "$DESTDIR/etc/$name"
install -m 0755 "$binary" "$DESTDIR$PREFIX/bin/$name"
strip "$DESTDIR$PREFIX/bin/$name" 2>/dev/null || true
sed "s|/usr/local/bin/$name|$PREFIX/bin/$name|" "packaging/$name.service" > "$DESTDIR/etc/systemd/system/$name.service"
chmod 0644 "$DESTDIR/etc/systemd/system/$name.service"
[ -e "$DESTDIR/etc/$name/$settings" ] || install -m 0640 "packaging/$settings.example" "$DESTDIR/etc/$name/$settings"

if [ -z "$DESTDIR" ]; then
  id "$name" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$name"
  chgrp "$name" "/etc/$name" "/etc/$name/$settings"
  if [ -e "/etc/$name/secret" ]; then
    # The agent gets its secret as a credential copied by systemd (root reads it); the server
    # reads its files in place on every reload, so its group may read them.
    if [ "$name" = monitoring-agent ]; then chmod 0600 "/etc/$name/secret"; else chgrp "$name" "/etc/$name/secret"; chmod 0640 "/etc/$name/secret"; fi
  else
    echo "install.sh: now put the shared secret in /etc/$name/secret (mode 0600 for the agent, 0640 group $name for the server)" >&2
  fi
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    echo "install.sh: edit /etc/$name/$settings, then: systemctl enable --now $name" >&2
  fi
fi
echo "installed $DESTDIR$PREFIX/bin/$name ($(stat -c %s "$DESTDIR$PREFIX/bin/$name") bytes)"
