"""Faults of Secrets Manager, where both API secrets come from at start
(and on every reload): a fault the retries absorb costs nothing; one
they cannot absorb stops that run before any job is touched, says which
secret and why, and the next run posts.  In the daemon, a reload that
meets the fault is refused and the running generation keeps posting."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from pipeline import (DaemonScenario, Row, Stack, fault_hits,  # noqa
                      proof_mode, scenario)
from spookyd import check, run_tests  # noqa: E402

THROTTLED = '{"__type": "ThrottlingException", "Message": "Rate exceeded"}'
CT = "application/x-amz-json-1.1"


def rule(action, times=1, **kw):
    return dict({"match": {"method": "POST", "path_prefix": "/",
                           "times": times,
                           "header": {"X-Amz-Target": "GetSecretValue"}},
                 "action": action}, **kw)


def stopped_first(secret_error):
    """extra_check: the first run refused to start, naming a secret and
    the error, and touched no job."""
    def check_first(date, results):
        first = results[0]
        check(first.rc == 1 and first.out == "", first)
        check("secretsmanager:spookyd/" in first.err and
              secret_error in first.err, first)
    return check_first


def test_secrets_faults(tmp):
    with Stack(tmp) as s:
        sm = s.aws.secrets

        def faults(*rules):
            return lambda: sm.set_faults(list(rules))

        scenario(s, "secrets", "500 x2 (within the retry budget)",
                 faults(rule("status", 2, status=500)))
        scenario(s, "secrets", "503 x20 (past the budget)",
                 faults(rule("status", 20, status=503)), runs=2,
                 extra_check=stopped_first("HTTP 503"))
        scenario(s, "secrets", "400 ThrottlingException x2",
                 faults(rule("status", 2, status=400, body=THROTTLED,
                             content_type=CT)))
        scenario(s, "secrets", "429 with Retry-After: 1",
                 faults(rule("status", status=429,
                             headers={"Retry-After": "1"})))
        scenario(s, "secrets", "reset mid-body",
                 faults(rule("reset", after_bytes=30, size=500)))
        scenario(s, "secrets", "truncated body",
                 faults(rule("truncate", after_bytes=30, size=500)))
        scenario(s, "secrets", "malformed JSON in a 500",
                 faults(rule("status", status=500, body='{"__type": ',
                             content_type=CT)))
        scenario(s, "secrets", "malformed JSON in a 200",
                 faults(rule("garbage", content_type=CT)), runs=2,
                 extra_check=stopped_first("GetSecretValue"))
        scenario(s, "secrets", "100 MB body (Content-Length)",
                 faults(rule("huge", size=100 << 20)), runs=2,
                 extra_check=stopped_first("larger than"))
        scenario(s, "secrets", "secret deleted (permanent)",
                 lambda: sm.set_faults([rule(
                     "status", 2, status=400, content_type=CT,
                     body='{"__type": "ResourceNotFoundException", '
                          '"Message": "Secrets Manager can\'t find the '
                          'specified secret."}')]),
                 runs=2, extra_check=stopped_first(
                     "ResourceNotFoundException"))
        if proof_mode():
            scenario(s, "secrets", "stall past the 60 s timeout",
                     faults(rule("stall")))


def test_secrets_huge_body_on_reload_in_the_daemon(tmp):
    with Stack(tmp) as s, DaemonScenario(s, "smhuge") as ds:
        s.aws.secrets.set_after_faults([rule("chunked_huge",
                                             size=100 << 20)])
        since = time.monotonic()
        ds.d.signal(signal.SIGHUP)
        ds.d.wait_stderr("reload refused")
        ds.wait_ready_again()
        check(fault_hits(s) == 1, s.aws.secrets.after_faults())
        ds.check_alive(since)
        hwm = ds.check_memory()
        ds.run_today()
        ds.wait_final()
        ds.check_posted_once()
        Row("secrets", "100 MB chunked body on reload, daemon",
            "reload refused, posted; peak RSS %d MB" % (hwm // 1024))


if __name__ == "__main__":
    run_tests(globals())
