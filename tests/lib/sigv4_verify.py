"""Independent SigV4 check of requests that reach the AWS stand-ins.

Rebuilds the wire request as a botocore AWSRequest and lets botocore's own
signer (SigV4Auth, or S3SigV4Auth for s3) compute the signature with the
known secret and the request's X-Amz-Date, so no spookyd code is trusted.
Header auth only (no presigned URLs, no chunked aws-chunked uploads).

API
  keys = KeyStore(); keys.add(akid, secret, token=None, expires_at=None)
      expires_at: epoch seconds; after it the key answers ExpiredToken.
      keys.remove(akid); keys.get(akid)
  v = Verifier(service, region, keys, clock=time.time, max_skew_s=900,
               allow_unsigned_payload=False)
      service: "s3" (XML errors, S3SigV4Auth, path not normalised) or a
      JSON service ("dynamodb" JSON 1.0, "secretsmanager" JSON 1.1).
      v.verify(req) -> None when the request is good, else a
      standin.Response shaped like AWS's error (a Date header is added by
      the server); v.last_error holds (code, message) of the last refusal.
      req is a standin.Request (method, target, headers, body).
  sign_headers(method, url, headers, body, service, region, akid, secret,
               token=None, when=None) -> dict of headers to send: signs
      with botocore at epoch time `when` (default now), for tests that
      need hand-made or skewed requests.
"""

import calendar
import datetime
import hashlib
import re
import threading
import time
import uuid
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from standin import Response, json_response

AMZ_DATE = "%Y%m%dT%H%M%SZ"
AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*"
    r"SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$")
JSON_CONTENT_TYPE = {"dynamodb": "application/x-amz-json-1.0"}
S3_SIG_MSG = ("The request signature we calculated does not match the "
              "signature you provided. Check your key and signing method.")
JSON_SIG_MSG = ("The request signature we calculated does not match the "
                "signature you provided. Check your AWS Secret Access Key "
                "and signing method. Consult the service documentation for "
                "details.")


class KeyStore:
    """Access keys the verifiers accept; shared and thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._keys = {}

    def add(self, akid, secret, token=None, expires_at=None):
        with self._lock:
            self._keys[akid] = {"secret": secret, "token": token,
                                "expires_at": expires_at}

    def remove(self, akid):
        with self._lock:
            self._keys.pop(akid, None)

    def get(self, akid):
        with self._lock:
            k = self._keys.get(akid)
            return dict(k) if k else None


class _ExactHeaders:
    """Sign exactly the headers given (botocore drops expect/user-agent)."""

    def headers_to_sign(self, request):
        out = HTTPHeaders()
        for name, value in request.headers.items():
            out[name.lower()] = value
        return out


class _Signer(_ExactHeaders, SigV4Auth):
    pass


class _S3Signer(_ExactHeaders, S3SigV4Auth):
    pass


def _amz_to_epoch(s):
    try:
        return calendar.timegm(time.strptime(s, AMZ_DATE))
    except (ValueError, TypeError):
        return None


def _fmt(epoch):
    return time.strftime(AMZ_DATE, time.gmtime(epoch))


class _Refusal(Exception):
    def __init__(self, status, code, message, extra=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or []


class Verifier:
    """Checks SigV4 header auth for one service and region."""

    def __init__(self, service, region, keys, clock=time.time,
                 max_skew_s=900, allow_unsigned_payload=False):
        self.service = service
        self.region = region
        self.keys = keys
        self.clock = clock
        self.max_skew_s = max_skew_s
        self.allow_unsigned_payload = allow_unsigned_payload
        self.is_s3 = service == "s3"
        self.last_error = None

    def verify(self, req):
        try:
            self._verify(req)
        except _Refusal as r:
            self.last_error = (r.code, r.message)
            return self._error(r)
        self.last_error = None
        return None

    # -- the checks, in the order AWS appears to apply them --
    def _verify(self, req):
        auth = req.headers.get("Authorization")
        if not auth:
            self._refuse_missing()
        m = AUTH_RE.match(auth)
        if not m:
            self._malformed("Authorization header is not 'AWS4-HMAC-SHA256 "
                            "Credential=..., SignedHeaders=..., "
                            "Signature=...'")
        cred, signed, sig = m.groups()
        parts = cred.split("/")
        if len(parts) != 5 or parts[4] != "aws4_request":
            self._malformed("Credential must be AKID/date/region/service/"
                            "aws4_request, got %r" % cred)
        akid, scope_date, region, service, _ = parts
        key = self._key(akid)
        amz_date = req.headers.get("X-Amz-Date")
        t = _amz_to_epoch(amz_date)
        if t is None:
            self._bad_date(amz_date)
        self._check_scope(amz_date, scope_date, region, service)
        self._check_skew(t, amz_date)
        self._check_token(req, key)
        names = self._check_signed_headers(req, signed)
        self._check_payload(req)
        self._check_signature(req, akid, key, amz_date, names, sig)

    def _refuse_missing(self):
        if self.is_s3:
            raise _Refusal(403, "AccessDenied", "Access Denied")
        raise _Refusal(400, "MissingAuthenticationTokenException",
                       "Request is missing Authentication Token")

    def _malformed(self, why):
        if self.is_s3:
            raise _Refusal(400, "AuthorizationHeaderMalformed",
                           "The authorization header is malformed; " + why,
                           [("Region", self.region)])
        raise _Refusal(400, "IncompleteSignatureException", why)

    def _key(self, akid):
        key = self.keys.get(akid)
        if key is None:
            if self.is_s3:
                raise _Refusal(403, "InvalidAccessKeyId",
                               "The AWS Access Key Id you provided does not "
                               "exist in our records.",
                               [("AWSAccessKeyId", akid)])
            raise _Refusal(400, "UnrecognizedClientException",
                           "The security token included in the request is "
                           "invalid.")
        if key["expires_at"] is not None and self.clock() >= key["expires_at"]:
            if self.is_s3:
                raise _Refusal(400, "ExpiredToken",
                               "The provided token has expired.")
            raise _Refusal(400, "ExpiredTokenException",
                           "The security token included in the request is "
                           "expired")
        return key

    def _bad_date(self, amz_date):
        if self.is_s3:
            raise _Refusal(403, "AccessDenied",
                           "AWS authentication requires a valid Date or "
                           "x-amz-date header")
        raise _Refusal(400, "IncompleteSignatureException",
                       "X-Amz-Date %r is not YYYYMMDDTHHMMSSZ" % amz_date)

    def _check_scope(self, amz_date, scope_date, region, service):
        why = None
        if scope_date != amz_date[:8]:
            why = ("Date in Credential scope (%s) does not match YYYYMMDD "
                   "from X-Amz-Date (%s)" % (scope_date, amz_date))
        elif region != self.region:
            why = ("the region '%s' is wrong; expecting '%s'"
                   % (region, self.region))
        elif service != self.service:
            why = ("Credential should be scoped to correct service: '%s'"
                   % self.service)
        if why is None:
            return
        if self.is_s3:
            self._malformed(why)
        raise _Refusal(400, "InvalidSignatureException", why)

    def _check_skew(self, t, amz_date):
        now = self.clock()
        if abs(t - now) <= self.max_skew_s:
            return
        if self.is_s3:
            raise _Refusal(403, "RequestTimeTooSkewed",
                           "The difference between the request time and the "
                           "current time is too large.",
                           [("RequestTime", amz_date),
                            ("ServerTime", time.strftime(
                                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))),
                            ("MaxAllowedSkewMilliseconds",
                             str(self.max_skew_s * 1000))])
        mins = self.max_skew_s // 60
        if t < now:
            msg = ("Signature expired: %s is now earlier than %s (%s - %d "
                   "min.)" % (amz_date, _fmt(now - self.max_skew_s),
                              _fmt(now), mins))
        else:
            msg = ("Signature not yet current: %s is still later than %s "
                   "(%s + %d min.)" % (amz_date, _fmt(now + self.max_skew_s),
                                       _fmt(now), mins))
        raise _Refusal(400, "InvalidSignatureException", msg)

    def _check_token(self, req, key):
        sent = req.headers.get("X-Amz-Security-Token")
        if key["token"] is None and sent is None:
            return
        if sent == key["token"]:
            return
        if self.is_s3:
            raise _Refusal(400, "InvalidToken",
                           "The provided token is malformed or otherwise "
                           "invalid.")
        raise _Refusal(400, "UnrecognizedClientException",
                       "The security token included in the request is "
                       "invalid.")

    def _check_signed_headers(self, req, signed):
        names = signed.split(";")
        if names != sorted(set(names)) or signed != signed.lower():
            self._malformed("SignedHeaders must be lower case, sorted, "
                            "unique: %r" % signed)
        present = {n.lower() for n in req.headers.keys()}
        missing = [n for n in names if n not in present]
        if missing:
            self._sig_refusal("signed header(s) %s not in the request"
                              % missing)
        unsigned = sorted(n for n in present
                          if n.startswith("x-amz-") and n not in names)
        if "host" not in names:
            unsigned.insert(0, "host")
        if unsigned:
            if self.is_s3:
                raise _Refusal(403, "AccessDenied",
                               "There were headers present in the request "
                               "which were not signed",
                               [("HeadersNotSigned", ", ".join(unsigned))])
            raise _Refusal(400, "InvalidSignatureException",
                           "Headers present in the request but not "
                           "signed: %s ('Host' must be a SignedHeader)"
                           % ", ".join(unsigned))
        return names

    def _check_payload(self, req):
        if not self.is_s3:
            return
        claimed = req.headers.get("x-amz-content-sha256")
        if claimed is None:
            raise _Refusal(400, "InvalidRequest",
                           "Missing required header for this request: "
                           "x-amz-content-sha256")
        if claimed == "UNSIGNED-PAYLOAD" and self.allow_unsigned_payload:
            return
        actual = hashlib.sha256(req.body).hexdigest()
        if claimed != actual:
            raise _Refusal(400, "XAmzContentSHA256Mismatch",
                           "The provided 'x-amz-content-sha256' header does "
                           "not match what was computed.",
                           [("ClientComputedContentSHA256", claimed),
                            ("S3ComputedContentSHA256", actual)])

    def _check_signature(self, req, akid, key, amz_date, names, sig):
        headers = HTTPHeaders()
        for n, v in req.raw_headers:
            if n.lower() in names:
                headers[n.lower()] = v
        wire = AWSRequest(method=req.method,
                          url="http://%s%s" % (req.headers.get("Host"),
                                               req.target),
                          headers=headers, data=req.body)
        wire.context["timestamp"] = amz_date
        cls = _S3Signer if self.is_s3 else _Signer
        signer = cls(Credentials(akid, key["secret"], key["token"]),
                     self.service, self.region)
        canonical = signer.canonical_request(wire)
        sts = signer.string_to_sign(wire, canonical)
        if signer.signature(sts, wire) == sig:
            return
        self._sig_refusal(None, akid, sts, sig, canonical)

    def _sig_refusal(self, why, akid=None, sts=None, sig=None, canonical=None):
        if self.is_s3:
            extra = []
            if sts is not None:
                extra = [("AWSAccessKeyId", akid), ("StringToSign", sts),
                         ("SignatureProvided", sig),
                         ("StringToSignBytes", _hexbytes(sts)),
                         ("CanonicalRequest", canonical),
                         ("CanonicalRequestBytes", _hexbytes(canonical))]
            msg = S3_SIG_MSG if why is None else S3_SIG_MSG + " (" + why + ")"
            raise _Refusal(403, "SignatureDoesNotMatch", msg, extra)
        if why is not None:
            raise _Refusal(400, "InvalidSignatureException", why)
        raise _Refusal(400, "InvalidSignatureException",
                       "%s\n\nThe Canonical String for this request should "
                       "have been\n'%s'\n\nThe String-to-Sign should have "
                       "been\n'%s'\n" % (JSON_SIG_MSG, canonical, sts))

    def _error(self, r):
        rid = uuid.uuid4().hex.upper()[:16]
        if self.is_s3:
            body = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>",
                    "<Code>%s</Code>" % r.code,
                    "<Message>%s</Message>" % escape(r.message)]
            body += ["<%s>%s</%s>" % (n, escape(v), n) for n, v in r.extra]
            body += ["<RequestId>%s</RequestId>" % rid,
                     "<HostId>%s</HostId></Error>" % uuid.uuid4().hex]
            return Response(r.status, [("Content-Type", "application/xml"),
                                       ("x-amz-request-id", rid)],
                            "".join(body))
        ctype = JSON_CONTENT_TYPE.get(self.service,
                                      "application/x-amz-json-1.1")
        return json_response(r.status,
                             {"__type": "com.amazon.coral.service#" + r.code,
                              "message": r.message},
                             ctype, [("x-amzn-RequestId", str(uuid.uuid4()))])


def _hexbytes(s):
    return " ".join("%02x" % b for b in s.encode())


def sign_headers(method, url, headers, body, service, region, akid, secret,
                 token=None, when=None):
    """Headers (including Authorization) signing the request at `when`."""
    req = AWSRequest(method=method, url=url, headers=dict(headers or {}),
                     data=body)
    stamp = datetime.datetime.utcfromtimestamp(
        time.time() if when is None else when)
    req.context["timestamp"] = stamp.strftime(AMZ_DATE)
    cls = S3SigV4Auth if service == "s3" else SigV4Auth
    signer = cls(Credentials(akid, secret, token), service, region)
    if service == "s3" and "X-Amz-Content-SHA256" not in req.headers:
        req.headers["X-Amz-Content-SHA256"] = hashlib.sha256(
            body or b"").hexdigest()
    signer._modify_request_before_signing(req)
    canonical = signer.canonical_request(req)
    sts = signer.string_to_sign(req, canonical)
    signer._inject_signature_to_request(req, signer.signature(sts, req))
    return dict(req.headers.items())
