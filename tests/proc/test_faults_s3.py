"""Faults of S3 (behind the SigV4 verifier), on the generate step's
PutObject and the tweet step's GetObject, one job per fault, through
--once over the whole pipeline: every job ends posted exactly once, or
failed with its reason recorded when the fault is permanent; and every
object in the bucket belongs to an item."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from pipeline import (DaemonScenario, Row, Stack, fault_hits,  # noqa
                      proof_mode, scenario)
from spookyd import check, run_tests  # noqa: E402

PREFIX = "/spooky-images/images/"
XML_500 = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
           "InternalError</Code><Message>We encountered an internal error."
           "</Message>")  # cut short: not well-formed
SLOWDOWN = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
            "SlowDown</Code><Message>Please reduce your request rate."
            "</Message></Error>")
DENIED = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
          "AccessDenied</Code><Message>Access Denied</Message></Error>")


def rule(method, action, times=1, **kw):
    return dict({"match": {"method": method, "path_prefix": PREFIX,
                           "times": times}, "action": action}, **kw)


def retry_gap(s, method, status, at_least):
    """extra_check: the attempt after the first `status` answer came no
    sooner than `at_least` seconds."""
    def check_gap(date, results):
        log = [e for e in s.aws.s3.log() if e["method"] == method and
               date in e["path"]]
        i = next(k for k, e in enumerate(log) if e["status"] == status)
        check(log[i + 1]["time"] - log[i]["time"] >= at_least, log)
    return check_gap


def test_s3_faults(tmp):
    with Stack(tmp) as s:
        s3 = s.aws.s3

        def faults(*rules):
            return lambda: s3.set_faults(list(rules))

        # PutObject (generate step)
        scenario(s, "s3", "PUT 503 x2 (within the retry budget)",
                 faults(rule("PUT", "status", 2, status=503)))
        # Past the budget the job is handed back; the next run makes the
        # image again (it was never stored).
        scenario(s, "s3", "PUT 503 SlowDown x8 (past the budget)",
                 faults(rule("PUT", "status", 8, status=503, body=SLOWDOWN,
                             content_type="application/xml")), runs=2)
        scenario(s, "s3", "PUT 429 with Retry-After: 1",
                 faults(rule("PUT", "status", status=429,
                             headers={"Retry-After": "1"})),
                 extra_check=retry_gap(s, "PUT", 429, 0.9))
        scenario(s, "s3", "PUT reset while sending the body",
                 faults(dict(rule("PUT", "reset", after_bytes=8000),
                             during="request")))
        scenario(s, "s3", "PUT 500 with malformed XML",
                 faults(rule("PUT", "status", status=500, body=XML_500,
                             content_type="application/xml")))
        scenario(s, "s3", "PUT stored, reply lost (reset)",
                 lambda: s3.set_after_faults([rule("PUT", "lose")]))
        scenario(s, "s3", "PUT 403 AccessDenied (permanent)",
                 faults(rule("PUT", "status", 10, status=403, body=DENIED,
                             content_type="application/xml")),
                 expect="failed", error="AccessDenied")
        # GetObject (tweet step)
        scenario(s, "s3", "GET 500 x2 (within the retry budget)",
                 faults(rule("GET", "status", 2, status=500)))
        scenario(s, "s3", "GET 503 x8 (past the budget)",
                 faults(rule("GET", "status", 8, status=503, body=SLOWDOWN,
                             content_type="application/xml")), runs=2)
        scenario(s, "s3", "GET 503 SlowDown, Retry-After: 1",
                 faults(rule("GET", "status", status=503, body=SLOWDOWN,
                             content_type="application/xml",
                             headers={"Retry-After": "1"})),
                 extra_check=retry_gap(s, "GET", 503, 0.9))
        scenario(s, "s3", "GET reset mid-body",
                 faults(rule("GET", "reset", after_bytes=5000, size=40000)))
        scenario(s, "s3", "GET truncated body",
                 faults(rule("GET", "truncate", after_bytes=5000,
                             size=40000)))
        # Bytes that are not the stored image (sha256 recorded by the
        # generate step): a bad read, not a bad object; tried again.
        scenario(s, "s3", "GET 200 with garbage for the image",
                 faults(rule("GET", "garbage", size=30000,
                             content_type="image/png")), runs=2)
        scenario(s, "s3", "GET 100 MB body (Content-Length)",
                 faults(rule("GET", "huge", size=100 << 20,
                             content_type="image/png")), runs=2)
        scenario(s, "s3", "GET 100 MB body (chunked)",
                 lambda: s3.set_after_faults([rule(
                     "GET", "chunked_huge", size=100 << 20,
                     content_type="image/png")]), runs=2)
        if proof_mode():
            # Fixed 60 s timeout per attempt (core/http.c).
            scenario(s, "s3", "PUT stall past the 60 s timeout",
                     faults(rule("PUT", "stall")))
            scenario(s, "s3", "GET stall past the 60 s timeout",
                     faults(rule("GET", "stall", after_bytes=1000,
                                 size=40000)))


def test_s3_huge_body_in_the_daemon(tmp):
    with Stack(tmp) as s, DaemonScenario(s, "s3huge") as ds:
        s.aws.s3.set_after_faults([rule("GET", "chunked_huge",
                                        size=100 << 20,
                                        content_type="image/png")])
        since = time.monotonic()
        ds.run_today()
        ds.wait_final()
        check(fault_hits(s) == 1, s.aws.s3.after_faults())
        ds.check_alive(since)
        hwm = ds.check_memory()
        ds.check_posted_once()
        Row("s3", "GET 100 MB chunked body in the daemon",
            "posted (poller); peak RSS %d MB" % (hwm // 1024))


if __name__ == "__main__":
    run_tests(globals())
