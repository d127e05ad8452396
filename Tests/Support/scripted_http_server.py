#!/usr/bin/env python3
"""A real HTTP/1.1 server on loopback whose connection behaviour a test picks, for the agent's
HTTP client (Tests/AgentShippingTests/HTTPTransportTests.swift). Prints "ready <port>", then one
JSON line per request received: connection number, request line, headers, body length (as
sent, decoded when it came with Content-Encoding: gzip) and bytes on the wire.

Modes:
  keepalive        200, kept alive
  close            200 with "Connection: close", then closes
  close-second     answers the first request of each connection; a later one on the same
                   connection is read and the connection closed without an answer (a server
                   that dropped a kept-alive connection just as the client reused it)
  idle-close       kept alive, closed by the server after 0.3 s without a request
  big-body         200 with a 100 KB body, kept alive
  chunked          200 with a chunked body, kept alive
  continue         "100 Continue" first, then 200
  status-503       503 with Retry-After: 7 and a Date header
  silent           reads the request and never answers
  slow             200 after 1.5 s, kept alive (a request still in flight when the client stops)
  hostile-date     200 with a Date whose year has 17 digits (a broken or hostile proxy)
  hostile-retry    503 with a 23-digit Retry-After and the same Date
"""
import gzip, json, socket, sys, threading, time

mode = sys.argv[1]
lock = threading.Lock()
conn_counter = [0]


# Every line goes out in one write: under PYTHONUNBUFFERED print() writes its pieces one by one,
# and a test polling the output file would read half a line.
def log(entry):
    with lock:
        sys.stdout.write(json.dumps(entry) + "\n")
        sys.stdout.flush()


def read_request(f):
    line = f.readline()
    if not line:
        return None
    headers = {}
    while True:
        h = f.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    body = f.read(int(headers.get("content-length", "0")))
    return line.decode().strip(), headers, body


def respond(sock, status="200 OK", extra="", body=b"{}"):
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    sock.sendall(head.encode() + body)


def serve(sock, number):
    f = sock.makefile("rb")
    served = 0
    try:
        while True:
            if mode == "idle-close" and served:
                sock.settimeout(0.3)
            try:
                req = read_request(f)
            except socket.timeout:
                return
            if req is None:
                return
            line, headers, body = req
            decoded = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
            log({"conn": number, "line": line, "headers": headers, "body_bytes": len(decoded), "wire_bytes": len(body)})
            if mode == "close-second" and served:
                return
            if mode == "silent":
                threading.Event().wait()
            served += 1
            if mode == "close":
                respond(sock, extra="Connection: close\r\n")
                return
            elif mode == "slow":
                time.sleep(1.5)
                respond(sock)
            elif mode == "big-body":
                respond(sock, body=b"x" * 100_000)
            elif mode == "chunked":
                sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
            elif mode == "continue":
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                respond(sock)
            elif mode == "hostile-date":
                respond(sock, extra="Date: Thu, 01 Jan 99999999999999999 00:00:00 GMT\r\n")
            elif mode == "hostile-retry":
                respond(sock, "503 Service Unavailable",
                        "Retry-After: 99999999999999999999999\r\nDate: Thu, 01 Jan 99999999999999999 00:00:00 GMT\r\n")
            elif mode == "status-503":
                respond(sock, "503 Service Unavailable", "Retry-After: 7\r\nDate: Wed, 15 Jan 2025 10:30:00 GMT\r\n")
            else:
                respond(sock)
    finally:
        sock.close()


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(64)
sys.stdout.write("ready %d\n" % server.getsockname()[1])
sys.stdout.flush()
while True:
    s, _ = server.accept()
    conn_counter[0] += 1
    threading.Thread(target=serve, args=(s, conn_counter[0]), daemon=True).start()
