"""Self-tests of the OpenAI and X stand-ins (tests/lib/openai_standin.py,
x_standin.py) and pngmake.py: a correct client is served the real shapes,
and each kind of wrong client gets the error the real API would give.
The OAuth client here is oauthlib's, independent of the stand-in's check.
"""

import base64
import hashlib
import http.client
import json
import os
import struct
import sys
import time
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

try:
    from oauthlib import oauth1
except ImportError:
    print("SKIP: python3-oauthlib is not installed (tests/setup-deps)")
    sys.exit(77)

import openai_standin  # noqa: E402
import pngmake  # noqa: E402
import standin  # noqa: E402
import x_standin  # noqa: E402

KEY = "sk-test-" + "a1b2c3d4" * 4
CREDS = {"consumer_key": "ck-standin-test", "consumer_secret": "cs/secret+1",
         "token": "12345-tokenstandin", "token_secret": "ts secret~2"}
UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank",
                "status": 401, "detail": "Unauthorized"}


def request(url, method, path, body=b"", headers=None):
    """(status, {lower-case header: value}, body bytes)."""
    host, port = url[len("http://"):].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return (resp.status, {k.lower(): v for k, v in resp.getheaders()},
                data)
    finally:
        conn.close()


# -- OpenAI ---------------------------------------------------------------

class OpenAITests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ai = openai_standin.OpenAIStandIn(api_key=KEY).start()

    @classmethod
    def tearDownClass(cls):
        cls.ai.stop()

    def setUp(self):
        self.ai.reset()

    def gen(self, body, key=KEY, ctype="application/json"):
        headers = {"Content-Type": ctype}
        if key is not None:
            headers["Authorization"] = "Bearer " + key
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        st, hdrs, data = request(self.ai.url, "POST",
                                 "/v1/images/generations", raw, headers)
        return st, hdrs, json.loads(data) if st != 502 else data

    def body(self, **kw):
        b = {"model": "gpt-image-2-2026-04-21",
             "prompt": "A haunted lighthouse for National Lighthouse Day",
             "n": 1, "size": "1024x1536", "quality": "high",
             "output_format": "png"}
        b.update(kw)
        return {k: v for k, v in b.items() if v is not None}

    def assert_error(self, got, status, etype, code, param=None):
        st, _, body = got
        self.assertEqual(st, status, body)
        self.assertEqual(set(body), {"error"})
        err = body["error"]
        self.assertEqual(err["type"], etype, err)
        self.assertEqual(err["code"], code, err)
        self.assertIsInstance(err["message"], str)
        self.assertIn("param", err)
        if param:
            self.assertEqual(err["param"], param)
        return err

    def test_good_request_returns_png_of_requested_size(self):
        for model, size in (("gpt-image-2-2026-04-21", "1024x1536"),
                            ("gpt-image-2.6-flare", "1280x720"),
                            ("gpt-image-1.5", "1536x1024")):
            st, hdrs, out = self.gen(self.body(model=model, size=size))
            self.assertEqual(st, 200, out)
            self.assertRegex(hdrs["x-request-id"], r"^req_[0-9a-f]{32}$")
            self.assertEqual(set(out), {"created", "data", "background",
                                        "output_format", "quality", "size",
                                        "usage"})
            self.assertEqual(out["size"], size)
            self.assertEqual(out["output_format"], "png")
            self.assertEqual(out["quality"], "high")
            self.assertEqual(len(out["data"]), 1)
            self.assertEqual(set(out["data"][0]), {"b64_json"})
            png = base64.b64decode(out["data"][0]["b64_json"], validate=True)
            info = pngmake.png_info(png)
            w, h = (int(v) for v in size.split("x"))
            self.assertEqual((info["width"], info["height"]), (w, h))
            u = out["usage"]
            self.assertEqual(u["total_tokens"],
                             u["input_tokens"] + u["output_tokens"])
            self.assertIn("text_tokens", u["input_tokens_details"])
            self.assertGreater(u["output_tokens"], 0)

    def test_auto_defaults_resolved(self):
        st, _, out = self.gen({"model": "gpt-image-2",
                               "prompt": "a ghost"})
        self.assertEqual(st, 200, out)
        self.assertEqual((out["size"], out["background"],
                          out["output_format"]),
                         ("1024x1024", "opaque", "png"))
        self.assertIn(out["quality"], ("low", "medium", "high"))

    def test_distinct_prompts_distinct_bytes(self):
        a = self.gen(self.body(prompt="ghost one"))[2]
        b = self.gen(self.body(prompt="ghost two"))[2]
        self.assertNotEqual(a["data"][0]["b64_json"],
                            b["data"][0]["b64_json"])

    def test_bad_key(self):
        err = self.assert_error(self.gen(self.body(), key="sk-wrong-key-123"),
                                401, "invalid_request_error",
                                "invalid_api_key")
        self.assertNotIn("sk-wrong-key-123", err["message"])
        self.assert_error(self.gen(self.body(), key=None), 401,
                          "invalid_request_error", None)
        self.assertEqual([c["status"] for c in self.ai.calls()], [401, 401])
        self.assertFalse(any(c["billed"] for c in self.ai.calls()))

    def test_retired_and_unknown_models(self):
        for model in ("dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-9"):
            err = self.assert_error(self.gen(self.body(model=model)), 404,
                                    "invalid_request_error",
                                    "model_not_found")
            self.assertIn(model, err["message"])
        self.assert_error(self.gen(self.body(model=None)), 400,
                          "invalid_request_error",
                          "missing_required_parameter", "model")

    def test_moderation(self):
        self.ai.configure(moderation=["graveyard"])
        st, hdrs, out = self.gen(self.body(prompt="A GRAVEYARD at night"))
        err = self.assert_error((st, hdrs, out), 400,
                                "image_generation_user_error",
                                "moderation_blocked")
        self.assertIn("safety system", err["message"])
        self.assertIn(hdrs["x-request-id"], err["message"])
        self.assertEqual(err["moderation_details"]["moderation_stage"],
                         "input")
        self.assertEqual(self.gen(self.body(prompt="a pumpkin"))[0], 200)

    def test_quota_rate_limit_server_error(self):
        self.ai.script([{"kind": "quota", "match": "bat"},
                        {"kind": "rate_limit", "retry_after_ms": 2500},
                        {"kind": "server_error"}])
        st, hdrs, out = self.gen(self.body(prompt="a bat"))
        self.assert_error((st, hdrs, out), 429, "insufficient_quota",
                          "insufficient_quota")
        self.assertNotIn("retry-after", hdrs)
        st, hdrs, out = self.gen(self.body(prompt="a cat"))
        self.assert_error((st, hdrs, out), 429, "requests",
                          "rate_limit_exceeded")
        self.assertEqual(hdrs["retry-after-ms"], "2500")
        self.assertEqual(hdrs["retry-after"], "3")
        self.assert_error(self.gen(self.body(prompt="a rat")), 500,
                          "server_error", None)
        self.assertEqual(self.gen(self.body(prompt="a bat"))[0], 200)
        self.assertEqual(len(self.ai.calls(prompt="a bat")), 2)
        self.assertEqual([c["billed"] for c in self.ai.calls()],
                         [False, False, False, True])

    def test_parameter_checks(self):
        cases = [
            (self.body(response_format="b64_json"), "unknown_parameter",
             "response_format"),
            (self.body(style="vivid"), "unknown_parameter", "style"),
            (self.body(n=2), "standin_policy", "n"),
            (self.body(n=11), "integer_above_max_value", "n"),
            (self.body(n="1"), "invalid_type", "n"),
            (self.body(size="1000x1000"), "invalid_value", "size"),
            (self.body(model="gpt-image-1.5", size="1280x720"),
             "invalid_value", "size"),
            (self.body(size="4000x1008"), "invalid_value", "size"),
            (self.body(size="2048x512"), "invalid_value", "size"),
            (self.body(quality="ultra"), "invalid_value", "quality"),
            (self.body(output_format="bmp"), "invalid_value",
             "output_format"),
            (self.body(prompt=""), "empty_string", "prompt"),
            (self.body(prompt="x" * 32001), "string_above_max_length",
             "prompt"),
            (self.body(prompt=None), "missing_required_parameter",
             "prompt"),
        ]
        for body, code, param in cases:
            with self.subTest(code=code, param=param):
                self.assert_error(self.gen(body), 400,
                                  "invalid_request_error", code, param)
        self.assertEqual(self.gen(self.body(prompt="x" * 32000))[0], 200)

    def test_transport_checks(self):
        self.assert_error(self.gen(self.body(), ctype="text/plain"), 400,
                          "invalid_request_error", None)
        self.assert_error(self.gen(b"{not json"), 400,
                          "invalid_request_error", None)
        st, _, out = request(self.ai.url, "POST", "/v1/images/edits", b"{}",
                             {"Authorization": "Bearer " + KEY,
                              "Content-Type": "application/json"})
        self.assertEqual(st, 404)

    def test_image_bytes_and_latency(self):
        self.ai.configure(image_bytes=2_500_000, latency_ms=150)
        self.ai.warm("1024x1024")
        st, hdrs, out = self.gen(self.body(size="1024x1024"))
        self.assertEqual(st, 200)
        png = base64.b64decode(out["data"][0]["b64_json"])
        self.assertEqual(len(png), 2_500_000)
        self.assertEqual(pngmake.png_info(png)["width"], 1024)
        self.assertGreaterEqual(int(hdrs["openai-processing-ms"]), 150)

    def test_calls_counted_per_prompt(self):
        for p in ("one", "two", "one"):
            self.gen(self.body(prompt=p))
        self.assertEqual(len(self.ai.calls(prompt="one")), 2)
        self.assertEqual(len(self.ai.calls(prompt="two")), 1)
        self.assertEqual(len(self.ai.calls()), 3)

    def test_base_faults_apply_after_auth(self):
        self.ai.set_faults([{"match": {"path_prefix": "/v1/"},
                             "action": "status", "status": 502}])
        self.assertEqual(self.gen(self.body(), key="bad")[0], 401)
        self.assertEqual(self.gen(self.body())[0], 502)


# -- X --------------------------------------------------------------------

def sign(url, path, creds=CREDS, **kw):
    """Authorization header from oauthlib's client; the JSON or multipart
    body is not part of an OAuth 1.0a signature, so it is not passed."""
    c = oauth1.Client(creds["consumer_key"],
                      client_secret=creds["consumer_secret"],
                      resource_owner_key=creds["token"],
                      resource_owner_secret=creds["token_secret"], **kw)
    _, headers, _ = c.sign(url + path, http_method="POST")
    return headers["Authorization"]


def multipart(fields, boundary="----spookyd-test-boundary"):
    out = b""
    for name, value in fields:
        out += (b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n"
                % (boundary.encode(), name.encode()))
        if name == "media":
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + value + b"\r\n"
    out += b"--%s--\r\n" % boundary.encode()
    return out, "multipart/form-data; boundary=" + boundary


class XTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.x = x_standin.XStandIn(CREDS).start()
        cls.png = pngmake.make_png(640, 480)

    @classmethod
    def tearDownClass(cls):
        cls.x.stop()

    def setUp(self):
        self.x.reset()

    def post(self, path, body, ctype, auth=None, creds=CREDS, query=""):
        if auth is None:
            auth = sign(self.x.url, path + query, creds)
        hdrs = {"Content-Type": ctype}
        if auth is not False:
            hdrs["Authorization"] = auth
        st, h, data = request(self.x.url, "POST", path + query, body, hdrs)
        return st, h, json.loads(data) if data else None

    def post_json(self, path, obj, **kw):
        return self.post(path, json.dumps(obj).encode(), "application/json",
                         **kw)

    def upload(self, data=None, **kw):
        body, ctype = multipart([("media", data or self.png),
                                 ("media_category", b"tweet_image")])
        return self.post("/2/media/upload", body, ctype, **kw)

    def assert_401(self, got, reason):
        self.assertEqual(got[0], 401, got)
        self.assertEqual(got[2], UNAUTHORIZED)
        self.assertEqual(got[1]["content-type"], "application/problem+json")
        self.assertIn(reason, self.x.auth_failures()[-1]["reason"])

    def test_good_signature_and_upload_shape(self):
        st, _, out = self.upload()
        self.assertEqual(st, 200, out)
        d = out["data"]
        self.assertRegex(d["id"], r"^[0-9]{19}$")
        self.assertGreater(int(d["id"]), 2 ** 53)
        self.assertEqual(d["media_key"], "3_" + d["id"])
        self.assertEqual(d["size"], len(self.png))
        self.assertEqual(d["expires_after_secs"], 86400)
        self.assertEqual(d["image"], {"image_type": "image/png", "w": 640,
                                      "h": 480})
        self.assertEqual(self.x.media_bytes(d["id"]), self.png)
        self.assertEqual(self.x.auth_failures(), [])

    def test_bad_signatures_rejected(self):
        wrong_cs = dict(CREDS, consumer_secret="cs/secret+2")
        self.assert_401(self.upload(auth=sign(self.x.url, "/2/media/upload",
                                              wrong_cs)),
                        "signature mismatch")
        wrong_ts = dict(CREDS, token_secret="ts secret~3")
        self.assert_401(self.upload(auth=sign(self.x.url, "/2/media/upload",
                                              wrong_ts)),
                        "signature mismatch")
        wrong_ck = dict(CREDS, consumer_key="ck-other")
        self.assert_401(self.upload(auth=sign(self.x.url, "/2/media/upload",
                                              wrong_ck)), "consumer key")
        wrong_tok = dict(CREDS, token="999-other")
        self.assert_401(self.upload(auth=sign(self.x.url, "/2/media/upload",
                                              wrong_tok)), "token")
        self.assert_401(self.upload(auth=False), "0 Authorization")
        # Signed for another host:port than the one connected to.
        other = sign("http://127.0.0.1:1", "/2/media/upload")
        self.assert_401(self.upload(auth=other), "signature mismatch")
        self.assertEqual(self.x.media(), [])

    def test_query_is_signed(self):
        auth = sign(self.x.url, "/2/tweets?a=1")
        got = self.post_json("/2/tweets", {"text": "q"}, auth=auth,
                             query="?a=2")
        self.assert_401(got, "signature mismatch")
        got = self.post_json("/2/tweets", {"text": "q"}, auth=auth,
                             query="?a=1")
        self.assertEqual(got[0], 201, got)

    def test_unencoded_signature_rejected(self):
        auth = sign(self.x.url, "/2/media/upload")
        raw = auth.replace("%3D", "=").replace("%2B", "+").replace("%2F", "/")
        self.assertNotEqual(raw, auth)  # base64 of 20 bytes ends in "="
        self.assert_401(self.upload(auth=raw), "percent-encoded")

    def test_stale_timestamp_and_clock_offset(self):
        old = str(int(time.time()) - 400)
        auth = sign(self.x.url, "/2/media/upload", timestamp=old)
        self.assert_401(self.upload(auth=auth), "timestamp")
        ahead = str(int(time.time()) + 400)
        auth = sign(self.x.url, "/2/media/upload", timestamp=ahead)
        self.assert_401(self.upload(auth=auth), "timestamp")
        self.x.clock_offset_s = 1000   # stand-in clock runs ahead
        self.assert_401(self.upload(), "timestamp")
        self.x.clock_offset_s = 0
        self.assertEqual(self.upload()[0], 200)

    def test_replayed_nonce_rejected(self):
        auth = sign(self.x.url, "/2/media/upload",
                    nonce="fixednonce" + os.urandom(8).hex())
        self.assertEqual(self.upload(auth=auth)[0], 200)
        self.assert_401(self.upload(auth=auth), "nonce reused")
        self.assertEqual(len(self.x.media()), 1)

    def test_published_signature_vector(self):
        # X's "Creating a signature" example (docs/api-notes.md section 7):
        # signed for https://api.twitter.com with a form body and a query.
        creds = {"consumer_key": "xvz1evFS4wEEPTGEFPHBog",
                 "consumer_secret":
                     "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
                 "token": "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
                 "token_secret": "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"}
        auth = ('OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", '
                'oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", '
                'oauth_signature="%s", oauth_signature_method="HMAC-SHA1", '
                'oauth_timestamp="1318622958", oauth_token="370773112-'
                'GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", '
                'oauth_version="1.0"')
        body = (b"status=Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed"
                b"%20OAuth%20request%21")
        path = "/1.1/statuses/update.json?include_entities=true"
        with x_standin.XStandIn(creds, signed_base="https://api.twitter.com"
                                ) as x:
            x.clock_offset_s = 1318622958 - time.time()
            for sig, want in (("hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D", 404),
                              ("Ls93hJiZbQ3akF3HF3x1Bz8%2FzU4%3D", 401)):
                st, _, _ = request(x.url, "POST", path, body, {
                    "Authorization": auth % sig, "Content-Type":
                    "application/x-www-form-urlencoded"})
                # 404: signature accepted, v1.1 is not served here.
                self.assertEqual(st, want, x.auth_failures())

    def test_json_upload_metadata_tweet(self):
        b64 = base64.b64encode(self.png).decode()
        st, _, up = self.post_json("/2/media/upload",
                                   {"media": b64,
                                    "media_category": "tweet_image"})
        self.assertEqual(st, 200, up)
        mid = up["data"]["id"]
        alt = "A jack-o'-lantern grinning on a foggy porch"
        st, _, meta = self.post_json("/2/media/metadata", {
            "id": mid, "metadata": {"alt_text": {"text": alt}}})
        self.assertEqual(st, 200, meta)
        self.assertEqual(meta["data"]["id"], mid)
        self.assertEqual(meta["data"]["associated_metadata"]["alt_text"],
                         {"text": alt})
        text = "Happy National Pumpkin Day \U0001F383"
        st, h, tw = self.post_json("/2/tweets", {
            "text": text, "media": {"media_ids": [mid]}})
        self.assertEqual(st, 201, tw)
        d = tw["data"]
        self.assertRegex(d["id"], r"^[0-9]{19}$")
        self.assertEqual(d["text"], text)
        self.assertEqual(d["edit_history_tweet_ids"], [d["id"]])
        self.assertEqual(h["x-rate-limit-remaining"], "99")
        posted = self.x.tweets()
        self.assertEqual(len(posted), 1)
        self.assertEqual(posted[0]["id"], d["id"])
        m = posted[0]["media"][0]
        self.assertEqual(m["sha256"], hashlib.sha256(self.png).hexdigest())
        self.assertEqual(m["alt_text"], alt)

    def test_duplicate_text_rejected(self):
        mid = self.upload()[2]["data"]["id"]
        body = {"text": "Boo!", "media": {"media_ids": [mid]}}
        self.assertEqual(self.post_json("/2/tweets", body)[0], 201)
        st, _, out = self.post_json("/2/tweets", body)
        self.assertEqual(st, 403)
        self.assertEqual(out, {"detail": "You are not allowed to create a"
                               " Tweet with duplicate content.",
                               "type": "about:blank", "title": "Forbidden",
                               "status": 403})
        self.assertEqual(len(self.x.tweets()), 1)

    def test_bad_media_and_tweet_bodies(self):
        mid = self.upload()[2]["data"]["id"]
        bad = [
            ("/2/tweets", {"text": "x", "media": {"media_ids": [int(mid)]}}),
            ("/2/tweets", {"text": "x", "media": {"media_ids": ["1" * 19]}}),
            ("/2/tweets", {"text": "x", "media": {"media_ids": []}}),
            ("/2/tweets", {"text": ""}),
            ("/2/tweets", {"text": "y" * 281}),
            ("/2/tweets", {"text": "x", "media_ids": [mid]}),
            ("/2/media/metadata", {"id": "1" * 19, "metadata": {
                "alt_text": {"text": "a"}}}),
            ("/2/media/metadata", {"id": mid, "metadata": {
                "alt_text": {"text": "a" * 1001}}}),
            ("/2/media/metadata", {"id": int(mid), "metadata": {
                "alt_text": {"text": "a"}}}),
            ("/2/media/metadata", {"id": mid, "alt_text": "a"}),
        ]
        for path, body in bad:
            with self.subTest(path=path, body=str(body)[:60]):
                st, _, out = self.post_json(path, body)
                self.assertEqual(st, 400, out)
                self.assertEqual(out["title"], "Invalid Request")
                self.assertTrue(out["type"].endswith("/invalid-request"))
        self.assertEqual(self.post_json("/2/tweets", {"text": "y" * 280})[0],
                         201)
        st, _, _ = self.post("/2/tweets", b'{"text":"z"}', "text/plain")
        self.assertEqual(st, 400)
        self.assertEqual(self.x.media(mid)[0]["alt_text"], None)

    def test_bad_uploads(self):
        big = pngmake.make_png(1024, 1024, x_standin.IMAGE_MAX + 1)
        st, _, out = self.upload(big)
        self.assertEqual(st, 400, out)
        self.assertIn("limit", out["errors"][0]["message"])
        edge = pngmake.make_png(1024, 1024, x_standin.IMAGE_MAX)
        self.assertEqual(self.upload(edge)[0], 200)
        corrupt = bytearray(self.png)
        corrupt[len(corrupt) // 2] ^= 0xFF
        self.assertEqual(self.upload(bytes(corrupt))[0], 400)
        self.assertEqual(self.upload(b"GIF8")[0], 400)
        body, ctype = multipart([("media", self.png),
                                 ("media_category", b"tweet_image")])
        cut = body[:len(body) - 40]
        self.assertEqual(self.post("/2/media/upload", cut, ctype)[0], 400)
        body, ctype = multipart([("media", self.png)])
        self.assertEqual(self.post("/2/media/upload", body, ctype)[0], 400)
        body, ctype = multipart([("media", self.png),
                                 ("media_category", b"tweet_image"),
                                 ("media_type", b"image/jpeg")])
        self.assertEqual(self.post("/2/media/upload", body, ctype)[0], 400)
        st, _, _ = self.post_json("/2/media/upload",
                                  {"media": "not base64!",
                                   "media_category": "tweet_image"})
        self.assertEqual(st, 400)
        self.assertEqual(len(self.x.media()), 1)

    def test_scripted_rate_limit_credits_5xx(self):
        self.x.script([{"kind": "rate_limit", "path": "/2/tweets",
                        "reset_in_s": 120},
                       {"kind": "credits", "path": "/2/tweets"},
                       {"kind": "status", "status": 503,
                        "path": "/2/tweets"}])
        mid = self.upload()[2]["data"]["id"]   # path filter: not scripted
        body = {"text": "Eek", "media": {"media_ids": [mid]}}
        now = int(self.x.clock())
        st, h, out = self.post_json("/2/tweets", body)
        self.assertEqual(st, 429, out)
        self.assertEqual(h["x-rate-limit-remaining"], "0")
        self.assertIn(int(h["x-rate-limit-reset"]) - now, (119, 120, 121))
        st, _, out = self.post_json("/2/tweets", body)
        self.assertEqual(st, 402)
        self.assertEqual(out["title"], "CreditsDepleted")
        self.assertTrue(out["type"].endswith("/credits"))
        st, _, out = self.post_json("/2/tweets", body)
        self.assertEqual((st, out["status"]), (503, 503))
        self.assertEqual(self.x.tweets(), [])
        self.assertEqual(self.post_json("/2/tweets", body)[0], 201)

    def test_window_rate_limit(self):
        with x_standin.XStandIn(CREDS, limits={"/2/tweets": 1}) as x:
            for text, want in (("a", 201), ("b", 429)):
                auth = sign(x.url, "/2/tweets")
                st, h, _ = request(x.url, "POST", "/2/tweets",
                                   json.dumps({"text": text}).encode(),
                                   {"Authorization": auth,
                                    "Content-Type": "application/json"})
                self.assertEqual(st, want)
                self.assertEqual(h["x-rate-limit-remaining"], "0")

    def test_base_faults_apply_after_auth(self):
        self.x.set_faults([{"match": {"path_prefix": "/2/"},
                            "action": "status", "status": 500}])
        self.assertEqual(self.upload(auth=False)[0], 401)
        self.assertEqual(self.upload()[0], 500)
        self.assertEqual(self.x.media(), [])

    def test_sniff_other_types(self):
        gif = b"GIF89a" + struct.pack("<HH", 33, 17) + b"\x00" * 10
        self.assertEqual(x_standin.sniff_image(gif), ("image/gif", 33, 17))
        sof = b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", 480, 640)
        jpeg = b"\xff\xd8\xff\xe0\x00\x04ab" + sof + b"\x00" * 12
        self.assertEqual(x_standin.sniff_image(jpeg), ("image/jpeg", 640,
                                                       480))
        vp8x = (b"RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00"
                b"\x00\x00\x00\x00" + (99).to_bytes(3, "little")
                + (49).to_bytes(3, "little"))
        self.assertEqual(x_standin.sniff_image(vp8x), ("image/webp", 100, 50))
        with self.assertRaises(ValueError):
            x_standin.sniff_image(b"\x00" * 64)


# -- pngmake and subprocess mode -------------------------------------------

class MiscTests(unittest.TestCase):
    def test_png_checker_catches_damage(self):
        png = pngmake.make_png(48, 32)
        self.assertEqual(pngmake.png_info(png)["height"], 32)
        for bad in (png[:-1], png[:40], b"\x88PNG" + png[4:]):
            with self.assertRaises(ValueError):
                pngmake.png_info(bad)
        # Damage only a CRC can reveal: a byte of a text chunk.
        tagged = bytearray(pngmake.with_comment(png, "boo"))
        tagged[tagged.index(b"boo")] = ord("x")
        with self.assertRaises(ValueError):
            pngmake.png_info(bytes(tagged))
        # A valid-CRC IDAT that inflates to too few bytes.
        raw = zlib.compress(b"\x00" * 10)
        chunk = (struct.pack(">I", len(raw)) + b"IDAT" + raw
                 + struct.pack(">I", zlib.crc32(b"IDAT" + raw)))
        at = png.index(b"IDAT") - 4
        end = png.index(b"IEND") - 4
        with self.assertRaises(ValueError):
            pngmake.png_info(png[:at] + chunk + png[end:])
        with self.assertRaises(ValueError):
            pngmake.make_png(64, 64, 100)

    def test_subprocess_control(self):
        lib = os.path.join(HERE, "..", "lib")
        env = dict(os.environ, OPENAI_API_KEY=KEY,
                   **{"X_" + k.upper(): v for k, v in CREDS.items()})
        with standin.spawn([sys.executable,
                            os.path.join(lib, "openai_standin.py")],
                           env=env) as ai:
            ai.control.call("POST", "openai/config",
                            {"moderation": ["skull"]})
            st, _, _ = request(ai.url, "POST", "/v1/images/generations",
                               json.dumps({"model": "gpt-image-2",
                                           "prompt": "a skull"}).encode(),
                               {"Authorization": "Bearer " + KEY,
                                "Content-Type": "application/json"})
            self.assertEqual(st, 400)
            calls = ai.control.call("GET", "openai/calls")
            self.assertEqual([(c["prompt"], c["status"]) for c in calls],
                             [("a skull", 400)])
        with standin.spawn([sys.executable,
                            os.path.join(lib, "x_standin.py")],
                           env=env) as x:
            auth = sign(x.url, "/2/tweets")
            st, _, _ = request(x.url, "POST", "/2/tweets",
                               b'{"text":"hi"}',
                               {"Authorization": auth,
                                "Content-Type": "application/json"})
            self.assertEqual(st, 201)
            tweets = x.control.call("GET", "x/tweets")
            self.assertEqual([t["text"] for t in tweets], ["hi"])


if __name__ == "__main__":
    unittest.main(verbosity=1)
