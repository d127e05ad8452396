#!/usr/bin/env python3
"""Independent test peer: an HTTP(S) ingest server that verifies X-Agent-Signature with
Python's hmac module (not the agent's code) and records every request as one JSON line.

Usage: verify_receiver.py --port P --secret-file F --out FILE [--statuses 503,429,200]
       [--retry-after 1] [--cert C --key K] [--gzip-status N]
--statuses is consumed one per request; after it runs out every answer is 200.
A body with Content-Encoding: gzip is decoded with Python's gzip module and verified after
decoding (the signature covers the uncompressed body); with --gzip-status N such a body is
instead answered N unread, as a server that does not take gzip would.
"""
import argparse, gzip, hashlib, hmac, json, ssl, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--secret-file", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--statuses", default="")
ap.add_argument("--retry-after", default=None)
ap.add_argument("--cert"); ap.add_argument("--key")
ap.add_argument("--date-offset", type=int, default=0, help="seconds added to the Date header")
ap.add_argument("--gzip-status", type=int, default=None)
args = ap.parse_args()

secret = open(args.secret_file, "rb").read().rstrip(b"\n")
statuses = [int(s) for s in args.statuses.split(",") if s]
lock = threading.Lock()
out = open(args.out, "a", buffering=1)

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def date_time_string(self, timestamp=None):
        return super().date_time_string(time.time() + args.date_offset)
    def log_message(self, *a): pass
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            if args.gzip_status is not None:
                with lock:
                    out.write(json.dumps({"path": self.path, "encoding": encoding, "status": args.gzip_status, "refused": True}) + "\n")
                self.answer(args.gzip_status)
                return
            body = gzip.decompress(body)
        ts = self.headers.get("X-Agent-Timestamp", "")
        sig = self.headers.get("X-Agent-Signature", "")
        expected = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        with lock:
            status = statuses.pop(0) if statuses else 200
            rec = {"path": self.path, "content_type": self.headers.get("Content-Type"), "timestamp": ts,
                   "signature": sig, "valid": hmac.compare_digest(sig, expected), "received_at": time.time(),
                   "status": status, "body": body.decode("utf-8", "replace"), "encoding": encoding, "wire_bytes": n}
            out.write(json.dumps(rec) + "\n")
        self.answer(status)

    def answer(self, status):
        self.send_response(status)
        if status in (429, 503) and args.retry_after is not None:
            self.send_header("Retry-After", args.retry_after)
        resp = b'{"ok":true}' if status < 300 else b'{"error":"test"}'
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(resp)))
        self.end_headers()
        self.wfile.write(resp)

srv = ThreadingHTTPServer(("127.0.0.1", args.port), H)
if args.cert:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
sys.stdout.write("ready\n")
sys.stdout.flush()
srv.serve_forever()
