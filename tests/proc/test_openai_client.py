"""The OpenAI client (src/openai/openai.c) against the OpenAI stand-in.

Each test starts tests/lib/openai_standin.py in this process, runs
$SPOOKYD_TOOLS/openai_gen (one openai_generate() on a real uv loop; under
$SPOOKYD_WRAPPER, e.g. valgrind, when set) and checks the result it prints,
the image it writes, its log lines, and what the stand-in saw and billed.
Nothing asserts on elapsed time except that a server-requested wait was
not cut short.
"""

import hashlib
import os
import shlex
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import openai_standin  # noqa: E402
import pngmake  # noqa: E402

TOOLS = os.environ.get("SPOOKYD_TOOLS") or os.path.join(
    HERE, "..", "..", "build", "default", "tools")
TOOL = os.path.join(TOOLS, "openai_gen")
WRAPPER = shlex.split(os.environ.get("SPOOKYD_WRAPPER", ""))
SLOW = 10.0 if WRAPPER else 1.0
KEY = "sk-proj-" + "Zq9x7W3k" * 5
KEY_REF = "env:OPENAI_API_KEY"
MODEL = "gpt-image-2-2026-04-21"
ERR_RETRY, ERR_FAIL = -1, -2
MiB = 1 << 20


class RecordingStandIn(openai_standin.OpenAIStandIn):
    """The stand-in, also keeping every picture it sent (per prompt)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.made = {}

    def _image(self, wh, image_bytes, prompt):
        png = super()._image(wh, image_bytes, prompt)
        self.made.setdefault(prompt, []).append(png)
        return png


def parse(stdout):
    out = {}
    for line in stdout.splitlines():
        k, _, v = line.partition("=")
        out[k] = v
    for k in ("rc", "attempts", "http_status", "refused", "quota_exhausted",
              "retry_after_ms", "ticks", "width", "height", "image_len",
              "input_tokens", "output_tokens", "total_tokens"):
        if k in out:
            out[k] = int(out[k])
    return out


class Client(unittest.TestCase):
    standin_args = {}

    def setUp(self):
        if not os.access(TOOL, os.X_OK):
            self.fail("%s is not built (make check builds it)" % TOOL)
        self.ai = RecordingStandIn(api_key=KEY, **self.standin_args).start()
        self.tmp = tempfile.TemporaryDirectory()
        self.out = os.path.join(self.tmp.name, "image")

    def tearDown(self):
        self.ai.stop()
        self.tmp.cleanup()

    def gen(self, prompt="A spooky illustration for National Pumpkin Day",
            key=KEY, level="info", **opts):
        args = {"base_url": self.ai.url + "/v1", "model": MODEL,
                "key_ref": KEY_REF, "prompt": prompt}
        args.update(opts)
        env = dict(os.environ, OPENAI_API_KEY=key, SPOOKYD_LOG_LEVEL=level)
        for k in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
            env.pop(k, None)
        argv = WRAPPER + [TOOL, self.out] + [
            "%s=%s" % kv for kv in args.items() if kv[1] is not None]
        p = subprocess.run(argv, capture_output=True, text=True, env=env,
                           timeout=60 * SLOW)
        self.stderr = p.stderr
        if p.returncode != 0:
            self.fail("openai_gen exited %d:\n%s" % (p.returncode, p.stderr))
        res = parse(p.stdout)
        # never the key in output or logs, whatever happened
        self.assertNotIn(KEY, p.stdout + p.stderr)
        self.assertNotIn(KEY[-8:], p.stdout + p.stderr)
        return res

    def image(self):
        with open(self.out, "rb") as f:
            return f.read()

    def wait_calls(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout * SLOW
        while len(self.ai.calls()) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.ai.calls()

    def attempt_lines(self):
        return [ln for ln in self.stderr.splitlines() if "ATTEMPT=" in ln]


class Generation(Client):
    def test_good_png_is_the_standins(self):
        prompt = "A spooky illustration for National Candy Corn Day"
        res = self.gen(prompt, size="1024x1536", quality="high",
                       job_id="job-1")
        self.assertEqual(res["rc"], 0, res.get("error"))
        self.assertEqual((res["attempts"], res["http_status"]), (1, 200))
        self.assertEqual((res["content_type"], res["extension"]),
                         ("image/png", "png"))
        self.assertEqual((res["width"], res["height"]), (1024, 1536))
        data = self.image()
        self.assertEqual(data, self.ai.made[prompt][-1])
        self.assertEqual(res["image_len"], len(data))
        info = pngmake.png_info(data)  # full check: CRCs, IDAT size
        self.assertEqual((info["width"], info["height"]), (1024, 1536))
        self.assertIn(b"prompt-sha256=" + hashlib.sha256(
            prompt.encode()).hexdigest().encode(), data)
        self.assertGreater(res["output_tokens"], 0)
        self.assertEqual(res["total_tokens"],
                         res["input_tokens"] + res["output_tokens"])
        calls = self.ai.calls()
        self.assertEqual(len(calls), 1)
        self.assertEqual((calls[0]["model"], calls[0]["size"],
                          calls[0]["billed"]), (MODEL, "1024x1536", True))
        self.assertEqual(res["request_id"], calls[0]["request_id"])
        hdrs = {n.lower(): v for n, v in self.ai.log()[0]["headers"]}
        self.assertEqual(hdrs["authorization"], "Bearer " + KEY)
        self.assertEqual(hdrs["content-type"], "application/json")
        # one info line for the attempt, with its fields; no prompt
        lines = self.attempt_lines()
        self.assertEqual(len(lines), 1, self.stderr)
        for field in ("HTTP_STATUS=200", "ATTEMPT=1", "DURATION_MS=",
                      "REQUEST_ID=" + calls[0]["request_id"],
                      "JOB_ID=job-1"):
            self.assertIn(field, lines[0])
        self.assertNotIn("Candy Corn", self.stderr)

    def test_prompt_only_at_debug(self):
        res = self.gen("A spooky illustration for National Moth Day",
                       level="debug")
        self.assertEqual(res["rc"], 0, res.get("error"))
        self.assertIn("National Moth Day", self.stderr)

    def test_options_reach_the_api(self):
        res = self.gen(size="1536x1024", quality="low")
        self.assertEqual(res["rc"], 0, res.get("error"))
        self.assertEqual((res["width"], res["height"]), (1536, 1024))
        # valid for the API, refused by this stand-in (PNG only): the
        # request carried the format and the compression
        res = self.gen(format="webp", compression="80")
        self.assertEqual(res["rc"], ERR_FAIL)
        self.assertIn("output_format=webp", res["error"])
        self.assertEqual(len(self.ai.calls()), 2)

    def test_bad_options_send_nothing(self):
        res = self.gen(compression="50")  # with png
        self.assertIn("not_started", res)
        self.assertIn("output_compression", self.stderr)
        res = self.gen(key="sk-bad key")
        self.assertIn("not_started", res)
        self.assertEqual(self.ai.calls(), [])


class Failures(Client):
    def test_wrong_key(self):
        res = self.gen(key="sk-proj-wrongkey1234567890")
        self.assertEqual(res["rc"], ERR_FAIL)
        self.assertEqual(res["http_status"], 401)
        self.assertEqual(res["error"],
                         "OpenAI rejected the API key (%s)" % KEY_REF)
        self.assertEqual(res["attempts"], 1)
        self.assertEqual(len(self.ai.calls()), 1)
        self.assertNotIn("567890", self.stderr)

    def test_retired_model(self):
        res = self.gen(model="gpt-image-1")
        self.assertEqual((res["rc"], res["http_status"], res["attempts"]),
                         (ERR_FAIL, 404, 1))
        self.assertIn("model_not_found", res["error"])
        self.assertIn("gpt-image-1", res["error"])
        self.assertEqual(len(self.ai.calls()), 1)

    def test_moderation_input_and_output(self):
        self.ai.configure(moderation=["gore", {"match": "blood",
                                               "stage": "output"}])
        for prompt in ("A spooky gore feast", "A spooky blood moon"):
            before = len(self.ai.calls())
            res = self.gen(prompt)
            self.assertEqual(res["rc"], ERR_FAIL)
            self.assertEqual(res["refused"], 1)
            self.assertTrue(res["error"].startswith(
                "moderation_blocked: Your request was rejected by the "
                "safety system"), res["error"])
            self.assertIn("safety_violations=[violence]", res["error"])
            self.assertEqual(res["attempts"], 1)
            self.assertEqual(len(self.ai.calls()) - before, 1)
            self.assertFalse(os.path.exists(self.out))

    def test_quota_is_not_retried(self):
        self.ai.script([{"kind": "quota", "times": 5}])
        res = self.gen()
        self.assertEqual((res["rc"], res["http_status"], res["attempts"]),
                         (ERR_FAIL, 429, 1))
        self.assertEqual(res["quota_exhausted"], 1)
        self.assertIn("insufficient_quota", res["error"])
        self.assertEqual(len(self.ai.calls()), 1)

    def test_bad_request_is_not_retried(self):
        res = self.gen(size="1000x1000")  # not a multiple of 16
        self.assertEqual((res["rc"], res["http_status"], res["attempts"]),
                         (ERR_FAIL, 400, 1))
        self.assertIn("invalid_value", res["error"])


class Retries(Client):
    def test_rate_limit_then_success(self):
        wait_ms = 400
        self.ai.script([{"kind": "rate_limit", "retry_after_ms": wait_ms}])
        res = self.gen()
        self.assertEqual(res["rc"], 0, res.get("error"))
        self.assertEqual(res["attempts"], 2)
        calls = self.ai.calls()
        self.assertEqual([c["status"] for c in calls], [429, 200])
        self.assertEqual([c["billed"] for c in calls], [False, True])
        # the server's wait was honoured, not cut short
        self.assertGreaterEqual(calls[1]["time"] - calls[0]["time"],
                                wait_ms / 1000.0)
        lines = self.attempt_lines()
        self.assertEqual(len(lines), 2, self.stderr)
        self.assertIn("HTTP_STATUS=429", lines[0])
        self.assertIn("ATTEMPT=1", lines[0])
        self.assertIn("retrying in", lines[0])
        self.assertIn("ATTEMPT=2", lines[1])
        self.assertEqual(self.image(), self.ai.made[calls[1]["prompt"]][-1])

    def test_rate_limit_gives_up_with_hint(self):
        self.ai.script([{"kind": "rate_limit", "retry_after_ms": 150,
                         "times": 3}])
        res = self.gen()
        self.assertEqual((res["rc"], res["http_status"], res["attempts"]),
                         (ERR_RETRY, 429, 3))
        self.assertEqual(res["retry_after_ms"], 150)
        self.assertIn("rate_limit_exceeded", res["error"])
        self.assertIn("gave up after 3 attempts", res["error"])
        self.assertEqual(len(self.ai.calls()), 3)

    def test_server_error_then_success(self):
        self.ai.script([{"kind": "server_error"}])
        res = self.gen()
        self.assertEqual(res["rc"], 0, res.get("error"))
        self.assertEqual(res["attempts"], 2)
        self.assertEqual([c["status"] for c in self.ai.calls()], [500, 200])

    def test_overloaded_three_times(self):
        self.ai.script([{"kind": "overloaded", "times": 3}])
        res = self.gen()
        self.assertEqual((res["rc"], res["http_status"], res["attempts"]),
                         (ERR_RETRY, 503, 3))
        self.assertEqual(len(self.ai.calls()), 3)

    def test_x_should_retry(self):
        body = '{"error":{"message":"m","type":"server_error"}}'
        self.ai.set_faults([{"match": {"path_prefix": "/v1/", "times": 1},
                             "action": "status", "status": 500,
                             "headers": {"x-should-retry": "false"},
                             "content_type": "application/json",
                             "body": body}])
        res = self.gen()
        self.assertEqual((res["rc"], res["http_status"], res["attempts"]),
                         (ERR_RETRY, 500, 1))
        self.ai.set_faults([{"match": {"path_prefix": "/v1/", "times": 1},
                             "action": "status", "status": 400,
                             "headers": {"x-should-retry": "true"},
                             "content_type": "application/json",
                             "body": body}])
        res = self.gen()
        self.assertEqual((res["rc"], res["attempts"]), (0, 2))

    def test_connection_reset_then_success(self):
        self.ai.set_faults([{"match": {"path_prefix": "/v1/", "times": 1},
                             "action": "reset"}])
        res = self.gen()
        self.assertEqual(res["rc"], 0, res.get("error"))
        self.assertEqual(res["attempts"], 2)
        self.assertEqual(len(self.ai.calls()), 1)  # the reset one never ran

    def test_whole_timeout_is_tried_twice_only(self):
        # Both attempts run into the timeout; the stand-in still finishes
        # and bills each picture, which is why there is no third.
        self.ai.configure(latency_ms=1500)
        res = self.gen(timeout_ms="300")
        self.assertEqual(res["rc"], ERR_RETRY)
        self.assertEqual((res["attempts"], res["http_status"]), (2, 0))
        self.assertIn("twice", res["error"])
        self.assertIn("billed", res["error"])
        calls = self.wait_calls(2)
        self.assertEqual(len(calls), 2)
        self.assertTrue(all(c["billed"] for c in calls))


class Limits(Client):
    def test_image_over_5mb_is_refused(self):
        self.ai.configure(image_bytes=5 * MiB + 200_000)
        res = self.gen()
        self.assertEqual((res["rc"], res["attempts"]), (ERR_FAIL, 1))
        self.assertIn("over X's limit", res["error"])
        self.assertIn("output_format=jpeg or webp", res["error"])
        self.assertFalse(os.path.exists(self.out))

    def test_answer_over_the_cap_is_refused(self):
        self.ai.configure(image_bytes=6 * MiB + 500_000)  # base64 > 8 MiB
        res = self.gen()
        self.assertEqual((res["rc"], res["attempts"]), (ERR_FAIL, 1))
        self.assertIn("too large", res["error"])
        self.assertIn("output_format=jpeg or webp", res["error"])

    def test_image_just_under_5mb(self):
        self.ai.configure(image_bytes=5 * MiB - 1000)
        res = self.gen()
        self.assertEqual(res["rc"], 0, res.get("error"))
        self.assertEqual(res["image_len"], 5 * MiB - 1000)
        self.assertEqual(self.image(),
                         self.ai.made[self.ai.calls()[0]["prompt"]][-1])

    def test_garbage_200_is_not_an_image(self):
        self.ai.set_faults([{"match": {"path_prefix": "/v1/"},
                             "action": "garbage", "size": 4096}])
        res = self.gen()
        self.assertEqual((res["rc"], res["attempts"]), (ERR_FAIL, 1))
        self.assertIn("not JSON", res["error"])


class Loop(Client):
    def test_loop_turns_while_waiting(self):
        # A 10 ms timer keeps firing while the answer is pending: a
        # blocking client would let it fire at most once.
        self.ai.configure(latency_ms=500)
        res = self.gen()
        self.assertEqual(res["rc"], 0, res.get("error"))
        self.assertGreaterEqual(res["ticks"], 5)

    def test_cancel(self):
        self.ai.configure(latency_ms=2000)
        res = self.gen(cancel_after_ms="200")
        self.assertEqual(res.get("cancelled"), "1")
        self.assertNotIn("rc", res)

    def test_engine_shutdown(self):
        self.ai.configure(latency_ms=2000)
        res = self.gen(close_after_ms="200")
        self.assertEqual((res["rc"], res["attempts"]), (ERR_RETRY, 1))
        self.assertIn("shut down", res["error"])


class Organization(Client):
    standin_args = {"organization": "org-spooky1"}

    def test_organization_header(self):
        res = self.gen(organization="org-spooky1", project="proj_42")
        self.assertEqual(res["rc"], 0, res.get("error"))
        hdrs = {n.lower(): v for n, v in self.ai.log()[0]["headers"]}
        self.assertEqual(hdrs["openai-organization"], "org-spooky1")
        self.assertEqual(hdrs["openai-project"], "proj_42")
        res = self.gen()
        self.assertEqual((res["rc"], res["http_status"]), (ERR_FAIL, 401))
        self.assertIn("organization id", res["error"])


if __name__ == "__main__":
    prog = unittest.main(exit=False, verbosity=1)
    sys.exit(0 if prog.result.wasSuccessful() else 1)
