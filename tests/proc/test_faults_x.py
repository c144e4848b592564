"""Faults of X (the stand-in checks OAuth 1.0a with oauthlib) on the
media upload, the alt text and the post, one job per fault, through
--once over the whole pipeline: every job ends posted exactly once (a
post made but not answered is found again as X's "duplicate"), or failed
with its reason recorded."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from pipeline import (DaemonScenario, Row, Stack, fault_hits,  # noqa
                      proof_mode, scenario)
from spookyd import check, run_tests  # noqa: E402

UPLOAD, META, TWEETS = "/2/media/upload", "/2/media/metadata", "/2/tweets"
PROBLEM_503 = ('{"title": "Service Unavailable", "detail": "Service '
               'Unavailable", "type": "about:blank", "status": 503')


def rule(path, action, times=1, **kw):
    return dict({"match": {"method": "POST", "path_prefix": path,
                           "times": times}, "action": action}, **kw)


def attempts(s, n):
    """extra_check: the item counts n post attempts."""
    def check_attempts(date, results):
        for jid, it in s.items(prefix=date).items():
            check(it["post_attempts"]["N"] == str(n), it)
    return check_attempts


def test_x_faults(tmp):
    with Stack(tmp) as s:
        x = s.x

        def faults(*rules):
            return lambda: x.set_faults(list(rules))

        scenario(s, "x", "post 503 x2 (within the retry budget)",
                 faults(rule(TWEETS, "status", 2, status=503)))
        scenario(s, "x", "upload 503 x6 (past the budget)",
                 faults(rule(UPLOAD, "status", 6, status=503)), runs=2,
                 extra_check=attempts(s, 2))
        # A short rate limit is sat out under the lease; a long one hands
        # the job back, uncounted, for a later run.
        scenario(s, "x", "post 429, x-rate-limit-reset in 2 s",
                 lambda: x.script([{"kind": "rate_limit", "path": TWEETS,
                                    "reset_in_s": 2}]),
                 extra_check=attempts(s, 1))
        scenario(s, "x", "post 429, x-rate-limit-reset in 1 h",
                 lambda: x.script([{"kind": "rate_limit", "path": TWEETS,
                                    "reset_in_s": 3600}]), runs=2,
                 extra_check=attempts(s, 1))
        scenario(s, "x", "upload 429, daily limit reset in 1 h",
                 lambda: x.script([{"kind": "rate_limit", "path": UPLOAD,
                                    "reset_in_s": 3600, "daily": True}]),
                 runs=2, extra_check=attempts(s, 1))
        scenario(s, "x", "upload reset mid-body",
                 faults(rule(UPLOAD, "reset", after_bytes=20, size=300)))
        scenario(s, "x", "upload reset while sending the image",
                 faults(dict(rule(UPLOAD, "reset", after_bytes=10000),
                             during="request")))
        scenario(s, "x", "alt text truncated body",
                 faults(rule(META, "truncate", after_bytes=10, size=200)))
        scenario(s, "x", "post 503 with malformed JSON",
                 faults(rule(TWEETS, "status", status=503, body=PROBLEM_503,
                             content_type="application/problem+json")))
        # Posted, answer lost: the retry is refused as a duplicate, which
        # means posted; one tweet.
        scenario(s, "x", "posted, reply lost (reset)",
                 lambda: x.set_after_faults([rule(TWEETS, "lose")]))
        scenario(s, "x", "post 402 CreditsDepleted (permanent)",
                 lambda: x.script([{"kind": "credits", "path": TWEETS}]),
                 expect="failed", error="out of credits")
        # A 2xx without the id X always sends: the step cannot know what
        # happened, and it is not asked again (x.c); the reason stays.
        scenario(s, "x", "upload 200 with malformed JSON",
                 faults(rule(UPLOAD, "garbage", size=200)),
                 expect="failed", error="without the expected data.id")
        scenario(s, "x", "upload 100 MB answer (Content-Length)",
                 faults(rule(UPLOAD, "huge", size=100 << 20)),
                 expect="failed", error="media upload")
        scenario(s, "x", "post 100 MB answer (chunked)",
                 lambda: x.set_after_faults([rule(TWEETS, "chunked_huge",
                                                  size=100 << 20)]),
                 expect="failed", error="post")
        if proof_mode():
            # Fixed timeouts: 30 s (alt text, post), upload 30 s stalled.
            scenario(s, "x", "post stall past the 30 s timeout",
                     faults(rule(TWEETS, "stall")))
            scenario(s, "x", "upload stalls mid-answer",
                     faults(rule(UPLOAD, "stall", after_bytes=20,
                                 size=300)))


def test_x_faults_in_the_daemon(tmp):
    with Stack(tmp) as s, DaemonScenario(s, "xhuge", days=2) as ds:
        # The first post gets 100 MB back; the second job's post meets a
        # 503 burst; a rate limit of 2 s on the way.
        s.x.set_after_faults([rule(TWEETS, "chunked_huge", size=100 << 20)])
        s.x.set_faults([rule(TWEETS, "status", 2, nth=2, status=503)])
        since = time.monotonic()
        ds.run_today()
        st = ds.wait_final()
        check(fault_hits(s) == 3, (s.x.faults(), s.x.after_faults()))
        ds.check_alive(since)
        hwm = ds.check_memory()
        check(sorted(st.values()) == ["failed", "posted"], st)
        check(len(ds.tweets()) == 1, ds.tweets())
        Row("x", "100 MB chunked answer + 503s in the daemon",
            "failed + posted; peak RSS %d MB" % (hwm // 1024))


if __name__ == "__main__":
    run_tests(globals())
