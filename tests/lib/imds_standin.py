"""EC2 instance metadata (IMDSv2 only) stand-in for tests.

Serves the token PUT, the role listing, role credentials and the region.
Credentials it hands out are registered in a sigv4_verify.KeyStore so the
AWS stand-ins accept them until their Expiration.  No IMDSv1, no user
data, no other metadata paths (404).  Relies on standin, sigv4_verify.

API
  m = ImdsStandIn(keys, region="us-east-1", role="spookyd-role", port=0,
                  lifetime_s=21600)
  m.rotate(lifetime_s=None) -> creds dict: new AccessKeyId/Secret/Token,
      Expiration = now + lifetime_s; the old set stays valid until its own
      Expiration (as on EC2).
  m.expire_in(seconds): shorten (or extend) the current set's Expiration,
      in the document and in the KeyStore alike.
  m.credentials() -> current creds dict (the JSON document as served).
  m.role = None -> credential paths answer 404 (no instance profile).
  m.enabled = False -> every request answers 403 (IMDS turned off).
  m.expire_tokens(): every issued token becomes invalid (401).
  m.token_puts / m.credential_gets: counters for assertions.
"""

import json
import random
import secrets
import string
import threading
import time

from standin import Response, StandIn

TOKEN_PATH = "/latest/api/token"
CRED_PATH = "/latest/meta-data/iam/security-credentials/"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"


def _iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _text(status, body, extra=None):
    return Response(status, [("Content-Type", "text/plain")] + (extra or []),
                    body)


class ImdsStandIn(StandIn):
    """IMDSv2 stand-in; see the module docstring."""

    def __init__(self, keys, region="us-east-1", role="spookyd-role",
                 port=0, lifetime_s=21600, host="127.0.0.1"):
        super().__init__(port, host)
        self.keys = keys
        self.region = region
        self.role = role
        self.enabled = True
        self.lifetime_s = lifetime_s
        self.token_puts = 0
        self.credential_gets = 0
        self._ilock = threading.Lock()
        self._tokens = {}
        self._creds = None
        self.rotate()

    # -- test-side API --
    def rotate(self, lifetime_s=None):
        now = self.clock()
        life = self.lifetime_s if lifetime_s is None else lifetime_s
        akid = "ASIA" + "".join(random.choice(string.ascii_uppercase +
                                              string.digits)
                                for _ in range(16))
        creds = {"Code": "Success", "LastUpdated": _iso(now),
                 "Type": "AWS-HMAC", "AccessKeyId": akid,
                 "SecretAccessKey": secrets.token_urlsafe(30)[:40],
                 "Token": secrets.token_urlsafe(96),
                 "Expiration": _iso(now + life)}
        self.keys.add(akid, creds["SecretAccessKey"], creds["Token"],
                      expires_at=int(now + life))
        with self._ilock:
            self._creds = creds
        return dict(creds)

    def expire_in(self, seconds):
        at = self.clock() + seconds
        with self._ilock:
            c = self._creds
            c["Expiration"] = _iso(at)
        self.keys.add(c["AccessKeyId"], c["SecretAccessKey"], c["Token"],
                      expires_at=int(at))

    def credentials(self):
        with self._ilock:
            return dict(self._creds)

    def expire_tokens(self):
        with self._ilock:
            self._tokens.clear()

    # -- StandIn hook --
    def handle(self, req):
        if not self.enabled:
            return _text(403, "Forbidden")
        if req.path == TOKEN_PATH:
            return self._put_token(req)
        if req.method != "GET":
            return _text(405, "Method Not Allowed")
        if not self._token_ok(req.headers.get(TOKEN_HEADER)):
            return _text(401, "Unauthorized")
        return self._metadata(req.path)

    def _put_token(self, req):
        if req.method != "PUT":
            return _text(405, "Method Not Allowed")
        if req.headers.get("X-Forwarded-For") is not None:
            return _text(403, "Forbidden")
        ttl = req.headers.get(TTL_HEADER, "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return _text(400, "Bad Request")
        token = secrets.token_urlsafe(42)
        with self._ilock:
            self.token_puts += 1
            self._tokens[token] = self.clock() + int(ttl)
        return _text(200, token, [(TTL_HEADER, ttl)])

    def _token_ok(self, token):
        if not token:
            return False
        with self._ilock:
            exp = self._tokens.get(token)
        return exp is not None and self.clock() < exp

    def _metadata(self, path):
        if path == "/latest/meta-data/placement/region":
            return _text(200, self.region)
        if path == "/latest/meta-data/placement/availability-zone":
            return _text(200, self.region + "a")
        role = self.role
        if path in (CRED_PATH, CRED_PATH.rstrip("/")):
            return _text(200, role) if role else _text(404, "Not Found")
        if role and path in (CRED_PATH + role, CRED_PATH + role + "/"):
            with self._ilock:
                self.credential_gets += 1
                body = dict(self._creds)
            return Response(200, [("Content-Type", "text/plain")],
                            json.dumps(body, indent=2))
        return _text(404, "Not Found")
