"""Integration tests of the X client (src/x/x.c) through the x_post
driver (tests/tools/x_post.c) against the X stand-in, whose OAuth check is
oauthlib's, not ours.  Each test runs the real client on a real uv loop
and HTTP engine, then asserts on what the stand-in stored and on the
driver's JSON result and log lines.
"""

import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

try:
    import x_standin  # noqa: E402  (needs python3-oauthlib)
except ImportError as e:
    print("SKIP: %s (tests/setup-deps installs python3-oauthlib)" % e)
    sys.exit(77)
import pngmake  # noqa: E402

TOOLS = os.environ.get("SPOOKYD_TOOLS") or os.path.join(
    HERE, "..", "..", "build", "default", "tools")
TOOL = os.path.join(TOOLS, "x_post")
WRAPPER = shlex.split(os.environ.get("SPOOKYD_WRAPPER", ""))
SLOW = 10 if WRAPPER else 1

CREDS = {"consumer_key": "ck-xclient-test", "consumer_secret":
         "cs/secret+1=Zq", "token": "1712345-tokXclient",
         "token_secret": "ts~secret.2"}
SECRET_JSON = {"API_KEY": CREDS["consumer_key"],
               "API_SECRET": CREDS["consumer_secret"],
               "ACCESS_TOKEN": CREDS["token"],
               "ACCESS_TOKEN_SECRET": CREDS["token_secret"],
               "BEARER_TOKEN": "AAAA-bearer-never-used"}
REF = "secretsmanager:spooky/x-test"
SECRETS = [CREDS["consumer_secret"], CREDS["token_secret"],
           SECRET_JSON["BEARER_TOKEN"]]
TEXT = "Happy National Pi\u00f1a Colada Day! \U0001F383"
ALT = 'A "spooky" moon over a pi\u00f1a colada \\ with a bat'


class XClientTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(TOOL, os.X_OK):
            raise unittest.SkipTest("%s not built (make check builds it)"
                                    % TOOL)
        cls.x = x_standin.XStandIn(CREDS).start()
        cls.tmp = tempfile.TemporaryDirectory(prefix="spookyd-x-")
        cls.png = pngmake.make_png(320, 200)
        cls.png_path = cls.write("image.png", cls.png)
        cls.creds_path = cls.write("creds.json",
                                   json.dumps(SECRET_JSON).encode())

    @classmethod
    def tearDownClass(cls):
        cls.x.stop()
        cls.tmp.cleanup()

    @classmethod
    def write(cls, name, data):
        path = os.path.join(cls.tmp.name, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def setUp(self):
        self.x.reset()

    def run_x(self, *args, creds=None, opts=(), code=0):
        """Run x_post; returns (result dict, stderr text)."""
        argv = WRAPPER + [TOOL, "--creds-ref", REF, "--job-id", "job-7"]
        argv += list(opts) + [self.x.url, creds or self.creds_path]
        p = subprocess.run(argv + list(args), capture_output=True,
                           timeout=60 * SLOW)
        out, err = p.stdout.decode(), p.stderr.decode()
        self.assertEqual(p.returncode, code, "stdout %s\nstderr %s"
                         % (out, err))
        for s in SECRETS + ["Authorization", "oauth_signature"]:
            self.assertNotIn(s, out + err)
        lines = out.strip().splitlines()
        self.assertEqual(len(lines), 1, out)
        return json.loads(lines[0]), err

    def post(self, text=TEXT, alt=ALT, **kw):
        return self.run_x("post", self.png_path, "image/png", alt, text,
                          **kw)

    # -- the happy path --

    def test_post_image_pipeline(self):
        r, log = self.post()
        self.assertEqual(r["outcome"], "ok", r)
        self.assertEqual((r["rc"], r["step"], r["http_status"]),
                         (0, "tweet", 201))
        self.assertEqual(r["attempts"], 3)
        tweets = self.x.tweets()
        self.assertEqual(len(tweets), 1)
        t = tweets[0]
        self.assertEqual(t["id"], r["tweet_id"])
        self.assertEqual(t["text"], TEXT)
        self.assertEqual([m["id"] for m in t["media"]], [r["media_id"]])
        m = t["media"][0]
        self.assertEqual(m["sha256"], hashlib.sha256(self.png).hexdigest())
        self.assertEqual(self.x.media_bytes(r["media_id"]), self.png)
        self.assertEqual((m["type"], m["w"], m["h"]), ("image/png", 320, 200))
        self.assertEqual(m["alt_text"], ALT)
        # ids above 2^53 survive as strings
        self.assertGreater(int(r["tweet_id"]), 2 ** 53)
        self.assertEqual(self.x.auth_failures(), [])
        self.check_log_lines(log, r["tweet_id"])

    def check_log_lines(self, log, tweet_id):
        mine = [l for l in log.splitlines() if " x: " in l]
        self.assertEqual(len(mine), 3, log)
        for line, path, status in zip(mine, ("/2/media/upload",
                                             "/2/media/metadata",
                                             "/2/tweets"),
                                      (200, 200, 201)):
            self.assertIn("HTTP_METHOD=POST", line)
            self.assertIn("URL=%s%s " % (self.x.url, path), line)
            self.assertIn("HTTP_STATUS=%d" % status, line)
            self.assertRegex(line, r"DURATION_MS=\d+")
            self.assertIn("JOB_ID=job-7", line)
        self.assertIn("TWEET_ID=%s" % tweet_id, mine[2])
        self.assertNotIn("TWEET_ID", mine[0] + mine[1])

    def test_individual_calls(self):
        r, _ = self.run_x("upload", self.png_path, "image/png")
        self.assertEqual((r["outcome"], r["step"]), ("ok", "upload"))
        mid = r["media_id"]
        self.assertEqual(self.x.media(mid)[0]["alt_text"], None)
        r, _ = self.run_x("metadata", mid, "alt from the tweet step")
        self.assertEqual((r["outcome"], r["media_id"]), ("ok", mid))
        self.assertEqual(self.x.media(mid)[0]["alt_text"],
                         "alt from the tweet step")
        r, _ = self.run_x("tweet", "resumed", mid)
        self.assertEqual(r["outcome"], "ok", r)
        t = self.x.tweets()
        self.assertEqual([(x["text"], [m["id"] for m in x["media"]])
                          for x in t], [("resumed", [mid])])
        self.assertEqual(t[0]["id"], r["tweet_id"])

    def test_no_alt_text_skips_metadata(self):
        r, _ = self.post(alt="")
        self.assertEqual((r["outcome"], r["attempts"]), ("ok", 2))
        paths = [e["path"] for e in self.x.log()]
        self.assertEqual(paths, ["/2/media/upload", "/2/tweets"])

    # -- X's refusals --

    def test_duplicate(self):
        first, _ = self.run_x("tweet", "boo")
        self.assertEqual(first["outcome"], "ok")
        r, log = self.run_x("tweet", "boo")
        self.assertEqual((r["outcome"], r["rc"], r["http_status"]),
                         ("duplicate", -2, 403))
        self.assertIn("duplicate content", r["err"])
        self.assertEqual(r["attempts"], 1)
        self.assertEqual(len(self.x.tweets()), 1)
        r, _ = self.post(text="boo")
        self.assertEqual((r["outcome"], r["step"]), ("duplicate", "tweet"))
        self.assertNotEqual(r["media_id"], "")
        self.assertEqual(len(self.x.tweets()), 1)

    def test_rate_limited(self):
        self.x.script([{"kind": "rate_limit", "path": "/2/tweets",
                        "reset_in_s": 120}])
        r, log = self.post()
        self.assertEqual((r["outcome"], r["rc"], r["step"]),
                         ("rate limited", -1, "tweet"))
        self.assertEqual(r["http_status"], 429)
        # reset - Date (both whole seconds), + 1 s + up to 5 s jitter
        self.assertGreaterEqual(r["wait_ms"], 119000)
        self.assertLessEqual(r["wait_ms"], 127000)
        self.assertEqual(r["attempts"], 3)  # the 429 is not retried
        self.assertNotEqual(r["media_id"], "")
        self.assertEqual(self.x.tweets(), [])
        self.assertIn("rate limited", r["err"])
        # the caller can post later with the media it already has
        r2, _ = self.run_x("tweet", TEXT, r["media_id"])
        self.assertEqual(r2["outcome"], "ok")

    def test_rate_limited_daily(self):
        self.x.script([{"kind": "rate_limit", "path": "/2/tweets",
                        "reset_in_s": 7200, "daily": True}])
        r, _ = self.run_x("tweet", "daily cap")
        self.assertEqual(r["outcome"], "rate limited")
        self.assertGreaterEqual(r["wait_ms"], 7199000)
        self.assertLessEqual(r["wait_ms"], 7207000)

    def test_credits_depleted(self):
        self.x.script([{"kind": "credits", "path": "/2/media/upload"}])
        r, log = self.post()
        self.assertEqual((r["outcome"], r["rc"], r["http_status"]),
                         ("fail", -2, 402))
        self.assertTrue(r["credits_depleted"])
        self.assertFalse(r["auth_failed"])
        self.assertEqual((r["step"], r["attempts"]), ("upload", 1))
        self.assertIn("CreditsDepleted", r["err"])
        self.assertIn(" err: ", log)
        self.assertEqual(self.x.tweets(), [])

    def test_wrong_consumer_secret(self):
        bad = dict(SECRET_JSON, API_SECRET="not-the-secret")
        path = self.write("bad.json", json.dumps(bad).encode())
        r, log = self.run_x("tweet", "never", creds=path)
        self.assertEqual((r["outcome"], r["rc"], r["http_status"]),
                         ("fail", -2, 401))
        self.assertTrue(r["auth_failed"])
        self.assertEqual(r["attempts"], 1)
        self.assertIn(REF, r["err"])
        self.assertIn("Unauthorized", r["err"])
        self.assertNotIn("not-the-secret", r["err"] + log)
        fails = self.x.auth_failures()
        self.assertEqual([f["reason"] for f in fails],
                         ["signature mismatch"])
        self.assertEqual(self.x.tweets(), [])

    def test_bad_request_detail(self):
        r, _ = self.run_x("metadata", "123", "alt")
        self.assertEqual((r["outcome"], r["http_status"]), ("fail", 400))
        self.assertIn("media id 123 not found", r["err"])
        self.assertFalse(r["credits_depleted"] or r["auth_failed"])

    # -- transient trouble --

    def test_503_then_success(self):
        self.x.script([{"kind": "status", "status": 503,
                        "path": "/2/tweets"}])
        r, log = self.run_x("tweet", "after a 503")
        self.assertEqual((r["outcome"], r["attempts"]), ("ok", 2))
        self.assertEqual([t["text"] for t in self.x.tweets()],
                         ["after a 503"])
        self.assertIn("retrying in", log)
        # each attempt signed afresh: two different nonces
        auths = [dict(h)["Authorization"] for h in
                 (e["headers"] for e in self.x.log())]
        nonces = {a.split('oauth_nonce="')[1].split('"')[0] for a in auths}
        self.assertEqual(len(nonces), 2)

    def test_upload_503_retried_in_pipeline(self):
        self.x.script([{"kind": "status", "status": 502,
                        "path": "/2/media/upload", "times": 2}])
        r, _ = self.post()
        self.assertEqual((r["outcome"], r["attempts"]), ("ok", 5))
        self.assertEqual(len(self.x.media()), 1)

    def test_503_gives_up(self):
        self.x.script([{"kind": "status", "status": 503, "times": 10}])
        r, _ = self.run_x("tweet", "never")
        self.assertEqual((r["outcome"], r["rc"], r["http_status"]),
                         ("retry", -1, 503))
        self.assertEqual(r["attempts"], 3)
        self.assertIn("3 attempts", r["err"])

    def test_connection_reset_retried(self):
        self.x.set_faults([{"match": {"path_prefix": "/2/", "times": 1},
                            "action": "reset"}])
        r, _ = self.run_x("tweet", "after a reset")
        self.assertEqual((r["outcome"], r["attempts"]), ("ok", 2))

    def test_timeout_retried(self):
        self.x.set_faults([{"match": {"path_prefix": "/2/", "times": 1},
                            "action": "stall"}])
        r, log = self.run_x("tweet", "after a stall",
                            opts=["--timeout-ms", str(700 * SLOW)])
        self.assertEqual((r["outcome"], r["attempts"]), ("ok", 2), log)
        self.assertIn("timed out", log.lower())

    def test_clock_skew_corrected(self):
        self.x.clock_offset_s = 1000
        r, log = self.run_x("tweet", "skewed clock")
        self.assertEqual((r["outcome"], r["attempts"]), ("ok", 2), r)
        fails = self.x.auth_failures()
        self.assertEqual(len(fails), 1)
        self.assertIn("timestamp", fails[0]["reason"])
        self.assertIn("clock", log)

    # -- refusals before any request, cancellation --

    def test_bad_input_refused_up_front(self):
        gif = self.write("a.gif", b"GIF89a" + b"\0" * 20)
        cases = [
            (("upload", gif, "image/gif"), "media type"),
            (("upload", self.png_path, "image/jpeg"), "not image/jpeg"),
            (("tweet", ""), "empty text"),
            (("tweet", "x", "12a"), "not 1-19 digits"),
            (("tweet", "x", "1", "1"), "repeated"),
            (("tweet", "x", "1", "2", "3", "4", "5"), "5 media ids"),
            (("metadata", "1", "a" * 1001), "1001 characters"),
            (("tweet", "\u6708" * 141), "caption is 282 weighted"),
            (("post", self.png_path, "image/png", "alt", "\u6708" * 141),
             "caption is 282 weighted"),
        ]
        for args, why in cases:
            r, _ = self.run_x(*args)
            self.assertEqual(r["outcome"], "refused", (args, r))
            self.assertIn(why, r["err"])
        self.assertEqual(self.x.log(), [])
        # 1000 two-byte characters are within the limit (X counts
        # characters, not bytes): this one reaches the server
        r, _ = self.run_x("metadata", "1", "\u00e9" * 1000)
        self.assertEqual(r["outcome"], "fail")
        self.assertIn("not found", r["err"])

    def test_cancel_in_flight(self):
        self.x.set_faults([{"match": {"path_prefix": "/2/"},
                            "action": "stall"}])
        argv_opts = ["--cancel-after-ms", str(300 * SLOW)]
        argv = WRAPPER + [TOOL] + argv_opts + [self.x.url, self.creds_path,
                                               "post", self.png_path,
                                               "image/png", ALT, TEXT]
        p = subprocess.run(argv, capture_output=True, timeout=60 * SLOW)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), {"outcome": "cancelled"})

    def test_creds_errors(self):
        cases = [
            ({"API_KEY": "k", "API_SECRET": "s1secret"},
             ["ACCESS_TOKEN missing", "ACCESS_TOKEN_SECRET missing"]),
            (dict(SECRET_JSON, API_KEY=""), ["API_KEY not a non-empty"]),
            (dict(SECRET_JSON, ACCESS_TOKEN=12), ["ACCESS_TOKEN not a"]),
            (dict(SECRET_JSON, API_SECRET=CREDS["consumer_secret"] + "\n"),
             ["API_SECRET has surrounding"]),
        ]
        for obj, wants in cases:
            path = self.write("c.json", json.dumps(obj).encode())
            r, _ = self.run_x("tweet", "x", creds=path, code=3)
            self.assertEqual(r["outcome"], "creds")
            for w in wants:
                self.assertIn(w, r["err"])
            self.assertNotIn("s1secret", r["err"])
        path = self.write("c.json", b"API_KEY=s1secret")
        r, _ = self.run_x("tweet", "x", creds=path, code=3)
        self.assertIn("not valid JSON", r["err"])
        self.assertNotIn("s1secret", r["err"])
        self.assertEqual(self.x.log(), [])


if __name__ == "__main__":
    unittest.main(verbosity=1)
