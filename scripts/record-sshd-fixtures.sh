#!/usr/bin/env bash
# Records what a real sshd logs for the failure shapes the auth detectors judge, into
# Tests/Fixtures/auth/sshd-scenarios.log. Each scenario is preceded by a `logger` line
# `SCENARIO <name>` so the tests can take the lines of one scenario. Needs root (users, /dev/log),
# openssh-server, rsyslog, sshpass; must not run while scripts/test.sh owns /dev/log.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-Tests/Fixtures/auth/sshd-scenarios.log}
PORT=${PORT:-2223}
W=$(mktemp -d /tmp/ma-record.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$W"; }
trap cleanup EXIT

for u in maok madeny; do id "$u" >/dev/null 2>&1 || useradd -m -s /bin/sh "$u"; done
echo 'maok:right-pass' | chpasswd
echo 'madeny:right-pass' | chpasswd

mkdir -p "$W/rs" /run/sshd
cat > "$W/rsyslog.conf" <<R
global(workDirectory="$W/rs")
module(load="imuxsock" SysSock.Name="/dev/log")
auth,authpriv.*,user.* action(type="omfile" file="$W/auth.log" template="RSYSLOG_TraditionalFileFormat")
R
rsyslogd -n -f "$W/rsyslog.conf" -i "$W/rsyslogd.pid" > "$W/rsyslogd.out" 2>&1 & PIDS+=($!)
for _ in $(seq 1 50); do [ -S /dev/log ] && break; sleep 0.2; done
ssh-keygen -q -t ed25519 -N '' -f "$W/host"
ssh-keygen -q -t ed25519 -N '' -C 'comment from 10.9.9.9 port 22 ssh2' -f "$W/client"
for k in 1 2 3 4; do ssh-keygen -q -t ed25519 -N '' -f "$W/extra$k"; done
# ssh asks this for every password prompt: several wrong passwords on one connection.
printf '#!/bin/sh\necho wrong\n' > "$W/askpass"; chmod +x "$W/askpass"
cat > "$W/sshd_config" <<S
Port $PORT
ListenAddress 127.0.0.1
HostKey $W/host
PidFile $W/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication yes
MaxAuthTries 3
DenyUsers madeny
SyslogFacility AUTH
LogLevel INFO
S
/usr/sbin/sshd -D -f "$W/sshd_config" > "$W/sshd.out" 2>&1 & PIDS+=($!)
for _ in $(seq 1 50); do grep -q "Server listening" "$W/auth.log" 2>/dev/null && break; sleep 0.2; done

SSH=(ssh -p "$PORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10)
scenario() { logger -p auth.info -t recorder "SCENARIO $1"; sleep 0.5; }
try() { timeout 30 "$@" >/dev/null 2>&1 || true; sleep 0.5; }

scenario password-valid-user
try sshpass -p wrong "${SSH[@]}" -o PreferredAuthentications=password -o NumberOfPasswordPrompts=1 maok@127.0.0.1 true
scenario password-invalid-user
try sshpass -p wrong "${SSH[@]}" -o PreferredAuthentications=password -o NumberOfPasswordPrompts=1 nosuchuser@127.0.0.1 true
scenario keyboard-interactive
try sshpass -p wrong "${SSH[@]}" -o PreferredAuthentications=keyboard-interactive -o NumberOfPasswordPrompts=1 maok@127.0.0.1 true
scenario publickey-invalid-user
try "${SSH[@]}" -i "$W/client" -o PreferredAuthentications=publickey -o BatchMode=yes nosuchuser@127.0.0.1 true
scenario publickey-valid-user
try "${SSH[@]}" -i "$W/client" -o PreferredAuthentications=publickey -o BatchMode=yes maok@127.0.0.1 true
scenario deny-users
try sshpass -p right-pass "${SSH[@]}" -o PreferredAuthentications=password -o NumberOfPasswordPrompts=1 madeny@127.0.0.1 true
scenario max-auth-tries-password
try env SSH_ASKPASS="$W/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 setsid -w "${SSH[@]}" -o PreferredAuthentications=password -o NumberOfPasswordPrompts=5 maok@127.0.0.1 true
scenario max-auth-tries-publickey
try "${SSH[@]}" -o PreferredAuthentications=publickey -o BatchMode=yes -o IdentitiesOnly=yes -i "$W/extra1" -i "$W/extra2" -i "$W/extra3" -i "$W/extra4" -i "$W/client" maok@127.0.0.1 true
scenario user-enumeration
for u in admin oracle test guest ubuntu pi postgres ftp deploy git ansible; do
  try "${SSH[@]}" -i "$W/client" -o PreferredAuthentications=publickey -o BatchMode=yes "$u@127.0.0.1" true
done
scenario injected-user-name
try sshpass -p wrong "${SSH[@]}" -o PreferredAuthentications=password -o NumberOfPasswordPrompts=1 -l 'x from 10.9.9.9 port 22 ssh2' 127.0.0.1 true
scenario login-after-failures
try env SSH_ASKPASS="$W/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 setsid -w "${SSH[@]}" -o PreferredAuthentications=password -o NumberOfPasswordPrompts=2 maok@127.0.0.1 true
try sshpass -p right-pass "${SSH[@]}" -o PreferredAuthentications=password -o NumberOfPasswordPrompts=1 maok@127.0.0.1 true
scenario probe-bad-banner
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",'"$PORT"')); s.sendall(sys.stdin.buffer.read()); s.recv(1000); import time; time.sleep(1); s.close()' || true
sleep 1
scenario end
sleep 1
grep -v 'Server listening\|recorder: SCENARIO end' "$W/auth.log" | sed -n '/SCENARIO password-valid-user/,$p' > "$OUT"
wc -l "$OUT"
