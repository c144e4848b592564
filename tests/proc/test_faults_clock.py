"""A local clock far off the services' (30 min either way), end to end
through --once: the SigV4 verifiers of S3, DynamoDB and Secrets Manager
refuse the first signature as skewed, spookyd reads their Date header,
signs again with the offset and posts; X refuses the OAuth timestamp and
is answered the same way.  One job per direction."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from pipeline import Stack, scenario  # noqa: E402
from spookyd import check, run_tests  # noqa: E402


def skew(s, offset_s):
    def arm():
        for st in (s.aws.s3, s.aws.dynamodb, s.aws.secrets, s.x):
            st.clock_offset_s = offset_s
    return arm


def refused_then_posted(s, offset_s):
    """extra_check: AWS and X refused the skewed clock once each and no
    more; the log says how far off it was."""
    def check_refusals(date, results):
        first = results[0]
        off = abs(offset_s)
        # Within the verifier's slack of the real offset: never 0.
        check("local clock is" in first.err, first)
        said = [int(l.split("local clock is ")[1].split(" s ")[0])
                for l in first.err.splitlines() if "local clock is" in l]
        check(said and all(abs(v - off) <= 5 for v in said), said)
        word = "behind" if offset_s > 0 else "ahead of"
        check(("s %s AWS time" % word) in first.err, first)
        # One AWS context signs for all three services: the first
        # refusals (the two secrets, asked at once) teach it the offset,
        # and S3 and DynamoDB are never refused.
        check(len(said) == 1, said)
        refused = {name: [e for e in st.log() if e["status"] in (400, 403)]
                   for name, st in (("secrets", s.aws.secrets),
                                    ("dynamodb", s.aws.dynamodb),
                                    ("s3", s.aws.s3))}
        check(1 <= len(refused["secrets"]) <= 2, refused)
        check(refused["dynamodb"] == [] and refused["s3"] == [], refused)
        x_refused = [f for f in s.x.auth_failures()
                     if "timestamp" in f["reason"]]
        check(len(x_refused) == 1, s.x.auth_failures())
        for st in (s.aws.s3, s.aws.dynamodb, s.aws.secrets, s.x):
            st.reset_log()
    return check_refusals


def test_clock_skew_recovers_via_date(tmp):
    with Stack(tmp) as s:
        for st in (s.aws.s3, s.aws.dynamodb, s.aws.secrets, s.x):
            # reset() would also forget tweets and items: clear logs only
            st.reset_log = _log_clearer(st)
        for offset in (1800, -1800):
            scenario(s, "clock", "local clock %+d s off every service"
                     % -offset, skew(s, offset), fired=refusals,
                     extra_check=refused_then_posted(s, offset))


def refusals(s):
    """Requests refused by a verifier (4xx) or by X's OAuth check."""
    return sum(1 for st in (s.aws.s3, s.aws.dynamodb, s.aws.secrets)
               for e in st.log() if e["status"] in (400, 403)) + \
        len(s.x.auth_failures())


def _log_clearer(st):
    def clear():
        with st._lock:
            st._log = []
        if hasattr(st, "_fails"):
            with st._xlock:
                st._fails = []
    return clear


if __name__ == "__main__":
    run_tests(globals())
