"""Faults of the instance metadata service (IMDSv2), where the AWS
credentials come from when no static keys are set: the token PUT, the
role listing and the role's credentials, one fault per run of --once
over the whole pipeline.  What the retries absorb costs nothing; what
they cannot stops that run before any job is touched, with the reason,
and the next run posts."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from pipeline import (DaemonScenario, Row, Stack, fault_hits,  # noqa
                      scenario)
from spookyd import check, run_tests  # noqa: E402

TOKEN = "/latest/api/token"
CREDS = "/latest/meta-data/iam/security-credentials/"
ROLE = CREDS + "spookyd-role"


def rule(path, action, times=1, method=None, **kw):
    m = {"path_regex": "^%s$" % path, "times": times}
    if method:
        m["method"] = method
    return dict({"match": m, "action": action}, **kw)


def stopped_first(what):
    """extra_check: the first run did not start, saying why."""
    def check_first(date, results):
        first = results[0]
        check(first.rc == 1 and first.out == "", first)
        check(what in first.err, first)
    return check_first


def no_imds_secret_logged(s):
    def check_log(date, results):
        c = s.aws.imds.credentials()
        for r in results:
            check(c["SecretAccessKey"] not in r.err and
                  c["Token"] not in r.err, "IMDS secret in the log")
    return check_log


def test_imds_faults(tmp):
    with Stack(tmp, imds=True) as s:
        imds = s.aws.imds

        def faults(*rules):
            return lambda: imds.set_faults(list(rules))

        scenario(s, "imds", "token PUT 503 x2 (within the budget)",
                 faults(rule(TOKEN, "status", 2, status=503)),
                 extra_check=no_imds_secret_logged(s))
        scenario(s, "imds", "credentials 500 x10 (past the budget)",
                 faults(rule(ROLE, "status", 10, status=500)), runs=2,
                 extra_check=stopped_first("IMDS"))
        # Like botocore's IMDS fetcher, only 5xx and transport errors are
        # tried again: a 429 ends the run, the next one posts.
        scenario(s, "imds", "credentials 429 with Retry-After: 1",
                 faults(rule(ROLE, "status", status=429,
                             headers={"Retry-After": "1"})), runs=2,
                 extra_check=stopped_first("HTTP 429"))
        scenario(s, "imds", "role listing reset mid-body",
                 faults(rule(CREDS, "reset", after_bytes=3, size=40)))
        scenario(s, "imds", "credentials stall past the 2 s timeout",
                 faults(rule(ROLE, "stall")))
        scenario(s, "imds", "token truncated body",
                 faults(rule(TOKEN, "truncate", after_bytes=10, size=60)))
        scenario(s, "imds", "credentials 200 with malformed JSON",
                 faults(rule(ROLE, "garbage", size=300)), runs=2,
                 extra_check=stopped_first("IMDS"))
        scenario(s, "imds", "credentials 100 MB body, once",
                 faults(rule(ROLE, "huge", size=100 << 20)))
        scenario(s, "imds", "no role (404, permanent)",
                 faults(rule(CREDS, "status", 3, status=404)), runs=2,
                 extra_check=stopped_first("IMDS"))


def test_imds_huge_body_on_reload_in_the_daemon(tmp):
    with Stack(tmp, imds=True) as s, DaemonScenario(s, "imdshuge") as ds:
        # A reload builds a new AWS client, which asks IMDS again.
        s.aws.imds.set_after_faults([rule(ROLE, "chunked_huge", 3,
                                          size=100 << 20)])
        since = time.monotonic()
        ds.d.signal(signal.SIGHUP)
        ds.d.wait_stderr("reload refused")
        ds.wait_ready_again()
        check(fault_hits(s) >= 1, s.aws.imds.after_faults())
        ds.check_alive(since)
        hwm = ds.check_memory()
        ds.run_today()
        ds.wait_final()
        ds.check_posted_once()
        Row("imds", "100 MB chunked credentials on reload",
            "reload refused, posted; peak RSS %d MB" % (hwm // 1024))


if __name__ == "__main__":
    run_tests(globals())
