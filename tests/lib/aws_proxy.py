"""Verifying reverse proxy in front of s3rver or dynalite (tests only).

Each request is checked by a sigv4_verify.Verifier (neither backend checks
signatures), then the StandIn fault rules apply, then it is forwarded to
the backend and the backend's answer is streamed back unchanged apart from
hop-by-hop headers and Date (ours, from the proxy clock).  Plain HTTP only.

API
  p = AwsProxy(service, region, keys, backend_url, port=0,
               strip_auth=(service == "s3"))
      strip_auth drops Authorization and X-Amz-Security-Token before
      forwarding (s3rver would check them against its own key).
  p.start() / p.stop() / with; p.url; p.verifier (last_error, max_skew_s);
  p.clock_offset_s moves both the Date header and the skew check;
  plus everything a standin.StandIn has (log, set_faults, reset).
"""

import http.client
import urllib.parse

from sigv4_verify import Verifier
from standin import CHUNK, Response, StandIn

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te",
              "trailer", "transfer-encoding", "upgrade", "expect"}
NOT_FROM_BACKEND = HOP_BY_HOP | {"date", "server"}


class AwsProxy(StandIn):
    """SigV4-verifying pass-through proxy; see the module docstring."""

    def __init__(self, service, region, keys, backend_url, port=0,
                 strip_auth=None, host="127.0.0.1"):
        super().__init__(port, host)
        self.verifier = Verifier(service, region, keys, clock=self.clock)
        u = urllib.parse.urlsplit(backend_url)
        self.backend = (u.hostname, u.port)
        self.strip_auth = (service == "s3") if strip_auth is None \
            else strip_auth
        self.timeout_s = 30

    def authorize(self, req):
        return self.verifier.verify(req)

    def handle(self, req):
        drop = set(HOP_BY_HOP) | {"host", "content-length"}
        if self.strip_auth:
            drop |= {"authorization", "x-amz-security-token"}
        headers = [(n, v) for n, v in req.raw_headers
                   if n.lower() not in drop]
        headers.append(("Host", "%s:%d" % self.backend))
        headers.append(("Content-Length", str(len(req.body))))
        conn = http.client.HTTPConnection(*self.backend,
                                          timeout=self.timeout_s)
        try:
            conn.putrequest(req.method, req.target, skip_host=True,
                            skip_accept_encoding=True)
            for n, v in headers:
                conn.putheader(n, v)
            conn.endheaders(req.body)
            resp = conn.getresponse()
        except OSError as e:
            conn.close()
            return Response(502, [("Content-Type", "text/plain")],
                            "proxy: backend %s:%d: %s\n"
                            % (self.backend + (e,)))
        out = [(n, v) for n, v in resp.getheaders()
               if n.lower() not in NOT_FROM_BACKEND]
        return Response(resp.status, out, _stream(conn, resp),
                        reason=resp.reason)


class _stream:
    """The backend body in chunks; close() releases the connection."""

    def __init__(self, conn, resp):
        self.conn = conn
        self.resp = resp

    def __iter__(self):
        while True:
            chunk = self.resp.read(CHUNK)
            if not chunk:
                return
            yield chunk

    def close(self):
        self.conn.close()
