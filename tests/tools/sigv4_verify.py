#!/usr/bin/python3
"""Second opinion on spookyd's SigV4 signer: re-sign each request of a
JSON-lines file with botocore (SigV4Auth, or S3SigV4Auth for S3) at the
same instant and compare every header spookyd added, plus the canonical
request.  Used by tests/unit/test_sigv4.c.

usage: sigv4_verify.py IN.jsonl OUT.txt
Writes one line per request to OUT: "ok ID" or "mismatch ID field,...".
Exit 0 when every request was checked (mismatches are the caller's to
judge), 77 when botocore is missing, 1 on unusable input.
"""
import datetime
import json
import sys
import types

try:
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError as e:
    print(f"sigv4_verify: botocore not importable ({e}); "
          "apt-get install python3-botocore", file=sys.stderr)
    sys.exit(77)


class FixedClock(datetime.datetime):
    """datetime whose utcnow() is the request's signing time."""
    now = None

    @classmethod
    def utcnow(cls):
        return cls.now


# botocore.auth reads the clock as datetime.datetime.utcnow().
botocore.auth.datetime = types.SimpleNamespace(datetime=FixedClock)


def botocore_sign(r):
    """Sign r as botocore would; return (headers, canonical request)."""
    request = AWSRequest(method=r["method"],
                         url="http://" + r["host"] + r["path"],
                         params=[tuple(p) for p in r["query"]],
                         data=bytes.fromhex(r.get("body_hex", "")))
    for name, value in r["headers"]:
        request.headers[name] = value  # appends: repeats are kept
    if r.get("unsigned_payload"):
        request.context["client_config"] = types.SimpleNamespace(
            s3={"payload_signing_enabled": False})
    creds = Credentials(r["access_key_id"], r["secret_access_key"],
                        r.get("session_token"))
    cls = botocore.auth.S3SigV4Auth if r["s3"] else botocore.auth.SigV4Auth
    signer = cls(creds, r["service"], r["region"])
    # Keep the canonical request add_auth() builds: computed afterwards it
    # would also cover the Authorization header just added.
    seen = []
    build = signer.canonical_request
    signer.canonical_request = lambda req: seen.append(build(req)) or seen[-1]
    FixedClock.now = datetime.datetime.utcfromtimestamp(r["time"])
    signer.add_auth(request)
    return request.headers, seen[0]


def compare(r):
    headers, creq = botocore_sign(r)
    ours = r["ours"]
    bad = []
    if headers.get("Authorization") != ours["Authorization"]:
        bad.append("authorization")
    if headers.get("X-Amz-Date") != ours["X-Amz-Date"]:
        bad.append("x-amz-date")
    if headers.get("X-Amz-Content-SHA256") != ours.get(
            "x-amz-content-sha256"):
        bad.append("x-amz-content-sha256")
    if headers.get("X-Amz-Security-Token") != ours.get(
            "X-Amz-Security-Token"):
        bad.append("x-amz-security-token")
    if creq != ours["canonical_request"]:
        bad.append("canonical_request")
    return bad


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 1
    with open(sys.argv[1], encoding="utf-8") as f, \
            open(sys.argv[2], "w", encoding="utf-8") as out:
        for line in f:
            r = json.loads(line)
            bad = compare(r)
            if bad:
                out.write(f"mismatch {r['id']} {','.join(bad)}\n")
            else:
                out.write(f"ok {r['id']}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
