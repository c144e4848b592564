"""Shared base for local stand-ins of remote HTTP services (tests only).

A StandIn is an HTTP/1.1 server on 127.0.0.1 (ephemeral port unless one is
given) that records every request and can be told to misbehave.  It does
not know any real service: subclasses override handle() (and optionally
authorize()).  Python 3.11 stdlib only; import it with tests/lib on sys.path.

API (in-process)
  s = StandIn(port=0, host="127.0.0.1")   subclass and override:
      handle(req) -> Response              normal answer (default: JSON echo)
      authorize(req) -> Response | None    runs before fault rules; a
                                           Response rejects the request
  s.start() / s.stop(); `with StandIn() as s:`; s.port, s.url
  s.log() -> [entry]   entry: seq, time, method, path (with query),
                       headers [[name, value]...], body_len, body_sha256,
                       status, fault (action type or None), error
  s.set_faults([rule...]) (replaces), s.faults(), s.reset() (log + faults)
  s.clock_offset_s: added to time.time() for the Date header and clock()
  Request: method, target, path (no query), query, headers (message;
           case-insensitive .get), body (bytes), raw_headers [(n, v)]
  Response(status=200, headers=None, body=b"", reason=None): headers is a
           dict or list of pairs; body is bytes or an iterable of bytes
           (streamed; give Content-Length or it is sent chunked).

API (over HTTP, same server; /__control/ requests are never logged or faulted)
  GET  /__control/log            JSON list of log entries
  GET  /__control/faults         current rules with their "hits"
  POST /__control/faults         body: JSON list of rules (replaces)
  POST /__control/reset          clears log, faults and clock offset
  POST /__control/clock          body: {"offset_s": float}
  Control(url) is a client with the same methods as above.

Fault rule (JSON object):
  {"match": {"method": "PUT", "path_prefix": "/b/", "path_regex": "...",
             "header": {"x-amz-target": "regex"},
             "nth": 1, "times": 2},
   "action": "status", ...action parameters...}
  The rule counts the requests that match method/path/header; it fires on
  matching requests number nth .. nth+times-1 (nth defaults to 1, times to
  unlimited).  The first rule that fires wins.  Every action accepts
  "delay_ms" (sleep first).  Actions:
    delay     only the delay, then the normal answer
    status    "status" (503), "headers" {}, "body" (str), "content_type"
    stall     read the request, then send nothing until the client closes
              or the server stops; with "after_bytes": send headers
              announcing "size" and that many body bytes, then stall
    reset     close with TCP RST: immediately, or with "after_bytes" after
              headers announcing "size" (default after_bytes + 1024) and
              that many body bytes; "during": "request" resets after
              reading "after_bytes" of the request body instead (such a
              rule is checked before authorize(), which needs the body)
    truncate  announce Content-Length "size", send "after_bytes", close
    garbage   "status" (200), "size" (256) random bytes, "content_type"
    huge      "status" (200), "size" bytes streamed in 64 KiB chunks,
              "content_type" (application/octet-stream)

Subprocess use: run a module whose __main__ calls standin.main(factory); it
prints "PORT <n>" on stdout once listening and serves until SIGTERM.
spawn(argv) starts one and returns a handle with .port, .url, .control,
.stop() (also a context manager).
"""

import hashlib
import http.client
import http.server
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import threading
import time
import traceback
import urllib.parse

ACTIONS = ("delay", "status", "stall", "reset", "truncate", "garbage", "huge")
CHUNK = 65536


class Response:
    """An answer from handle()/authorize(); see the module docstring."""

    def __init__(self, status=200, headers=None, body=b"", reason=None):
        self.status = status
        if isinstance(headers, dict):
            headers = list(headers.items())
        self.headers = list(headers or [])
        if isinstance(body, str):
            body = body.encode()
        self.body = body
        self.reason = reason

    def header(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None


def json_response(status, obj, content_type="application/json", headers=None):
    """Response carrying obj as JSON."""
    hdrs = [("Content-Type", content_type)] + list(headers or [])
    return Response(status, hdrs, json.dumps(obj).encode())


class Request:
    """A fully parsed incoming request (body read unless noted)."""

    def __init__(self, method, target, headers, body, client):
        self.method = method
        self.target = target
        split = urllib.parse.urlsplit(target)
        self.path = split.path
        self.query = split.query
        self.headers = headers
        self.raw_headers = list(headers.items())
        self.body = body
        self.client = client


class FaultError(ValueError):
    """A fault rule that cannot be understood."""


def _check_rule(rule):
    if not isinstance(rule, dict):
        raise FaultError("rule must be an object")
    match = rule.get("match", {})
    if not isinstance(match, dict):
        raise FaultError("match must be an object")
    unknown = set(match) - {"method", "path_prefix", "path_regex", "header",
                            "nth", "times"}
    if unknown:
        raise FaultError("unknown match keys: %s" % sorted(unknown))
    if "path_regex" in match:
        re.compile(match["path_regex"])
    for key in ("nth", "times"):
        if key in match and (not isinstance(match[key], int)
                             or match[key] < 1):
            raise FaultError("%s must be an integer >= 1" % key)
    if rule.get("action") not in ACTIONS:
        raise FaultError("action must be one of %s" % ", ".join(ACTIONS))
    for key in ("delay_ms", "status", "size", "after_bytes"):
        if key in rule and (not isinstance(rule[key], int) or rule[key] < 0):
            raise FaultError("%s must be a non-negative integer" % key)


class _Rule:
    def __init__(self, spec):
        _check_rule(spec)
        self.spec = spec
        self.match = spec.get("match", {})
        self.seen = 0
        self.hits = 0

    def matches(self, method, path, headers):
        m = self.match
        if "method" in m and m["method"].upper() != method:
            return False
        if "path_prefix" in m and not path.startswith(m["path_prefix"]):
            return False
        if "path_regex" in m and not re.search(m["path_regex"], path):
            return False
        for name, rx in m.get("header", {}).items():
            if not re.search(rx, headers.get(name, "") or ""):
                return False
        return True

    def consume(self):
        """Count one matching request; True if the rule fires on it."""
        self.seen += 1
        nth = self.match.get("nth", 1)
        times = self.match.get("times")
        if self.seen < nth or (times is not None and self.seen >= nth + times):
            return False
        self.hits += 1
        return True


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "standin/1"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def date_time_string(self, timestamp=None):
        if timestamp is None:
            timestamp = self.server.standin.clock()
        return super().date_time_string(timestamp)

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle
        # holds the body back until the client's delayed ACK (~40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.standin._conn_add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.standin._conn_del(self.connection)

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _dispatch(self):
        try:
            self.server.standin._serve(self)
        except (ConnectionError, BrokenPipeError, socket.timeout, OSError):
            self.close_connection = True


class StandIn:
    """Base stand-in server; see the module docstring."""

    def __init__(self, port=0, host="127.0.0.1"):
        self.host = host
        self.req_port = port
        self.clock_offset_s = 0.0
        self._lock = threading.Lock()
        self._log = []
        self._seq = 0
        self._rules = []
        self._conns = set()
        self._stopping = threading.Event()
        self._httpd = None
        self._thread = None

    # -- lifecycle --
    def start(self):
        httpd = http.server.ThreadingHTTPServer((self.host, self.req_port),
                                                _Handler)
        httpd.daemon_threads = True
        httpd.standin = self
        self._httpd = httpd
        self._stopping.clear()
        self._thread = threading.Thread(target=httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(5)
        self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._httpd.server_address[1]

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def clock(self):
        """The server's idea of now (epoch seconds)."""
        return time.time() + self.clock_offset_s

    # -- log and faults --
    def log(self):
        with self._lock:
            return [dict(e) for e in self._log]

    def set_faults(self, rules):
        compiled = [_Rule(r) for r in rules]
        with self._lock:
            self._rules = compiled

    def faults(self):
        with self._lock:
            return [dict(r.spec, hits=r.hits) for r in self._rules]

    def reset(self):
        with self._lock:
            self._log = []
            self._rules = []
        self.clock_offset_s = 0.0

    # -- subclass hooks --
    def authorize(self, req):
        return None

    def handle(self, req):
        return json_response(200, {"method": req.method, "path": req.target,
                                   "body_len": len(req.body)})

    def control(self, req, name):
        """Extra /__control/<name> endpoints for subclasses; None = 404."""
        return None

    # -- internals --
    def _conn_add(self, conn):
        with self._lock:
            self._conns.add(conn)

    def _conn_del(self, conn):
        with self._lock:
            self._conns.discard(conn)

    def _pick_rule(self, method, path, headers, during_request):
        with self._lock:
            for rule in self._rules:
                if (rule.spec.get("during") == "request") != during_request:
                    continue
                if rule.matches(method, path, headers) and rule.consume():
                    return dict(rule.spec)
        return None

    def _new_entry(self, h):
        with self._lock:
            self._seq += 1
            entry = {"seq": self._seq, "time": time.time(),
                     "method": h.command, "path": h.path,
                     "headers": [[n, v] for n, v in h.headers.items()],
                     "body_len": None, "body_sha256": None, "status": None,
                     "fault": None, "error": None}
            self._log.append(entry)
        return entry

    def _serve(self, h):
        if h.path.startswith("/__control/"):
            body = _read_body(h, None)
            return _send(h, self._control(h, body))
        entry = self._new_entry(h)
        path = urllib.parse.urlsplit(h.path).path
        early = self._pick_rule(h.command, path, h.headers, True)
        if early is not None:
            entry["fault"] = "reset"
            _sleep_ms(early.get("delay_ms", 0))
            _read_body(h, early.get("after_bytes", 0))
            return _reset(h)
        body = _read_body(h, None)
        entry["body_len"] = len(body)
        entry["body_sha256"] = hashlib.sha256(body).hexdigest()
        req = Request(h.command, h.path, h.headers, body,
                      h.client_address)
        resp = self._answer(req, entry)
        entry["status"] = resp.status
        return _send(h, resp)

    def _answer(self, req, entry):
        try:
            resp = self.authorize(req)
            if resp is not None:
                return resp
            rule = self._pick_rule(req.method, req.path, req.headers, False)
            if rule is not None:
                entry["fault"] = rule["action"]
                _sleep_ms(rule.get("delay_ms", 0))
                if rule["action"] != "delay":
                    return self._fault(rule, entry)
            return self.handle(req)
        except Exception as e:  # a stand-in bug must not kill the server
            traceback.print_exc()
            entry["error"] = "%s: %s" % (type(e).__name__, e)
            return Response(500, [("Content-Type", "text/plain")],
                            "stand-in error: %s\n" % entry["error"])

    def _fault(self, rule, entry):
        act = rule["action"]
        if act == "status":
            body = rule.get("body", "")
            hdrs = [("Content-Type", rule.get("content_type", "text/plain"))]
            hdrs += list(rule.get("headers", {}).items())
            return Response(rule.get("status", 503), hdrs, body)
        if act == "garbage":
            return Response(rule.get("status", 200),
                            [("Content-Type",
                              rule.get("content_type", "application/json"))],
                            os.urandom(rule.get("size", 256)))
        if act == "huge":
            size = rule.get("size", 64 * 1024 * 1024)
            return Response(rule.get("status", 200),
                            [("Content-Type", rule.get(
                                "content_type", "application/octet-stream")),
                             ("Content-Length", str(size))],
                            _pattern(size))
        return _SocketFault(rule, self._stopping)

    def _control(self, h, body):
        name = urllib.parse.urlsplit(h.path).path[len("/__control/"):]
        try:
            if name == "log" and h.command == "GET":
                return json_response(200, self.log())
            if name == "faults" and h.command == "GET":
                return json_response(200, self.faults())
            if name == "faults" and h.command == "POST":
                rules = json.loads(body or b"[]")
                if not isinstance(rules, list):
                    raise FaultError("body must be a JSON list of rules")
                self.set_faults(rules)
                return json_response(200, {"rules": len(rules)})
            if name == "reset" and h.command == "POST":
                self.reset()
                return json_response(200, {})
            if name == "clock" and h.command == "POST":
                self.clock_offset_s = float(json.loads(body)["offset_s"])
                return json_response(200, {})
            req = Request(h.command, h.path, h.headers, body,
                          h.client_address)
            resp = self.control(req, name)
            if resp is not None:
                return resp
        except (ValueError, KeyError, TypeError, re.error) as e:
            return json_response(400, {"error": "%s: %s"
                                       % (type(e).__name__, e)})
        return json_response(404, {"error": "no control endpoint " + name})


class _SocketFault:
    """Marker Response for faults that misuse the socket."""

    def __init__(self, rule, stopping):
        self.rule = rule
        self.stopping = stopping
        self.status = None  # nothing complete is sent


def _sleep_ms(ms):
    if ms:
        time.sleep(ms / 1000.0)


def _pattern(size):
    block = bytes(range(256)) * (CHUNK // 256)
    left = size
    while left > 0:
        n = min(left, CHUNK)
        yield block[:n]
        left -= n


def _read_body(h, limit):
    """Read the request body (Content-Length or chunked); stop at limit."""
    if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
        out = bytearray()
        while True:
            line = h.rfile.readline(1024)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while h.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            out += h.rfile.read(size)
            h.rfile.readline(8)
            if limit is not None and len(out) >= limit:
                return bytes(out[:limit])
    n = int(h.headers.get("Content-Length") or 0)
    if limit is not None:
        n = min(n, limit)
    return h.rfile.read(n) if n > 0 else b""


def _reset(h):
    h.close_connection = True
    try:
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack("ii", 1, 0))
        h.connection.close()
    except OSError:
        pass


def _stall(h, stopping):
    h.close_connection = True
    conn = h.connection
    while not stopping.is_set():
        try:
            r, _, _ = select.select([conn], [], [], 0.05)
            if r and not conn.recv(4096):
                return
        except (OSError, ValueError):
            return


def _send_partial(h, rule):
    after = rule.get("after_bytes", 0)
    size = rule.get("size", after + 1024)
    h.send_response(rule.get("status", 200))
    h.send_header("Content-Type", rule.get("content_type",
                                           "application/octet-stream"))
    h.send_header("Content-Length", str(size))
    h.end_headers()
    for chunk in _pattern(min(after, size)):
        h.wfile.write(chunk)
    h.wfile.flush()


def _send_socket_fault(h, f):
    act = f.rule["action"]
    h.close_connection = True
    if act == "stall":
        if "after_bytes" in f.rule:
            _send_partial(h, f.rule)
        return _stall(h, f.stopping)
    if act == "reset":
        if "after_bytes" in f.rule:
            _send_partial(h, f.rule)
        return _reset(h)
    # truncate: announce more than is sent, then a clean close (FIN)
    rule = dict(f.rule)
    rule.setdefault("size", rule.get("after_bytes", 0) * 2 + 100)
    _send_partial(h, rule)
    return None


def _send(h, resp):
    """Write resp to the client; streams iterable bodies, then calls the
    body's close() if it has one (even when the client went away)."""
    if isinstance(resp, _SocketFault):
        return _send_socket_fault(h, resp)
    try:
        return _send_plain(h, resp)
    finally:
        close = getattr(resp.body, "close", None)
        if close is not None:
            close()


def _send_plain(h, resp):
    if h.command == "HEAD" or resp.status in (204, 304):
        body = b""
    else:
        body = resp.body
    h.send_response(resp.status, resp.reason)
    names = set()
    for n, v in resp.headers:
        names.add(n.lower())
        h.send_header(n, v)
    streamed = not isinstance(body, (bytes, bytearray))
    if streamed and "content-length" not in names:
        h.send_header("Transfer-Encoding", "chunked")
    elif not streamed and "content-length" not in names:
        h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if not streamed:
        h.wfile.write(body)
        return None
    chunked = "content-length" not in names
    for chunk in body:
        if not chunk:
            continue
        if chunked:
            h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        else:
            h.wfile.write(chunk)
    if chunked:
        h.wfile.write(b"0\r\n\r\n")
    return None


class Control:
    """Client for a stand-in's /__control/ endpoints (any process)."""

    def __init__(self, url, timeout=10):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.timeout = timeout

    def call(self, method, name, obj=None):
        conn = http.client.HTTPConnection(self.host, self.port,
                                          timeout=self.timeout)
        try:
            body = None if obj is None else json.dumps(obj).encode()
            conn.request(method, "/__control/" + name, body=body,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200:
                raise RuntimeError("control %s: %d %s"
                                   % (name, resp.status, data[:200]))
            return json.loads(data)
        finally:
            conn.close()

    def log(self):
        return self.call("GET", "log")

    def faults(self):
        return self.call("GET", "faults")

    def set_faults(self, rules):
        return self.call("POST", "faults", rules)

    def reset(self):
        return self.call("POST", "reset", {})

    def set_clock_offset(self, offset_s):
        return self.call("POST", "clock", {"offset_s": offset_s})


def main(factory=StandIn, add_args=None, argv=None):
    """Subprocess entry: build factory(args), print PORT, serve to SIGTERM."""
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    if add_args:
        add_args(p)
    args = p.parse_args(argv)
    s = factory(args)
    s.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    print("PORT %d" % s.port, flush=True)
    while not done.wait(0.5):
        pass
    s.stop()


class Spawned:
    """A stand-in running as a subprocess (see spawn())."""

    def __init__(self, proc, port, host):
        self.proc = proc
        self.port = port
        self.host = host
        self.url = "http://%s:%d" % (host, port)
        self.control = Control(self.url)

    def stop(self, timeout=5):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def spawn(argv, env=None, timeout=10, host="127.0.0.1"):
    """Start argv (e.g. [sys.executable, path, "--port", "0"]); wait for
    its "PORT <n>" line.  Raises RuntimeError if it exits or times out."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, env=env)
    r, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline().decode() if r else ""
    m = re.match(r"PORT (\d+)$", line.strip())
    if not m:
        proc.kill()
        proc.wait()
        raise RuntimeError("%s did not print PORT (got %r)" % (argv, line))
    return Spawned(proc, int(m.group(1)), host)


if __name__ == "__main__":
    main(lambda args: StandIn(args.port, args.host))
