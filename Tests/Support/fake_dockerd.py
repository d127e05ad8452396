#!/usr/bin/env python3
"""A fake Docker Engine on a unix socket that misbehaves on demand, for the agent's hostile-input
tests (Tests/AgentIntegrationTests/HostileDockerTests.swift). It serves the endpoints the agent
calls (/_ping, /events, /containers/json, /containers/{id}/json, /containers/{id}/logs) with
API version 1.41 and prints one line per request ("GET <path>") on stdout.

Usage: fake_dockerd.py SOCKET MODE [N] [PAD]
Modes:
  many N PAD    N running containers in one /containers/json body, each with PAD bytes of
                padding (N=20000, PAD=600 gives a body over 12 MiB); every log stream sends one
                line and then stays open
  slow-list     /containers/json sends its head, then one byte every 2 s, forever
  noisy N       one container whose log stream sends N lines of 4,000 control bytes (each
                escaped six times larger in JSON), then stays open
  healthcheck   one container with a healthcheck; the first event stream sends the end of a
                probe that started before it opened (exec_die of an exec id never seen, which
                /exec/{id}/json no longer knows), one whole probe, and a user's `sh` exec
"""
import json, os, socket, socketserver, sys, threading, time
from http.server import BaseHTTPRequestHandler

sock_path, mode = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 0
pad = int(sys.argv[4]) if len(sys.argv) > 4 else 0
lock = threading.Lock()
events_sent = threading.Event()
HC_ID = "%064x" % 7


# Every line goes out in one write: under PYTHONUNBUFFERED print() writes its pieces one by one,
# and a test polling the output file would read half a line.
def log(line):
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, ctype="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("API-Version", "1.41")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def stream_head(self, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def hold(self):
        while True:  # a stream that stays open until the client goes away
            time.sleep(3600)

    def do_GET(self):
        path = self.path
        log("GET " + path)
        bare = path.split("?")[0]
        if bare.endswith("/_ping"):
            return self.send(200, b"OK", "text/plain")
        if bare.endswith("/events"):
            self.stream_head("application/json")
            if mode == "healthcheck" and not events_sent.is_set():
                events_sent.set()
                time.sleep(1)
                probe, user = "/bin/sh -c echo healthy", "sh"
                for action, exec_id in [("exec_die", "a" * 64),
                                        ("exec_create: " + probe, "b" * 64), ("exec_start: " + probe, "b" * 64),
                                        ("exec_die", "b" * 64),
                                        ("exec_create: " + user, "c" * 64), ("exec_start: " + user, "c" * 64),
                                        ("exec_die", "c" * 64)]:
                    now = time.time_ns()
                    attrs = {"name": "hc", "image": "busybox", "execID": exec_id}
                    self.chunk(json.dumps({"Type": "container", "Action": action, "status": action,
                                           "id": HC_ID, "Actor": {"ID": HC_ID, "Attributes": attrs},
                                           "time": now // 10**9, "timeNano": now}).encode() + b"\n")
            return self.hold()
        if bare.endswith("/containers/json"):
            if mode == "slow-list":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                self.wfile.write(b"[")
                self.wfile.flush()
                while True:
                    time.sleep(2)
                    self.wfile.write(b" ")
                    self.wfile.flush()
            if mode == "noisy":
                return self.send(200, json.dumps([{"Id": "%064x" % 1, "Names": ["/noisy"], "Image": "busybox",
                                                   "State": "running"}]).encode())
            if mode == "healthcheck":
                return self.send(200, json.dumps([{"Id": HC_ID, "Names": ["/hc"], "Image": "busybox",
                                                   "State": "running"}]).encode())
            self.stream_head("application/json")
            self.chunk(b"[")
            filler = "x" * pad
            batch = []
            for i in range(count):
                batch.append(json.dumps({"Id": "%064x" % i, "Names": ["/c%d" % i], "Image": "busybox",
                                         "State": "running", "Labels": {"pad": filler}}))
                if len(batch) == 200 or i == count - 1:
                    self.chunk(("," if i >= 200 else "").encode() + ",".join(batch).encode())
                    batch = []
            self.chunk(b"]")
            self.chunk(b"")
            return
        parts = bare.split("/")
        if len(parts) >= 5 and parts[2] == "containers" and parts[4] == "json":
            cid = parts[3]
            config = {"Image": "busybox", "Tty": True}
            if mode == "healthcheck":
                config["Healthcheck"] = {"Test": ["CMD-SHELL", "echo healthy"]}
            body = json.dumps({"Id": cid, "Name": "/c-" + cid[:12], "Config": config,
                               "State": {"Running": True, "StartedAt": "2026-11-30T00:00:00Z"}}).encode()
            return self.send(200, body)
        if len(parts) >= 5 and parts[2] == "containers" and parts[4] == "logs":
            self.stream_head("application/vnd.docker.raw-stream")
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())
            if mode == "noisy":
                line = stamp.encode() + b" " + bytes([1]) * 4000 + b"\n"
                for _ in range(count):
                    self.chunk(line)
                return self.hold()
            self.chunk(("%s hello from %s\n" % (stamp, parts[3][:12])).encode())
            return self.hold()
        self.send(404, b'{"message":"page not found"}')


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 1024


if os.path.exists(sock_path):
    os.unlink(sock_path)
server = Server(sock_path, Handler)
sys.stdout.write("ready\n")
sys.stdout.flush()
server.serve_forever()
