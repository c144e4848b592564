"""Faults of DynamoDB (dynalite behind the SigV4 verifier) on every
request the pipeline makes of the job table (the claim's PutItem, the
UpdateItems that record uploaded, claim for posting and record posted),
one job per fault, through --once: every job ends posted exactly once,
also when a write was applied and only its answer was lost."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from pipeline import (DaemonScenario, Row, Stack, fault_hits,  # noqa
                      proof_mode, scenario)
from spookyd import check, run_tests  # noqa: E402

THROTTLED = ('{"__type": "com.amazonaws.dynamodb.v20120810#'
             'ThrottlingException", "message": "Rate of requests exceeds '
             'the allowed throughput."}')
ERR_500 = '{"__type": "com.amazonaws.dynamodb.v20120810#InternalServer'


def op(name, action, times=1, nth=1, **kw):
    """A rule on the nth.. DynamoDB request whose target is name (a
    regex: PutItem, UpdateItem, "" for any)."""
    return dict({"match": {"method": "POST", "nth": nth, "times": times,
                           "header": {"X-Amz-Target":
                                      "DynamoDB_20120810." + name}},
                 "action": action}, **kw)


def ai_calls(s, n):
    """extra_check: the job's image was made n times in all."""
    def check_calls(date, results):
        calls = s.openai_calls(date)
        check(len(calls) == n, "%d billed OpenAI calls, want %d: %r"
              % (len(calls), n, calls))
    return check_calls


def test_dynamodb_faults(tmp):
    with Stack(tmp) as s:
        ddb = s.aws.dynamodb

        def faults(*rules):
            return lambda: ddb.set_faults(list(rules))

        def lost(*rules):
            return lambda: ddb.set_after_faults(list(rules))

        scenario(s, "dynamodb", "500 x3 on every request (within budget)",
                 faults(op("", "status", 3, status=500)))
        scenario(s, "dynamodb", "500 x12 on every request (past budget)",
                 faults(op("", "status", 12, status=500)), runs=2)
        scenario(s, "dynamodb", "400 ThrottlingException x3",
                 faults(op("UpdateItem", "status", 3, status=400,
                           body=THROTTLED,
                           content_type="application/x-amz-json-1.0")))
        scenario(s, "dynamodb", "429 with Retry-After: 1",
                 faults(op("PutItem", "status", status=429,
                           headers={"Retry-After": "1"})))
        scenario(s, "dynamodb", "reset mid-body (UpdateItem)",
                 faults(op("UpdateItem", "reset", times=2, after_bytes=10,
                           size=400)))
        scenario(s, "dynamodb", "truncated body (PutItem)",
                 faults(op("PutItem", "truncate", after_bytes=2, size=100)))
        scenario(s, "dynamodb", "malformed JSON in a 500",
                 faults(op("UpdateItem", "status", 2, status=500,
                           body=ERR_500,
                           content_type="application/x-amz-json-1.0")))
        # A 200 that cannot be read: the write may or may not have been
        # made, so the job is left for the next run, which takes over
        # the lease of the run that is gone (and makes the image again).
        scenario(s, "dynamodb", "malformed JSON in a 200 (record uploaded)",
                 faults(op("UpdateItem", "garbage", size=300)), runs=2,
                 extra_check=ai_calls(s, 2))
        scenario(s, "dynamodb", "100 MB body (claim)",
                 faults(op("PutItem", "huge", size=100 << 20)), runs=2,
                 extra_check=ai_calls(s, 1))
        # Applied, answer lost: the retry meets its own write.
        scenario(s, "dynamodb", "claim applied, reply lost",
                 lost(op("PutItem", "lose")), runs=2,
                 extra_check=ai_calls(s, 1))
        scenario(s, "dynamodb", "record uploaded applied, reply lost",
                 lost(op("UpdateItem", "lose")), runs=2,
                 extra_check=ai_calls(s, 1))
        scenario(s, "dynamodb", "claim for posting applied, reply lost",
                 lost(op("UpdateItem", "lose", nth=2)), runs=2,
                 extra_check=ai_calls(s, 1))
        scenario(s, "dynamodb", "record posted applied, reply lost",
                 lost(op("UpdateItem", "lose", nth=3)),
                 extra_check=ai_calls(s, 1))
        if proof_mode():
            scenario(s, "dynamodb", "stall past the 60 s timeout",
                     faults(op("UpdateItem", "stall")))


def test_dynamodb_huge_body_in_the_daemon(tmp):
    with Stack(tmp) as s, DaemonScenario(s, "ddbhuge") as ds:
        s.aws.dynamodb.set_after_faults([op("PutItem", "chunked_huge",
                                            size=100 << 20)])
        since = time.monotonic()
        ds.run_today()
        # The claim failed before anything was written: nothing to find
        # for the poller, so the operator's next run (here SIGUSR1 again)
        # makes the job.
        ds.d.wait_stderr("generate run over")
        check(fault_hits(s) == 1, s.aws.dynamodb.after_faults())
        ds.check_alive(since)
        hwm = ds.check_memory()
        ds.run_today()
        ds.wait_final()
        ds.check_posted_once()
        Row("dynamodb", "100 MB chunked body in the daemon",
            "posted (next run); peak RSS %d MB" % (hwm // 1024))


if __name__ == "__main__":
    run_tests(globals())
