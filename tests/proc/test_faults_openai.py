"""Faults of OpenAI's Images API, one job per fault, through --once over
the whole pipeline: every job ends posted exactly once (retried within
the run, or by a second run), or failed with its reason recorded when
asking again cannot help."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import pipeline  # noqa: E402
from pipeline import (DaemonScenario, Row, Stack, fault_hits,  # noqa
                      scenario)
from spookyd import check, run_tests  # noqa: E402

PATH = {"method": "POST", "path_prefix": "/v1/images/generations"}
ERROR_JSON = '{"error": {"message": "The server had an error", ' \
             '"type": "server_error", "param": null, "code": null}}'


def rule(action, times=1, **kw):
    return dict({"match": dict(PATH, times=times), "action": action}, **kw)


def billed(s, n):
    """extra_check: n images were made (and billed) for the job."""
    def check_billed(date, results):
        check(len(s.openai_calls(date)) == n, s.openai_calls(date))
    return check_billed


def test_openai_faults(tmp):
    with Stack(tmp, openai_timeout="2s") as s:
        ai = s.ai

        def faults(*rules):
            return lambda: ai.set_faults(list(rules))

        scenario(s, "openai", "503 x2 (within the retry budget)",
                 faults(rule("status", 2, status=503, body=ERROR_JSON,
                             content_type="application/json")),
                 extra_check=billed(s, 1))
        scenario(s, "openai", "500 x10 (past the retry budget)",
                 faults(rule("status", 10, status=500, body=ERROR_JSON,
                             content_type="application/json")), runs=2)

        def waited(date, results):
            # The retry came no sooner than the 429 asked.
            log = [e for e in ai.log()
                   if e["path"].startswith("/v1/images")]
            i = next(k for k, e in enumerate(log) if e["status"] == 429)
            check(log[i + 1]["time"] - log[i]["time"] >= 1.4, log)

        scenario(s, "openai", "429 rate_limit_exceeded, retry-after 1.5 s",
                 lambda: ai.script([{"kind": "rate_limit",
                                     "retry_after_ms": 1500}]),
                 extra_check=waited)
        scenario(s, "openai", "429 insufficient_quota",
                 lambda: ai.script([{"kind": "quota"}]),
                 expect="failed", error="insufficient_quota")
        scenario(s, "openai", "connection reset mid-body",
                 faults(rule("reset", after_bytes=3000, size=80000)))
        scenario(s, "openai", "stall past the 2 s timeout, once",
                 faults(rule("stall")))
        scenario(s, "openai", "stall past the 2 s timeout, twice",
                 faults(rule("stall", 2)), runs=2)
        # Made and billed, answer lost: asked again (one more image).
        scenario(s, "openai", "image made, reply lost (reset)",
                 lambda: ai.set_after_faults([rule("lose")]),
                 extra_check=billed(s, 2))
        scenario(s, "openai", "truncated body",
                 faults(rule("truncate", after_bytes=1000, size=60000)))
        scenario(s, "openai", "malformed JSON in a 500",
                 faults(rule("status", status=500, body="{\"error\": [",
                             content_type="application/json")))
        # A 200 is billed: it is not asked again (openai.c), the job
        # fails with the reason, and --retry can requeue it.
        scenario(s, "openai", "malformed JSON in a 200",
                 faults(rule("garbage", size=4096)),
                 expect="failed", error="OpenAI's answer")
        scenario(s, "openai", "100 MB body (Content-Length)",
                 faults(rule("huge", size=100 << 20)),
                 expect="failed", error="too large")
        scenario(s, "openai", "100 MB body (chunked)",
                 lambda: ai.set_after_faults([rule("chunked_huge",
                                                   size=100 << 20)]),
                 expect="failed", error="too large")


def test_openai_faults_in_the_daemon(tmp):
    # A stall, then a 100 MB answer streamed without Content-Length: the
    # daemon stays READY, feeds the watchdog throughout, its peak RSS
    # stays far below the body, and the jobs end posted and failed.
    with Stack(tmp, openai_timeout="2s") as s, \
            DaemonScenario(s, "aistall", days=2) as ds:
        s.ai.set_faults([rule("stall", 2)])
        since = time.monotonic()
        ds.run_today()
        ds.wait_final()
        check(fault_hits(s) == 2, s.ai.faults())
        ds.check_alive(since)
        ds.check_posted_once()
        Row("openai", "stall x2 in the daemon (2 jobs)", "posted")
    with Stack(tmp, openai_timeout="2s") as s, \
            DaemonScenario(s, "aihuge") as ds:
        s.ai.set_after_faults([rule("chunked_huge", size=100 << 20)])
        since = time.monotonic()
        ds.run_today()
        st = ds.wait_final()
        check(fault_hits(s) == 1, s.ai.after_faults())
        ds.check_alive(since)
        hwm = ds.check_memory()
        check(list(st.values()) == ["failed"], st)
        check(ds.tweets() == [], ds.tweets())
        Row("openai", "100 MB chunked body in the daemon",
            "failed; peak RSS %d MB" % (hwm // 1024))


if __name__ == "__main__":
    run_tests(globals())
