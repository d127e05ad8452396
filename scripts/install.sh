#!/usr/bin/env bash
# Installs monitoring-agent on this host (run as root):
#   the self-contained release binary  → $PREFIX/bin/monitoring-agent (default /usr/local)
#   the systemd unit                   → /etc/systemd/system/monitoring-agent.service
#   the example settings               → /etc/monitoring-agent/agent.env (kept if present)
#   a system user monitoring-agent, and /etc/monitoring-agent/secret checked for mode 0600
#
#   scripts/install.sh                       build release (--static-swift-stdlib, stripped) and install
#   scripts/install.sh --binary PATH         install a binary built elsewhere (same OS and arch)
#   DESTDIR=/tmp/stage scripts/install.sh    stage into a directory (packaging); no user, no systemctl
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
binary=""
while (($#)); do
  case "$1" in
    --binary) binary=${2:?--binary PATH}; shift 2 ;;
    *) echo "install.sh: unknown argument $1" >&2; exit 64 ;;
  esac
done
if [ -z "$binary" ]; then
  binary=$(scripts/build-release.sh)
fi
[ -x "$binary" ] || { echo "install.sh: $binary is not an executable" >&2; exit 1; }

install -d -m 0755 "$DESTDIR$PREFIX/bin" "$DESTDIR/etc/systemd/system"
install -d -m 0750 "$DESTDIR/etc/monitoring-agent"
install -m 0755 "$binary" "$DESTDIR$PREFIX/bin/monitoring-agent"
strip "$DESTDIR$PREFIX/bin/monitoring-agent" 2>/dev/null || true
sed "s|/usr/local/bin/monitoring-agent|$PREFIX/bin/monitoring-agent|" packaging/monitoring-agent.service \
  > "$DESTDIR/etc/systemd/system/monitoring-agent.service"
chmod 0644 "$DESTDIR/etc/systemd/system/monitoring-agent.service"
[ -e "$DESTDIR/etc/monitoring-agent/agent.env" ] || install -m 0640 packaging/agent.env.example "$DESTDIR/etc/monitoring-agent/agent.env"

if [ -z "$DESTDIR" ]; then
  id monitoring-agent >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin monitoring-agent
  chgrp monitoring-agent /etc/monitoring-agent /etc/monitoring-agent/agent.env
  if [ -e /etc/monitoring-agent/secret ]; then
    chmod 0600 /etc/monitoring-agent/secret
  else
    echo "install.sh: now put the shared secret in /etc/monitoring-agent/secret (mode 0600)" >&2
  fi
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    echo "install.sh: edit /etc/monitoring-agent/agent.env, then: systemctl enable --now monitoring-agent" >&2
  fi
fi
echo "installed $DESTDIR$PREFIX/bin/monitoring-agent ($(stat -c %s "$DESTDIR$PREFIX/bin/monitoring-agent") bytes)"
