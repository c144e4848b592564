"""Stand-in for api.x.com (X API v2) as spookyd uses it, for tests.

Every request must carry a valid OAuth 1.0a HMAC-SHA1 Authorization header
for the configured consumer and token; the signature is recomputed with
oauthlib's RFC 5849 code (not spookyd's), timestamps more than 300 s off
the stand-in's clock and reused nonces are refused with X's 401 problem
body.  Endpoints: POST /2/media/upload (multipart or JSON base64, one-shot
only, not the chunked initialize/append/finalize flow), POST
/2/media/metadata, POST /2/tweets.  It relies on tests/lib/standin.py
(faults, log, clock) and pngmake.py (PNG checks).

In-process:
    x = XStandIn(CREDS).start()        # CREDS: consumer_key,
    ...                                # consumer_secret, token, token_secret
    x.tweets() -> [{"id", "text", "time", "media": [{"id", "sha256",
                    "size", "type", "w", "h", "alt_text"}]}]
    x.media(), x.auth_failures() -> [{"reason", "path", "base_string"}]
    x.script([{"kind": "rate_limit", "path": "/2/tweets", "reset_in_s": 60},
              {"kind": "credits"}, {"kind": "status", "status": 503}])
Over HTTP: GET /__control/x/tweets, /__control/x/media,
/__control/x/auth_failures; POST /__control/x/script (JSON list).
/__control/reset also forgets tweets, media, nonces and the script.

Script entries fire after a request passed OAuth, on `times` (default 1)
requests whose path equals "path" (default any):
    rate_limit  429, x-rate-limit-remaining 0, x-rate-limit-reset now +
                "reset_in_s" (default 60); "daily": true sets the
                x-user-limit-24hour-* headers instead
    credits     402 CreditsDepleted;  status  "status" (default 503)
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import struct
import sys
import threading
import types
import unicodedata
import urllib.parse
import urllib.request

from oauthlib.oauth1.rfc5849 import signature as oauth_sig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pngmake  # noqa: E402
import standin  # noqa: E402

TIMESTAMP_SKEW_S = 300
IMAGE_MAX = 5 * 1024 * 1024
GIF_MAX = 15 * 1024 * 1024
EXPIRES_S = 86400
WINDOW_S = 900
LIMITS = {"/2/tweets": 100, "/2/media/upload": 500,
          "/2/media/metadata": 500}
MEDIA_ID = re.compile(r"[0-9]{1,19}\Z")
# RFC 5849 section 3.6: only unreserved characters and %XX (upper case).
PE_VALUE = re.compile(r"(?:[A-Za-z0-9._~-]|%[0-9A-F]{2})*\Z")
TWEET_KEYS = ("text", "media", "reply", "quote_tweet_id", "poll",
              "reply_settings", "for_super_followers_only",
              "direct_message_deep_link", "geo", "nullcast", "card_uri",
              "community_id", "made_with_ai", "paid_partnership",
              "share_with_followers")
UPLOAD_FIELDS = ("media", "media_category", "media_type",
                 "additional_owners", "shared")
UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank",
                "status": 401, "detail": "Unauthorized"}
DUPLICATE = {"detail": "You are not allowed to create a Tweet with duplicate"
             " content.", "type": "about:blank", "title": "Forbidden",
             "status": 403}
ACCOUNT_ID = 1712345678901234567


def problem(status, body, headers=()):
    return standin.json_response(status, body,
                                 content_type="application/problem+json",
                                 headers=list(headers))


def invalid_request(message, param=None):
    err = {"message": message}
    if param:
        err["parameters"] = {param: []}
    return problem(400, {
        "errors": [err], "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request"})


# -- OAuth 1.0a ------------------------------------------------------------

def parse_oauth_header(value):
    """[(name, decoded value)] from an `OAuth k="v", ...` header; raises
    ValueError when it is not one (unquoted or badly encoded values,
    repeated names)."""
    if not value[:6].lower() == "oauth ":
        raise ValueError("Authorization scheme is not OAuth")
    out, seen = [], set()
    for item in urllib.request.parse_http_list(value[6:]):
        name, eq, raw = item.strip().partition("=")
        if not eq or len(raw) < 2 or raw[0] != '"' or raw[-1] != '"':
            raise ValueError("parameter %r is not name=\"value\"" % name)
        raw = raw[1:-1]
        if not PE_VALUE.match(raw):
            raise ValueError("value of %s is not percent-encoded per"
                             " RFC 5849 section 3.6" % name)
        if name in seen:
            raise ValueError("parameter %s repeated" % name)
        seen.add(name)
        out.append((name, urllib.parse.unquote(raw)))
    return out


class OAuthCheck:
    """Verifies OAuth 1.0a HMAC-SHA1 requests for one consumer + token."""

    def __init__(self, consumer_key, consumer_secret, token, token_secret):
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.token = token
        self.token_secret = token_secret
        self._nonces = set()
        self._lock = threading.Lock()

    def forget_nonces(self):
        with self._lock:
            self._nonces = set()

    def verify(self, method, uri, query, headers, body, now):
        """None if the request is properly signed, else (reason,
        base_string or None).  uri: the absolute URI the client used,
        without query.  Records the nonce of an accepted request."""
        auth = headers.get_all("Authorization") or []
        if len(auth) != 1:
            return ("%d Authorization headers" % len(auth), None)
        try:
            params = dict(parse_oauth_header(auth[0]))
        except ValueError as e:
            return (str(e), None)
        why = self._check_params(params, now)
        if why:
            return (why, None)
        try:
            base = self.base_string(method, uri, query, headers, body,
                                    auth[0])
        except ValueError as e:
            return ("undecodable query or form body: %s" % e, None)
        req = types.SimpleNamespace(params=base[1], uri=uri,
                                    http_method=method,
                                    signature=params["oauth_signature"])
        if not oauth_sig.verify_hmac_sha1(req, self.consumer_secret,
                                          self.token_secret):
            return ("signature mismatch", base[0])
        with self._lock:
            if params["oauth_nonce"] in self._nonces:
                return ("nonce reused", base[0])
            self._nonces.add(params["oauth_nonce"])
        return None

    def _check_params(self, p, now):
        for k in ("oauth_consumer_key", "oauth_nonce", "oauth_signature",
                  "oauth_signature_method", "oauth_timestamp",
                  "oauth_token"):
            if not p.get(k):
                return "missing " + k
        if p["oauth_signature_method"] != "HMAC-SHA1":
            return "signature method " + p["oauth_signature_method"]
        if p.get("oauth_version", "1.0") != "1.0":
            return "oauth_version " + p["oauth_version"]
        if not hmac.compare_digest(p["oauth_consumer_key"],
                                   self.consumer_key):
            return "unknown consumer key"
        if not hmac.compare_digest(p["oauth_token"], self.token):
            return "unknown token"
        if not p["oauth_timestamp"].isdigit():
            return "timestamp not an integer"
        skew = int(p["oauth_timestamp"]) - now
        if abs(skew) > TIMESTAMP_SKEW_S:
            return "timestamp %+d s off" % skew
        return None

    @staticmethod
    def base_string(method, uri, query, headers, body, auth):
        """(base string, params) per RFC 5849 section 3.4.1, with oauthlib;
        raises ValueError if the query or form body cannot be decoded."""
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip()
        form = None
        if ctype.lower() == "application/x-www-form-urlencoded":
            form = body.decode("utf-8", "replace")
        params = oauth_sig.collect_parameters(
            uri_query=query, body=form, headers={"Authorization": auth})
        norm = oauth_sig.normalize_parameters(params)
        return (oauth_sig.signature_base_string(
            method, oauth_sig.base_string_uri(uri), norm), params)


# -- media --------------------------------------------------------------

def sniff_image(data):
    """(mime type, width, height) of PNG, JPEG, GIF or WebP bytes; raises
    ValueError if the bytes are none of these or are malformed."""
    if data.startswith(pngmake.PNG_SIGNATURE):
        info = pngmake.png_info(data)
        return ("image/png", info["width"], info["height"])
    if data[:3] == b"\xff\xd8\xff":
        return ("image/jpeg",) + _jpeg_size(data)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 13:
        w, h = struct.unpack("<HH", data[6:10])
        return ("image/gif", w, h)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        return ("image/webp",) + _webp_size(data)
    raise ValueError("not a PNG, JPEG, GIF or WebP image")


def _jpeg_size(data):
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("bad JPEG marker at %d" % pos)
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (seglen,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA,
                      0xCB, 0xCD, 0xCE, 0xCF) and pos + 9 <= len(data):
            h, w = struct.unpack(">HH", data[pos + 5:pos + 9])
            return (w, h)
        pos += 2 + seglen
    raise ValueError("JPEG without a frame header")


def _webp_size(data):
    kind = data[12:16]
    if kind == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", data[26:30])
        return (w & 0x3FFF, h & 0x3FFF)
    if kind == b"VP8L" and data[20] == 0x2F:
        (bits,) = struct.unpack("<I", data[21:25])
        return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if kind == b"VP8X":
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return (w, h)
    raise ValueError("WebP with an unknown first chunk %r" % kind)


def parse_multipart(ctype_header, body):
    """{name: bytes} from a multipart/form-data body; raises ValueError on
    a missing boundary, a missing closing delimiter (truncated body), a
    part without a form-data name, or a repeated name."""
    m = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', ctype_header)
    if not m:
        raise ValueError("multipart Content-Type without boundary")
    delim = b"--" + (m.group(1) or m.group(2)).encode("latin-1")
    if not body.startswith(delim):
        body_at = body.find(b"\r\n" + delim)
        if body_at < 0:
            raise ValueError("body does not contain the boundary")
        body = body[body_at + 2:]
    segments = body.split(b"\r\n" + delim)
    if not segments[-1].startswith(b"--"):
        raise ValueError("no closing boundary (truncated body?)")
    parts = {}
    for seg in [segments[0][len(delim):]] + segments[1:-1]:
        if not seg.startswith(b"\r\n"):
            raise ValueError("boundary not followed by CRLF")
        head, sep, content = seg[2:].partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("part without a blank line after headers")
        name = _part_name(head.decode("latin-1"))
        if name in parts:
            raise ValueError("part %r repeated" % name)
        parts[name] = content
    return parts


def _part_name(head):
    for line in head.split("\r\n"):
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-disposition":
            if not v.strip().lower().startswith("form-data"):
                raise ValueError("part is not form-data")
            m = re.search(r'\bname="([^"]*)"', v)
            if m:
                return m.group(1)
    raise ValueError("part without Content-Disposition name")


# -- text ---------------------------------------------------------------

URL_RE = re.compile(r"https?://[^\s]+", re.I)


def weighted_length(text):
    """Weighted post length per twitter-text config v3 (docs/api-notes.md
    section 7): NFC, URLs 23, listed ranges weigh 1, the rest 2."""
    # XXX: emoji sequences (ZWJ families, skin tones) weigh 2 per code
    # point here instead of 2 per sequence, so emoji-heavy text is
    # refused earlier than X would.
    text = unicodedata.normalize("NFC", text)
    total = 0
    for part in URL_RE.split(text):
        for ch in part:
            c = ord(ch)
            light = (c <= 0x10FF or 0x2000 <= c <= 0x200D
                     or 0x2010 <= c <= 0x201F or 0x2032 <= c <= 0x2037)
            total += 1 if light else 2
    return total + 23 * len(URL_RE.findall(text))


# -- the server -----------------------------------------------------------

class XStandIn(standin.StandIn):
    """See the module docstring."""

    def __init__(self, creds, port=0, host="127.0.0.1", signed_base=None,
                 limits=None):
        """creds: dict with consumer_key, consumer_secret, token,
        token_secret.  signed_base: scheme://host[:port] the client must
        sign with (default: http:// + the request's Host header)."""
        super().__init__(port, host)
        self.oauth = OAuthCheck(creds["consumer_key"],
                                creds["consumer_secret"], creds["token"],
                                creds["token_secret"])
        self.signed_base = signed_base
        self.limits = dict(LIMITS, **(limits or {}))
        self._xlock = threading.Lock()
        self._clear()

    def _clear(self):
        with self._xlock:
            self._media = {}
            self._tweets = []
            self._fails = []
            self._script = []
            self._windows = {}
            self._next_id = int.from_bytes(os.urandom(4), "big")
        self.oauth.forget_nonces()

    # -- test API --
    def tweets(self):
        with self._xlock:
            return [json.loads(json.dumps(t)) for t in self._tweets]

    def media(self, media_id=None):
        """Uploaded media without the bytes ({"id", "sha256", ...})."""
        with self._xlock:
            items = [_media_view(m) for m in self._media.values()]
        return [m for m in items if media_id in (None, m["id"])]

    def media_bytes(self, media_id):
        with self._xlock:
            return self._media[media_id]["bytes"]

    def auth_failures(self):
        with self._xlock:
            return [dict(f) for f in self._fails]

    def script(self, entries):
        for e in entries:
            if not isinstance(e, dict) or e.get("kind") not in (
                    "rate_limit", "credits", "status"):
                raise ValueError("script entry needs a known kind: %r" % e)
        with self._xlock:
            self._script = [dict(e, left=e.get("times", 1)) for e in entries]

    def reset(self):
        super().reset()
        self._clear()

    def control(self, req, name):
        views = {"x/tweets": self.tweets, "x/media": self.media,
                 "x/auth_failures": self.auth_failures}
        if name in views and req.method == "GET":
            return standin.json_response(200, views[name]())
        if name == "x/script" and req.method == "POST":
            self.script(json.loads(req.body or b"[]"))
            return standin.json_response(200, {})
        return None

    # -- HTTP --
    def authorize(self, req):
        host = req.headers.get("Host")
        if self.signed_base:
            uri = self.signed_base.rstrip("/") + req.path
        elif host:
            uri = "http://" + host + req.path
        else:
            uri = None
        why = ("no Host header", None) if uri is None else self.oauth.verify(
            req.method, uri, req.query, req.headers, req.body, self.clock())
        if why is None:
            return None
        with self._xlock:
            self._fails.append({"reason": why[0], "path": req.path,
                                "base_string": why[1],
                                "time": self.clock()})
        return problem(401, UNAUTHORIZED)

    def handle(self, req):
        routes = {"/2/media/upload": self._upload,
                  "/2/media/metadata": self._metadata,
                  "/2/tweets": self._tweet}
        fn = routes.get(req.path)
        if fn is None or req.method != "POST":
            return standin.json_response(404, {"errors": [{
                "message": "Sorry, that page does not exist", "code": 34}]})
        scripted = self._scripted(req.path)
        if scripted:
            return scripted
        limited, rl_headers = self._rate_limit(req.path)
        if limited:
            return limited
        resp = fn(req)
        resp.headers += rl_headers
        return resp

    def _scripted(self, path):
        with self._xlock:
            for e in self._script:
                if e["left"] > 0 and e.get("path", path) == path:
                    e["left"] -= 1
                    break
            else:
                return None
        now = int(self.clock())
        if e["kind"] == "credits":
            return problem(402, {
                "account_id": ACCOUNT_ID, "title": "CreditsDepleted",
                "detail": "Your enrolled account [%d] does not have any"
                " credits to fulfill this request." % ACCOUNT_ID,
                "type": "https://api.twitter.com/2/problems/credits"})
        if e["kind"] == "status":
            st = e.get("status", 503)
            title = {500: "Internal Server Error", 502: "Bad Gateway",
                     503: "Service Unavailable", 504: "Gateway Timeout"}
            t = title.get(st, "Error")
            return problem(st, {"title": t, "detail": t,
                                "type": "about:blank", "status": st})
        reset = str(now + int(e.get("reset_in_s", 60)))
        limit = str(self.limits.get(path, 100))
        if e.get("daily"):
            hdrs = [("x-user-limit-24hour-limit", limit),
                    ("x-user-limit-24hour-remaining", "0"),
                    ("x-user-limit-24hour-reset", reset),
                    ("x-rate-limit-limit", limit),
                    ("x-rate-limit-remaining", limit),
                    ("x-rate-limit-reset", str(now + WINDOW_S))]
        else:
            hdrs = [("x-rate-limit-limit", limit),
                    ("x-rate-limit-remaining", "0"),
                    ("x-rate-limit-reset", reset)]
        return problem(429, {"title": "Too Many Requests",
                             "detail": "Too Many Requests",
                             "type": "about:blank", "status": 429}, hdrs)

    def _rate_limit(self, path):
        """Counts the request in its 15-minute window."""
        now = self.clock()
        limit = self.limits[path]
        with self._xlock:
            start, used = self._windows.get(path, (now, 0))
            if now >= start + WINDOW_S:
                start, used = now, 0
            used += 1
            self._windows[path] = (start, used)
        hdrs = [("x-rate-limit-limit", str(limit)),
                ("x-rate-limit-remaining", str(max(0, limit - used))),
                ("x-rate-limit-reset", str(int(start + WINDOW_S)))]
        if used > limit:
            return problem(429, {"title": "Too Many Requests",
                                 "detail": "Too Many Requests",
                                 "type": "about:blank", "status": 429},
                           hdrs), hdrs
        return None, hdrs

    def _new_id(self):
        # 19 digits, above 2^53: a client that parses ids as doubles breaks.
        with self._xlock:
            self._next_id += 1
            return str(1870000000000000000 + self._next_id)

    def _upload(self, req):
        fields = self._upload_fields(req)
        if not isinstance(fields, dict):
            return fields
        data = fields["media"]
        if fields.get("media_category") != b"tweet_image":
            return invalid_request("stand-in: media_category must be"
                                   " tweet_image", "media_category")
        if not data:
            return invalid_request("media is empty", "media")
        try:
            mime, w, h = sniff_image(data)
        except ValueError as e:
            return invalid_request("media: %s" % e, "media")
        want = fields.get("media_type")
        if want is not None and want.decode("latin-1") != mime:
            return invalid_request("media_type %s but the bytes are %s"
                                   % (want.decode("latin-1"), mime),
                                   "media_type")
        limit = GIF_MAX if mime == "image/gif" else IMAGE_MAX
        if len(data) > limit:
            return invalid_request("media is %d bytes, over the %d byte"
                                   " limit for %s" % (len(data), limit, mime),
                                   "media")
        mid = self._new_id()
        with self._xlock:
            self._media[mid] = {
                "id": mid, "bytes": data, "size": len(data), "type": mime,
                "w": w, "h": h, "alt_text": None, "time": self.clock(),
                "sha256": hashlib.sha256(data).hexdigest()}
        return standin.json_response(200, {"data": {
            "id": mid, "media_key": "3_" + mid, "size": len(data),
            "expires_after_secs": EXPIRES_S,
            "image": {"image_type": mime, "w": w, "h": h}}})

    def _upload_fields(self, req):
        ctype = req.headers.get("Content-Type") or ""
        kind = ctype.split(";")[0].strip().lower()
        if kind == "multipart/form-data":
            try:
                fields = parse_multipart(ctype, req.body)
            except ValueError as e:
                return invalid_request("multipart body: %s" % e)
        elif kind == "application/json":
            fields = _json_upload_fields(req.body)
            if not isinstance(fields, dict):
                return invalid_request(fields)
        else:
            return invalid_request("Content-Type %s is neither"
                                   " multipart/form-data nor application/json"
                                   % (kind or "(none)"))
        unknown = sorted(set(fields) - set(UPLOAD_FIELDS))
        if unknown:
            return invalid_request("unknown field %s" % unknown[0],
                                   unknown[0])
        if "media" not in fields:
            return invalid_request("media is required", "media")
        return fields

    def _metadata(self, req):
        body = _json_body(req)
        if not isinstance(body, dict):
            return body
        mid = body.get("id")
        meta = body.get("metadata")
        alt = meta.get("alt_text") if isinstance(meta, dict) else None
        text = alt.get("text") if isinstance(alt, dict) else None
        if not isinstance(mid, str) or not MEDIA_ID.match(mid):
            return invalid_request("id must be a string of 1-19 digits",
                                   "id")
        if set(body) - {"id", "metadata"} or not isinstance(text, str):
            return invalid_request("body must be {\"id\", \"metadata\":"
                                   " {\"alt_text\": {\"text\"}}}", "metadata")
        if len(text) > 1000:
            return invalid_request("alt text is %d characters, over 1000"
                                   % len(text), "metadata")
        with self._xlock:
            m = self._media.get(mid)
            if m is not None and not self._expired(m):
                m["alt_text"] = text
        if m is None or self._expired(m):
            return invalid_request("media id %s not found" % mid, "id")
        return standin.json_response(200, {"data": {
            "id": mid, "associated_metadata": {"alt_text": {"text": text}}}})

    def _expired(self, m):
        return self.clock() > m["time"] + EXPIRES_S

    def _tweet(self, req):
        body = _json_body(req)
        if not isinstance(body, dict):
            return body
        unknown = sorted(set(body) - set(TWEET_KEYS))
        if unknown:
            return invalid_request("The `%s` field is not a valid field"
                                   % unknown[0], unknown[0])
        text = body.get("text", "")
        ids = _media_ids(body)
        if not isinstance(ids, list):
            return invalid_request(ids, "media.media_ids")
        bad = _check_text(text, bool(ids))
        if bad:
            return invalid_request(bad, "text")
        return self._post(text, ids)

    def _post(self, text, ids):
        with self._xlock:
            missing = [i for i in ids if i not in self._media
                       or self._expired(self._media[i])]
            if missing:
                return invalid_request("media id %s not found" % missing[0],
                                       "media.media_ids")
            if text and any(t["text"] == text for t in self._tweets):
                return problem(403, DUPLICATE)
            media = [_media_view(self._media[i]) for i in ids]
        if sum(m["type"] == "image/gif" for m in media) and len(media) > 1:
            return invalid_request("a GIF must be the only media",
                                   "media.media_ids")
        tid = self._new_id()
        with self._xlock:
            self._tweets.append({"id": tid, "text": text, "media": media,
                                 "time": self.clock()})
        return standin.json_response(201, {"data": {
            "id": tid, "text": text, "edit_history_tweet_ids": [tid]}})


def _media_view(m):
    return {k: m[k] for k in ("id", "sha256", "size", "type", "w", "h",
                              "alt_text")}


def _json_upload_fields(raw):
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "body is not JSON"
    if not isinstance(body, dict):
        return "body is not a JSON object"
    fields = {}
    for k, v in body.items():
        if k == "media":
            if not isinstance(v, str):
                return "media must be a base64 string"
            try:
                v = base64.b64decode(v, validate=True)
            except (binascii.Error, ValueError):
                return "media is not valid base64"
            fields[k] = v
        elif isinstance(v, str):
            fields[k] = v.encode("utf-8")
        else:
            fields[k] = json.dumps(v).encode()
    return fields


def _json_body(req):
    ctype = (req.headers.get("Content-Type") or "").split(";")[0]
    if ctype.strip().lower() != "application/json":
        return invalid_request("Content-Type must be application/json")
    try:
        body = json.loads(req.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return invalid_request("body is not valid JSON")
    if not isinstance(body, dict):
        return invalid_request("body must be a JSON object")
    return body


def _media_ids(body):
    if "media" not in body:
        return []
    media = body["media"]
    ids = media.get("media_ids") if isinstance(media, dict) else None
    if not isinstance(ids, list) or not 1 <= len(ids) <= 4:
        return "media.media_ids must be a list of 1 to 4 ids"
    for i in ids:
        if not isinstance(i, str) or not MEDIA_ID.match(i):
            return "media ids must be strings of 1-19 digits, got %r" % (i,)
    if len(set(ids)) != len(ids):
        return "media ids repeated"
    return ids


def _check_text(text, has_media):
    if not isinstance(text, str):
        return "text must be a string"
    if not text and not has_media:
        return "text may be empty only with media"
    if any(c in text for c in "\ufffe\ufeff\uffff"):
        return "text contains U+FFFE, U+FEFF or U+FFFF"
    n = weighted_length(text)
    if n > 280:
        return "text is too long (weighted length %d > 280)" % n
    return None


def _add_args(p):
    for k in ("consumer-key", "consumer-secret", "token", "token-secret"):
        env = "X_" + k.upper().replace("-", "_")
        p.add_argument("--" + k, default=os.environ.get(env),
                       help="default: $" + env)
    p.add_argument("--signed-base", default=None)


def _factory(args):
    creds = {"consumer_key": args.consumer_key,
             "consumer_secret": args.consumer_secret,
             "token": args.token, "token_secret": args.token_secret}
    missing = [k for k, v in creds.items() if not v]
    if missing:
        raise SystemExit("x_standin: missing %s" % ", ".join(missing))
    return XStandIn(creds, args.port, args.host, args.signed_base)


if __name__ == "__main__":
    standin.main(_factory, _add_args)
