#!/usr/bin/python3
"""Scripted HTTP/1.1 server for tests/unit/test_http.c.

Listens on 127.0.0.1 at a free port, prints "PORT <n>" on stdout and
serves until stdin closes (so it dies with the test that started it).
Each path is a behaviour; /stats reports what the server observed, so
tests assert on events (overlap, disconnects, bytes sent), not on time:

  /echo           JSON: method, path, query, headers, body length,
                  SHA-256 and hex (bodies up to 64 KiB), client port
  /status?code=N&h=Name:value&body=...   that status, headers and body
  /slow?ms=N      answer after N ms
  /barrier?n=N&group=G   hold each request until N of group G are inside
                  at once (10 s at most); answers {"max": most seen}
  /stall?ms=N     headers (Content-Length 1000) and 10 bytes, then nothing
  /reset          headers (Content-Length 100000), 1000 bytes, then RST
  /truncated      Content-Length 1000 but only 100 bytes, then FIN
  /big?n=N[&chunked=1]   N bytes; records how many could be sent
  /headers        mixed-case, repeated, padded and folded headers, a Date
                  and the same instant as X-Date-Epoch
  /bigheaders?n=N N headers of 1000 bytes each
  /hang           no answer; records when the client hangs up
  /flaky?key=K&fail=N    503 (Retry-After: 0) N times per key, then 200
  /stats[?wait=KEY&min=N]   counters, after waiting (5 s at most) until
                  counter KEY reaches N
"""
import email.utils
import hashlib
import json
import os
import select
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

COND = threading.Condition()
STATS = {"requests": 0, "hang_started": 0, "hang_closed": 0, "big": [],
         "barrier": {}, "flaky": {}}
STOP = threading.Event()


def stat_value(key):
    v = STATS.get(key, 0)
    return len(v) if isinstance(v, list) else v


def bump(key, n=1):
    with COND:
        STATS[key] += n
        COND.notify_all()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        self.q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.qall = parse_qs(url.query)
        body = self.read_body()
        fn = getattr(self, "r_" + url.path.strip("/"), None)
        bump("requests")
        if fn is None:
            self.reply(404, b"no such behaviour\n")
            return
        fn(url, body)

    do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = do_GET

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def reply(self, code, body, headers=(), ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def reply_json(self, obj, code=200):
        self.reply(code, json.dumps(obj).encode(), ctype="application/json")

    def r_echo(self, url, body):
        self.reply_json({
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_len": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body_hex": body.hex() if len(body) <= 65536 else None,
            "peer_port": self.client_address[1],
        })

    def r_status(self, url, body):
        headers = [h.split(":", 1) for h in self.qall.get("h", [])]
        self.reply(int(self.q["code"]), self.q.get("body", "").encode(),
                   headers)

    def r_slow(self, url, body):
        STOP.wait(int(self.q.get("ms", "1000")) / 1000)
        self.reply(200, b"slow\n")

    def r_barrier(self, url, body):
        n, group = int(self.q["n"]), self.q["group"]
        with COND:
            g = STATS["barrier"].setdefault(group, {"active": 0, "max": 0})
            g["active"] += 1
            g["max"] = max(g["max"], g["active"])
            COND.notify_all()
            COND.wait_for(lambda: g["max"] >= n or STOP.is_set(), 10)
            seen = g["max"]
            g["active"] -= 1
        self.reply_json({"max": seen})

    def start_body(self, headers):
        self.send_response(200)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.close_connection = True

    def r_stall(self, url, body):
        self.start_body([("Content-Length", "1000")])
        self.wfile.write(b"x" * 10)
        self.wfile.flush()
        STOP.wait(int(self.q.get("ms", "5000")) / 1000)

    def r_reset(self, url, body):
        self.start_body([("Content-Length", "100000")])
        self.wfile.write(b"r" * 1000)
        self.wfile.flush()
        # linger 0: close() sends RST instead of FIN
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.connection.close()

    def r_truncated(self, url, body):
        self.start_body([("Content-Length", "1000")])
        self.wfile.write(b"t" * 100)
        self.wfile.flush()

    def r_big(self, url, body):
        n, chunked = int(self.q["n"]), self.q.get("chunked") == "1"
        self.send_response(200)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(n))
        self.end_headers()
        sent, block = 0, b"b" * 65536
        try:
            while sent < n:
                part = block[:min(len(block), n - sent)]
                if chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                else:
                    self.wfile.write(part)
                sent += len(part)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True
        with COND:
            STATS["big"].append({"sent": sent, "total": n})
            COND.notify_all()

    def r_headers(self, url, body):
        now = int(time.time())
        self.send_response_only(200)
        self.send_header("Date", email.utils.formatdate(now, usegmt=True))
        self.send_header("X-Date-Epoch", str(now))
        self.send_header("X-Amz-Request-Id", "req-123")
        self.send_header("content-TYPE", "text/plain")
        self.send_header("X-Multi", "one")
        self.send_header("X-Multi", "two")
        self.send_header("X-Padded", "   padded value   ")
        self.send_header("X-Folded", "first\r\n \t second")  # obs-fold
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def r_bigheaders(self, url, body):
        self.send_response(200)
        for i in range(int(self.q["n"])):
            self.send_header("X-Fill-%d" % i, "f" * 1000)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def r_hang(self, url, body):
        bump("hang_started")
        deadline = time.monotonic() + 10
        while not STOP.is_set() and time.monotonic() < deadline:
            r, _, _ = select.select([self.connection], [], [], 0.05)
            if r and self.connection.recv(1, socket.MSG_PEEK) == b"":
                bump("hang_closed")
                self.close_connection = True
                return
        self.reply(200, b"gave up waiting for a hang-up\n")

    def r_flaky(self, url, body):
        key, fail = self.q["key"], int(self.q["fail"])
        with COND:
            count = STATS["flaky"][key] = STATS["flaky"].get(key, 0) + 1
        if count <= fail:
            self.reply(503, b"try again\n", [("Retry-After", "0")])
        else:
            self.reply_json({"attempt": count})

    def r_stats(self, url, body):
        key, want = self.q.get("wait"), int(self.q.get("min", "0"))
        with COND:
            if key:
                COND.wait_for(lambda: stat_value(key) >= want, 5)
            snapshot = json.dumps(STATS).encode()
        self.reply(200, snapshot, ctype="application/json")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # Resets and aborted transfers are the point of several behaviours.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def watch_stdin():
    while os.read(0, 4096):
        pass
    STOP.set()
    os._exit(0)


def main():
    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=watch_stdin, daemon=True).start()
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
