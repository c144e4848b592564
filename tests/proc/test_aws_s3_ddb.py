"""aws/s3.c and aws/ddb.c against real local servers (tests/lib/servers.py).

s3rver and dynalite sit behind SigV4-verifying proxies; the tests drive the
C clients through the s3ddb tool (tests/tools/s3ddb.c, one JSON request
per line) and check what the proxies saw and what the backends stored,
with botocore as the independent reader.  Exit 0 pass, 77 skip (no node
or no tool), 1 fail.  Under VALGRIND=1 the tool runs inside valgrind.
"""

import base64
import hashlib
import json
import os
import queue
import shlex
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import pngmake  # noqa: E402
import servers  # noqa: E402

TOP = os.environ.get("SPOOKYD_TOP") or os.path.join(HERE, "..", "..")
TOOLS = os.environ.get("SPOOKYD_TOOLS") or os.path.join(
    TOP, "build", "default", "tools")
TOOL = os.path.join(TOOLS, "s3ddb")
WRAPPER = shlex.split(os.environ.get("SPOOKYD_WRAPPER", ""))
SLOW = 10.0 if WRAPPER else 1.0

PINA_KEY = "images/2026-07-10_0_Pi\u00f1aColada.png"
KMS_KEY = ("arn:aws:kms:us-east-1:111122223333:key/"
           "1234abcd-12ab-34cd-56ef-1234567890ab")
CACHE = "public, max-age=31536000, immutable"
BIG_N = "1880028106020515840"
TABLE = servers.JOBS_TABLE
GSI = servers.GSI
ERR_RETRY, ERR_FAIL, CONDITION_FAILED = -1, -2, 1

AWS = None
DRIVER = None


class Driver:
    """One s3ddb process; call() sends a request and returns its result."""

    def __init__(self, env):
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            WRAPPER + [TOOL], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.stderr, env=env, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def call(self, **req):
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.lines.get(timeout=60 * SLOW)
        if line is None:
            raise AssertionError("s3ddb died:\n" + self.errors())
        return json.loads(line)

    def errors(self):
        self.stderr.seek(0)
        return self.stderr.read()

    def close(self):
        """Stop the tool; its exit status (leaks, sanitizers) must be 0."""
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=60 * SLOW)
        self.proc.stdout.close()
        out = self.errors()
        self.stderr.close()
        if rc != 0:
            raise AssertionError("s3ddb exit %d:\n%s" % (rc, out))


def tool_env(**override):
    env = dict(os.environ, **AWS.env())
    env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/credentials"
    env["AWS_CONFIG_FILE"] = "/nonexistent/config"
    env.pop("AWS_PROFILE", None)
    env.update(override)
    return env


def setUpModule():
    global AWS, DRIVER
    AWS = servers.AwsServers(secrets=False, imds=False).__enter__()
    AWS.create_jobs_table()
    DRIVER = Driver(tool_env())


def tearDownModule():
    try:
        if DRIVER is not None:
            DRIVER.close()
    finally:
        if AWS is not None:
            AWS.stop()


def headers_of(entry):
    return {n.lower(): v for n, v in entry["headers"]}


def signed_names(entry):
    auth = headers_of(entry)["authorization"]
    return auth.split("SignedHeaders=")[1].split(",")[0].split(";")


def s3_path(key):
    return "/%s/%s" % (AWS.bucket, urllib.parse.quote(key, safe="/~"))


def av(**kw):
    """A DynamoDB map from keyword arguments: str -> S, int -> N."""
    return {k: {"N": str(v)} if isinstance(v, int) else {"S": v}
            for k, v in kw.items()}


class Base(unittest.TestCase):
    def setUp(self):
        AWS.s3.reset()
        AWS.dynamodb.reset()

    def ok(self, res, attempts=1):
        self.assertNotIn("start_error", res, res)
        self.assertEqual((res["rc"], res["err"]), (0, ""), res)
        self.assertEqual(res["attempts"], attempts, res)
        return res


class TestS3(Base):
    def put_file(self, key, body, **kw):
        with tempfile.NamedTemporaryFile() as f:
            f.write(body)
            f.flush()
            return DRIVER.call(op="s3_put", bucket=AWS.bucket, key=key,
                               body_file=f.name, **kw)

    def test_put_get_utf8_key_with_sse_kms(self):
        body = pngmake.make_png(64, 48)
        digest = hashlib.sha256(body)
        res = self.ok(self.put_file(PINA_KEY, body, content_type="image/png",
                                    cache_control=CACHE, kms_key_id=KMS_KEY))
        self.assertEqual(res["status"], 200)
        self.assertTrue(res["etag"].startswith('"'), res)
        put = AWS.s3.log()[-1]
        h = headers_of(put)
        self.assertEqual((put["method"], put["path"], put["status"]),
                         ("PUT", s3_path(PINA_KEY), 200))
        self.assertEqual(put["body_sha256"], digest.hexdigest())
        self.assertEqual(h["content-length"], str(len(body)))
        self.assertNotIn("transfer-encoding", h)
        self.assertEqual(h["x-amz-content-sha256"], digest.hexdigest())
        self.assertEqual(h["x-amz-checksum-sha256"],
                         base64.b64encode(digest.digest()).decode())
        self.assertEqual(h["x-amz-server-side-encryption"], "aws:kms")
        self.assertEqual(h["x-amz-server-side-encryption-aws-kms-key-id"],
                         KMS_KEY)
        self.assertEqual(
            h["x-amz-server-side-encryption-bucket-key-enabled"], "true")
        for name in ("content-type", "cache-control", "x-amz-checksum-sha256",
                     "x-amz-server-side-encryption",
                     "x-amz-server-side-encryption-aws-kms-key-id",
                     "x-amz-server-side-encryption-bucket-key-enabled"):
            self.assertIn(name, signed_names(put))

        got = self.ok(DRIVER.call(op="s3_get", bucket=AWS.bucket,
                                  key=PINA_KEY))
        self.assertEqual((got["body_len"], got["body_sha256"]),
                         (len(body), digest.hexdigest()))
        self.assertEqual(got["content_type"], "image/png")
        self.assertEqual(got["cache_control"], CACHE)
        self.assertEqual(got["etag"], res["etag"])
        # The backend holds the decoded key and the same bytes.
        back = AWS.client("s3", backend=True).get_object(Bucket=AWS.bucket,
                                                         Key=PINA_KEY)
        self.assertEqual(back["Body"].read(), body)
        self.assertEqual(back["CacheControl"], CACHE)

    def test_awkward_keys(self):
        keys = ["images/don't cry over spilled milk.png", "a&b+c=d.txt",
                "sp ace/\u00dcn\u00ef \u2620.txt", "x+y/1+1=2 (copy)~"]
        for key in keys:
            body = ("body of " + key).encode()
            self.ok(self.put_file(key, body, content_type="text/plain"))
            got = self.ok(DRIVER.call(op="s3_get", bucket=AWS.bucket,
                                      key=key))
            self.assertEqual(got["body_sha256"],
                             hashlib.sha256(body).hexdigest(), key)
        listed = AWS.client("s3", backend=True).list_objects_v2(
            Bucket=AWS.bucket)
        stored = {o["Key"] for o in listed["Contents"]}
        self.assertTrue(set(keys) <= stored, stored)
        self.assertEqual([e["path"] for e in AWS.s3.log()[::2]],
                         [s3_path(k) for k in keys])

    def test_get_size_cap(self):
        body = os.urandom(10000)
        self.ok(self.put_file("cap.bin", body,
                              content_type="application/octet-stream"))
        got = DRIVER.call(op="s3_get", bucket=AWS.bucket, key="cap.bin",
                          max_bytes=1000)
        self.assertEqual(got["rc"], ERR_FAIL, got)
        self.assertEqual(got["err"],
                         "object is larger than the 1000-byte limit")
        got = self.ok(DRIVER.call(op="s3_get", bucket=AWS.bucket,
                                  key="cap.bin", max_bytes=10000))
        self.assertEqual(got["body_len"], 10000)

    def test_get_missing_key(self):
        got = DRIVER.call(op="s3_get", bucket=AWS.bucket, key="nope/none")
        self.assertEqual((got["rc"], got["status"], got["code"]),
                         (ERR_FAIL, 404, "NoSuchKey"), got)
        self.assertEqual(got["attempts"], 1)

    def test_write_once_reports_exists(self):
        # s3rver ignores If-None-Match, so the proxy answers as S3 does
        # when the key exists; only requests carrying the header match.
        AWS.s3.set_faults([{
            "match": {"method": "PUT", "header": {"If-None-Match": r"^\*$"}},
            "action": "status", "status": 412,
            "content_type": "application/xml",
            "body": "<Error><Code>PreconditionFailed</Code><Message>At "
                    "least one of the pre-conditions you specified did not "
                    "hold</Message><Condition>If-None-Match</Condition>"
                    "<RequestId>RID412</RequestId></Error>"}])
        res = self.put_file("once.png", b"first", content_type="image/png",
                            write_once=True)
        self.assertEqual((res["rc"], res["status"], res["code"]),
                         (CONDITION_FAILED, 412, "PreconditionFailed"), res)
        self.assertEqual(res["attempts"], 1)
        entry = AWS.s3.log()[-1]
        self.assertEqual(headers_of(entry)["if-none-match"], "*")
        self.assertIn("if-none-match", signed_names(entry))
        self.ok(self.put_file("once.png", b"plain", content_type="image/png"))
        self.assertNotIn("if-none-match", headers_of(AWS.s3.log()[-1]))

    def test_slowdown_is_retried_with_the_same_body(self):
        AWS.s3.set_faults([{
            "match": {"method": "PUT", "times": 1}, "action": "status",
            "status": 503, "content_type": "application/xml",
            "body": "<Error><Code>SlowDown</Code><Message>Please reduce your "
                    "request rate.</Message></Error>"}])
        body = os.urandom(5000)
        self.ok(self.put_file("slow.bin", body, content_type="image/png"),
                attempts=2)
        log = AWS.s3.log()
        self.assertEqual([e["status"] for e in log], [503, 200])
        self.assertEqual({e["body_sha256"] for e in log},
                         {hashlib.sha256(body).hexdigest()})
        # Each attempt is signed afresh and passed the verifier.
        self.assertEqual([e["fault"] for e in log], ["status", None])

    def test_get_checks_the_stored_checksum(self):
        good = base64.b64encode(hashlib.sha256(b"spooky").digest()).decode()
        bad = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
        for value, rc in ((good, 0), (bad, ERR_RETRY)):
            AWS.s3.reset()
            AWS.s3.set_faults([{
                "match": {"method": "GET"}, "action": "status",
                "status": 200, "content_type": "image/png", "body": "spooky",
                "headers": {"x-amz-checksum-sha256": value}}])
            got = DRIVER.call(op="s3_get", bucket=AWS.bucket, key="c.png")
            self.assertEqual(got["rc"], rc, got)
            entry = AWS.s3.log()[-1]
            self.assertEqual(headers_of(entry)["x-amz-checksum-mode"],
                             "ENABLED")
            self.assertIn("x-amz-checksum-mode", signed_names(entry))
        self.assertEqual(got["err"], "body of 6 bytes does not match the "
                                     "x-amz-checksum-sha256 S3 sent")

    def test_cancel_then_carry_on(self):
        res = self.put_file("cancelled.txt", b"never mind",
                            content_type="text/plain", cancel=True)
        self.assertEqual(res, {"cancelled": True})
        res = DRIVER.call(op="s3_get", bucket=AWS.bucket, key="x",
                          cancel=True)
        self.assertEqual(res, {"cancelled": True})
        self.ok(self.put_file("after.txt", b"fine", content_type="text/plain"))

    def test_refused_before_sending(self):
        cases = [({"key": ""}, "S3 key is empty"),
                 ({"key": "bad\nkey"},
                  "S3 key has a control character (byte 3)"),
                 ({"key": "k", "content_type": None},
                  "content type missing"),
                 ({"key": "k", "cache_control": "a\r\nX-Evil: 1"},
                  "cache control: not printable ASCII (byte 1)")]
        for over, want in cases:
            req = {"op": "s3_put", "bucket": AWS.bucket, "body": "x",
                   "content_type": "text/plain"}
            req.update(over)
            req = {k: v for k, v in req.items() if v is not None}
            self.assertEqual(DRIVER.call(**req), {"start_error": want})
        self.assertEqual(AWS.s3.log(), [])


class TestDynamoDB(Base):
    def put(self, item, **kw):
        return DRIVER.call(op="put_item", table=TABLE, item=item, **kw)

    def get(self, key):
        return self.ok(DRIVER.call(op="get_item", table=TABLE, key=key,
                                   consistent=True))["item"]

    def test_conditional_put_twice(self):
        item = av(job_id="2026-07-10#0", timestamp=1783670400,
                  status="pending", national_day="Pi\u00f1a Colada")
        item["media_id"] = {"N": BIG_N}
        item["posted"] = {"BOOL": False}
        item["meta"] = {"M": {"sizes": {"L": [{"N": "1024"},
                                              {"S": "\u2620"}]},
                              "none": {"NULL": True}}}
        cond = dict(condition="attribute_not_exists(#j)",
                    names={"#j": "job_id"})
        self.ok(self.put(item, **cond))
        again = self.put(item, return_old_on_fail=True, **cond)
        self.assertEqual((again["rc"], again["code"]),
                         (CONDITION_FAILED,
                          "ConditionalCheckFailedException"), again)
        self.assertEqual(again["attempts"], 1)
        got = self.get(av(job_id="2026-07-10#0", timestamp=1783670400))
        self.assertEqual(got, item)
        raw = AWS.client("dynamodb").get_item(
            TableName=TABLE, Key=av(job_id="2026-07-10#0",
                                    timestamp=1783670400))
        self.assertEqual(raw["Item"]["media_id"], {"N": BIG_N})
        targets = [headers_of(e)["x-amz-target"] for e in AWS.dynamodb.log()]
        self.assertEqual(targets, ["DynamoDB_20120810.PutItem"] * 2 +
                         ["DynamoDB_20120810.GetItem"] * 2)

    def test_condition_failure_carries_the_existing_item(self):
        # dynalite ignores ReturnValuesOnConditionCheckFailure; the proxy
        # answers as DynamoDB does when it is honoured.
        old = av(job_id="old", timestamp=7, status="posted")
        AWS.dynamodb.set_faults([{
            "match": {"header": {"X-Amz-Target": r"\.PutItem$"}},
            "action": "status", "status": 400,
            "content_type": "application/x-amz-json-1.0",
            "body": json.dumps({
                "__type": "com.amazonaws.dynamodb.v20120810#"
                          "ConditionalCheckFailedException",
                "message": "The conditional request failed", "Item": old})}])
        res = self.put(av(job_id="old", timestamp=7, status="new"),
                       condition="attribute_not_exists(#j)",
                       names={"#j": "job_id"}, return_old_on_fail=True)
        self.assertEqual((res["rc"], res["item"]), (CONDITION_FAILED, old))

    def test_garbled_reply_is_transient(self):
        AWS.dynamodb.set_faults([{
            "match": {"header": {"X-Amz-Target": r"\.GetItem$"},
                      "times": 1},
            "action": "garbage", "status": 200, "size": 300,
            "content_type": "application/x-amz-json-1.0"}, {
            "match": {"header": {"X-Amz-Target": r"\.GetItem$"}},
            "action": "status", "status": 200,
            "content_type": "application/x-amz-json-1.0",
            "body": json.dumps({"Item": {"job_id": {"Q": "x"}}})}])
        key = av(job_id="g", timestamp=1)
        res = DRIVER.call(op="get_item", table=TABLE, key=key)
        self.assertEqual(res["rc"], ERR_RETRY, res)
        self.assertTrue(res["err"].startswith("reply is not JSON"), res)
        res = DRIVER.call(op="get_item", table=TABLE, key=key)
        self.assertEqual((res["rc"], res["item"]), (ERR_RETRY, None), res)
        self.assertEqual(res["err"], "Item.job_id: not an AttributeValue "
                         "(one key of S, N, B, BOOL, NULL, M, L, SS, NS, BS)")

    def test_update_with_condition_true_then_false(self):
        key = av(job_id="2026-07-11#0", timestamp=1783756800)
        self.ok(self.put(dict(key, status={"S": "pending"})))
        req = dict(op="update_item", table=TABLE, key=key,
                   update="SET #s = :new, #u = :now",
                   condition="#s = :old",
                   names={"#s": "status", "#u": "updated_at"},
                   values={":new": {"S": "posted"}, ":old": {"S": "pending"},
                           ":now": {"N": "1783760000"}},
                   return_values="ALL_NEW")
        res = self.ok(DRIVER.call(**req))
        self.assertEqual(res["item"]["status"], {"S": "posted"})
        self.assertEqual(res["item"]["updated_at"], {"N": "1783760000"})
        res = DRIVER.call(**req)
        self.assertEqual((res["rc"], res["code"], res["item"]),
                         (CONDITION_FAILED,
                          "ConditionalCheckFailedException", None), res)
        self.assertEqual(self.get(key)["status"], {"S": "posted"})

    def test_get_missing_item(self):
        self.assertIsNone(self.get(av(job_id="none", timestamp=1)))

    def fill_gsi(self, status, count):
        stamps = [1783670400 + 86400 * i for i in range(count)]
        for i, t in enumerate(reversed(stamps)):
            self.ok(self.put(av(job_id="%s-%d" % (status, i), timestamp=t,
                                status=status)))
        AWS.dynamodb.reset()
        return stamps

    def query(self, status, op="query_all", **kw):
        return DRIVER.call(op=op, table=TABLE, index=GSI,
                           key_condition="#s = :s",
                           names={"#s": "status"},
                           values={":s": {"S": status}}, **kw)

    def test_query_gsi_across_pages(self):
        stamps = self.fill_gsi("waiting", 5)
        res = self.ok(self.query("waiting", limit=2))
        self.assertEqual([int(i["timestamp"]["N"]) for i in res["items"]],
                         stamps)
        self.assertEqual((res["pages"], res["last_key"]), (3, None))
        self.assertEqual(len(AWS.dynamodb.log()), 3)
        res = self.ok(self.query("waiting", limit=2, backward=True))
        self.assertEqual([int(i["timestamp"]["N"]) for i in res["items"]],
                         stamps[::-1])

    def test_query_one_page_then_resume(self):
        stamps = self.fill_gsi("paged", 5)
        first = self.ok(self.query("paged", op="query", limit=2))
        self.assertEqual(len(first["items"]), 2)
        lek = first["last_key"]
        self.assertEqual(set(lek), {"job_id", "timestamp", "status"})
        second = self.ok(self.query("paged", op="query", limit=2,
                                    start_key=lek))
        got = [int(i["timestamp"]["N"])
               for i in first["items"] + second["items"]]
        self.assertEqual(got, stamps[:4])
        capped = self.ok(self.query("paged", limit=2, max_items=3))
        self.assertEqual((len(capped["items"]), capped["pages"]), (4, 2))
        self.assertIsNotNone(capped["last_key"])

    def test_query_empty_page_still_continues(self):
        stamps = self.fill_gsi("sparse", 5)
        first = dict(av(job_id="sparse-4", timestamp=stamps[0],
                        status="sparse"))
        AWS.dynamodb.set_faults([{
            "match": {"header": {"X-Amz-Target": r"\.Query$"}, "times": 1},
            "action": "status", "status": 200,
            "content_type": "application/x-amz-json-1.0",
            "body": json.dumps({"Items": [], "Count": 0, "ScannedCount": 0,
                                "LastEvaluatedKey": first})}])
        res = self.ok(self.query("sparse", limit=2))
        self.assertEqual([int(i["timestamp"]["N"]) for i in res["items"]],
                         stamps[1:])
        # The empty page, two full ones, and the empty one a page that
        # stopped exactly at Limit leads to.
        self.assertEqual(res["pages"], 4)

    def test_query_that_would_loop_stops(self):
        lek = av(job_id="loop", timestamp=1, status="loop")
        AWS.dynamodb.set_faults([{
            "match": {"header": {"X-Amz-Target": r"\.Query$"}},
            "action": "status", "status": 200,
            "content_type": "application/x-amz-json-1.0",
            "body": json.dumps({"Items": [], "Count": 0, "ScannedCount": 0,
                                "LastEvaluatedKey": lek})}])
        res = self.query("loop", limit=2)
        self.assertEqual((res["rc"], res["err"]),
                         (ERR_FAIL, "Query: page 2 returned the key it "
                                    "started from"), res)
        self.assertEqual(len(AWS.dynamodb.log()), 2)

    def test_cancel_then_carry_on(self):
        res = self.query("whatever", cancel=True)
        self.assertEqual(res, {"cancelled": True})
        self.ok(self.query("whatever"))

    def test_query_range_condition(self):
        stamps = self.fill_gsi("ranged", 5)
        res = self.ok(DRIVER.call(
            op="query_all", table=TABLE, index=GSI, limit=2,
            key_condition="#s = :s AND #t > :t",
            names={"#s": "status", "#t": "timestamp"},
            values={":s": {"S": "ranged"}, ":t": {"N": str(stamps[1])}}))
        self.assertEqual([int(i["timestamp"]["N"]) for i in res["items"]],
                         stamps[2:])

    def test_throttling_then_success(self):
        AWS.dynamodb.set_faults([{
            "match": {"header": {"X-Amz-Target": r"\.PutItem$"}, "times": 2},
            "action": "status", "status": 400,
            "content_type": "application/x-amz-json-1.0",
            "body": json.dumps({
                "__type": "com.amazonaws.dynamodb.v20120810#"
                          "ProvisionedThroughputExceededException",
                "message": "The level of configured provisioned throughput "
                           "for the table was exceeded."})}])
        self.ok(self.put(av(job_id="throttled", timestamp=5)), attempts=3)
        self.assertEqual([e["status"] for e in AWS.dynamodb.log()],
                         [400, 400, 200])

    def test_validation_error_not_retried(self):
        res = DRIVER.call(op="update_item", table=TABLE,
                          key=av(job_id="v", timestamp=1),
                          update="SET #t = :t", names={"#t": "timestamp"},
                          values={":t": {"N": "2"}})
        self.assertEqual((res["rc"], res["status"], res["code"]),
                         (ERR_FAIL, 400, "ValidationException"), res)
        self.assertEqual(res["attempts"], 1)
        self.assertEqual(len(AWS.dynamodb.log()), 1)

    def test_refused_before_sending(self):
        cases = [
            (dict(op="update_item", table=TABLE, key=av(job_id="x",
                  timestamp=1), update="SET status = :s",
                  values={":s": {"S": "y"}}),
             "UpdateItem: UpdateExpression: bare attribute name 'status': "
             "use a #placeholder"),
            (dict(op="put_item", table="no", item=av(job_id="x")),
             "PutItem: table name is not 3-255 of A-Z a-z 0-9 _ . -"),
            (dict(op="put_item", table=TABLE,
                  item={"job_id": {"S": "x"}, "n": {"N": "12abc"}}),
             "PutItem: Item.n: N value is not a DynamoDB number"),
            (dict(op="put_item", table=TABLE, item=av(job_id="x"),
                  condition="attribute_not_exists(#j)",
                  names={"#j": "job_id", "#k": "unused"}),
             "PutItem: ExpressionAttributeNames: #k is not used by any "
             "expression"),
        ]
        for req, want in cases:
            self.assertEqual(DRIVER.call(**req), {"start_error": want})
        self.assertEqual(AWS.dynamodb.log(), [])


class TestWrongSecret(Base):
    def test_wrong_secret_fails_without_retry(self):
        bad = Driver(tool_env(AWS_SECRET_ACCESS_KEY="not/the/secret"))
        try:
            res = bad.call(op="s3_put", bucket=AWS.bucket, key="w.txt",
                           body="x", content_type="text/plain")
            self.assertEqual((res["rc"], res["status"], res["code"]),
                             (ERR_FAIL, 403, "SignatureDoesNotMatch"), res)
            res = bad.call(op="get_item", table=TABLE,
                           key=av(job_id="x", timestamp=1))
            self.assertEqual((res["rc"], res["status"], res["code"]),
                             (ERR_FAIL, 400, "InvalidSignatureException"),
                             res)
            self.assertEqual(res["attempts"], 1)
        finally:
            bad.close()
        self.assertEqual(len(AWS.s3.log()), 1)
        self.assertEqual(len(AWS.dynamodb.log()), 1)


if __name__ == "__main__":
    why = servers.missing_node()
    if why is None and not os.access(TOOL, os.X_OK):
        why = "%s not built" % TOOL
    if why:
        print("SKIP: " + why)
        sys.exit(77)
    prog = unittest.main(exit=False, verbosity=1)
    sys.exit(0 if prog.result.wasSuccessful() else 1)
