"""Self-tests of the local AWS side (tests/lib/servers.py and friends).

Drives s3rver, dynalite, the Secrets Manager and IMDS stand-ins through the
SigV4-verifying proxies with botocore clients and hand-signed requests, and
checks that bad signatures, skewed clocks, missing auth and fault rules
are answered the way AWS would.  Exit 0 pass, 77 skip (no node), 1 fail.
"""

import calendar
import email.message
import email.utils
import hashlib
import http.client
import json
import os
import socket
import sys
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import botocore.exceptions  # noqa: E402

import servers  # noqa: E402
import standin  # noqa: E402
from sigv4_verify import KeyStore, Verifier, sign_headers  # noqa: E402

AWS = None
UTF8_KEY = "2026/10/31/Ünïcode spooky day $1 ☠.png"


def setUpModule():
    global AWS
    AWS = servers.AwsServers().__enter__()
    AWS.create_jobs_table()


def tearDownModule():
    if AWS is not None:
        AWS.stop()


def raw(url, method="GET", target="/", headers=None, body=b""):
    """One plain HTTP request; returns (status, headers, body)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def signed(url, service, method="GET", target="/", headers=None, body=b"",
           secret=None, when=None, akid=None, token=None, region=None):
    """A request signed by botocore (optionally wrongly), sent raw."""
    hdrs = sign_headers(method, url + target, headers or {}, body, service,
                        region or AWS.region, akid or AWS.access_key_id,
                        secret or AWS.secret_access_key, token, when)
    return raw(url, method, target, hdrs, body)


def ddb_body(op, payload):
    return ({"X-Amz-Target": "DynamoDB_20120810." + op,
             "Content-Type": "application/x-amz-json-1.0"},
            json.dumps(payload).encode())


def sm_body(secret_id):
    return ({"X-Amz-Target": "secretsmanager.GetSecretValue",
             "Content-Type": "application/x-amz-json-1.1"},
            json.dumps({"SecretId": secret_id}).encode())


def error_code(body):
    """AWS error code from an XML or JSON error body."""
    text = body.decode()
    if text.startswith("<"):
        return text.split("<Code>")[1].split("</Code>")[0]
    return json.loads(text)["__type"].rsplit("#", 1)[-1]


def date_header_epoch(headers):
    value = headers.get("Date")
    return None if value is None else email.utils.parsedate_to_datetime(
        value).timestamp()


class Base(unittest.TestCase):
    def setUp(self):
        for s in (AWS.s3, AWS.dynamodb, AWS.secrets, AWS.imds):
            s.reset()
        AWS.secrets.put_secret("spookyd/openai", string="sk-first")

    def s3_target(self, key):
        return "/%s/%s" % (AWS.bucket, urllib.parse.quote(key, safe="/~"))


class TestHappyPaths(Base):
    def test_s3_put_get_utf8_key(self):
        s3 = AWS.client("s3")
        body = os.urandom(70000)
        s3.put_object(Bucket=AWS.bucket, Key=UTF8_KEY, Body=body,
                      ContentType="image/png")
        got = s3.get_object(Bucket=AWS.bucket, Key=UTF8_KEY)
        self.assertEqual(got["Body"].read(), body)
        self.assertEqual(got["ContentType"], "image/png")
        # s3rver stored the decoded key, not the percent-encoded one.
        listed = AWS.client("s3", backend=True).list_objects_v2(
            Bucket=AWS.bucket, Prefix="2026/10/31/")
        self.assertIn(UTF8_KEY, [o["Key"] for o in listed["Contents"]])
        head = s3.head_object(Bucket=AWS.bucket, Key=UTF8_KEY)
        self.assertEqual(head["ContentLength"], len(body))
        log = AWS.s3.log()
        self.assertEqual([(e["method"], e["status"]) for e in log],
                         [("PUT", 200), ("GET", 200), ("HEAD", 200)])
        self.assertEqual(log[0]["path"], self.s3_target(UTF8_KEY))
        self.assertEqual(log[0]["body_sha256"],
                         hashlib.sha256(body).hexdigest())

    def test_s3_large_object_streams_through_proxy(self):
        body = os.urandom(3 * 1024 * 1024 + 7)
        s3 = AWS.client("s3")
        s3.put_object(Bucket=AWS.bucket, Key="big.bin", Body=body)
        got = s3.get_object(Bucket=AWS.bucket, Key="big.bin")["Body"]
        self.assertEqual(hashlib.sha256(got.read()).hexdigest(),
                         hashlib.sha256(body).hexdigest())

    def test_s3_put_with_expect_100_continue(self):
        # libcurl 7.88 sends "Expect: 100-continue" on every upload PUT.
        body = b"spooky" * 1000
        target = self.s3_target("expect.txt")
        hdrs = sign_headers("PUT", AWS.s3_url + target, {}, body, "s3",
                            AWS.region, AWS.access_key_id,
                            AWS.secret_access_key)
        hdrs.update({"Expect": "100-continue",
                     "Content-Length": str(len(body))})
        head = "PUT %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (
            target, AWS.s3.port)
        head += "".join("%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n"
        with socket.create_connection(("127.0.0.1", AWS.s3.port), 10) as c:
            c.sendall(head.encode())
            f = c.makefile("rb")
            self.assertEqual(f.readline(), b"HTTP/1.1 100 Continue\r\n")
            self.assertEqual(f.readline(), b"\r\n")
            c.sendall(body)
            self.assertTrue(f.readline().startswith(b"HTTP/1.1 200"))
            f.close()
        got = AWS.client("s3").get_object(Bucket=AWS.bucket, Key="expect.txt")
        self.assertEqual(got["Body"].read(), body)

    def test_dynamodb_put_and_query_gsi(self):
        ddb = AWS.client("dynamodb")
        for jid, ts, status in (("a", 100, "pending"), ("b", 200, "posted"),
                                ("c", 300, "pending")):
            ddb.put_item(TableName=servers.JOBS_TABLE,
                         Item={"job_id": {"S": jid},
                               "timestamp": {"N": str(ts)},
                               "status": {"S": status}})
        got = ddb.query(TableName=servers.JOBS_TABLE, IndexName=servers.GSI,
                        KeyConditionExpression="#s = :s AND #t > :t",
                        ExpressionAttributeNames={"#s": "status",
                                                  "#t": "timestamp"},
                        ExpressionAttributeValues={":s": {"S": "pending"},
                                                   ":t": {"N": "50"}})
        self.assertEqual([i["job_id"]["S"] for i in got["Items"]],
                         ["a", "c"])
        table = ddb.describe_table(TableName=servers.JOBS_TABLE)["Table"]
        gsi = table["GlobalSecondaryIndexes"][0]
        self.assertEqual(gsi["IndexName"], servers.GSI)
        self.assertEqual(gsi["Projection"]["ProjectionType"], "ALL")
        self.assertEqual({k["AttributeName"]: k["KeyType"]
                          for k in table["KeySchema"]},
                         {"job_id": "HASH", "timestamp": "RANGE"})

    def test_secret_get_rotate_and_unknown(self):
        sm = AWS.client("secretsmanager")
        first = sm.get_secret_value(SecretId="spookyd/openai")
        self.assertEqual(first["SecretString"], "sk-first")
        vid = AWS.secrets.put_secret("spookyd/openai", string="sk-second")
        second = sm.get_secret_value(SecretId=first["ARN"])
        self.assertEqual((second["SecretString"], second["VersionId"]),
                         ("sk-second", vid))
        self.assertNotEqual(first["VersionId"], vid)
        prev = sm.get_secret_value(SecretId="spookyd/openai",
                                   VersionStage="AWSPREVIOUS")
        self.assertEqual(prev["SecretString"], "sk-first")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            sm.get_secret_value(SecretId="nope")
        self.assertEqual(cm.exception.response["Error"]["Code"],
                         "ResourceNotFoundException")
        self.assertEqual([c["SecretId"] for c in AWS.secrets.calls()],
                         ["spookyd/openai", first["ARN"], "spookyd/openai",
                          "nope"])

    def test_imds_token_flow_and_role_credentials(self):
        url = AWS.imds_url
        st, hdrs, token = raw(url, "PUT", "/latest/api/token", {
            "X-aws-ec2-metadata-token-ttl-seconds": "60"})
        self.assertEqual(st, 200)
        tok = {"X-aws-ec2-metadata-token": token.decode()}
        st, _, role = raw(url, target=servers_cred_path(), headers=tok)
        self.assertEqual((st, role.decode()), (200, AWS.imds.role))
        st, _, doc = raw(url, target=servers_cred_path(role.decode()),
                         headers=tok)
        creds = json.loads(doc)
        self.assertEqual((st, creds["Code"]), (200, "Success"))
        st, _, region = raw(url, target="/latest/meta-data/placement/region",
                            headers=tok)
        self.assertEqual(region.decode(), AWS.region)
        # The served credentials work against the verifying proxies.
        s3 = AWS.client("s3", aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["Token"])
        s3.put_object(Bucket=AWS.bucket, Key="imds.txt", Body=b"hi")
        # Without the session token the same keys are refused.
        st, _, body = signed(AWS.s3_url, "s3", target=self.s3_target(
            "imds.txt"), akid=creds["AccessKeyId"],
            secret=creds["SecretAccessKey"])
        self.assertEqual((st, error_code(body)), (400, "InvalidToken"))
        # Expired set: refused; rotated set: accepted.
        AWS.imds.expire_in(-1)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            s3.get_object(Bucket=AWS.bucket, Key="imds.txt")
        self.assertEqual(cm.exception.response["Error"]["Code"],
                         "ExpiredToken")
        new = AWS.imds.rotate()
        self.assertNotEqual(new["AccessKeyId"], creds["AccessKeyId"])
        st, _, doc = raw(url, target=servers_cred_path(AWS.imds.role),
                         headers=tok)
        self.assertEqual(json.loads(doc)["AccessKeyId"], new["AccessKeyId"])
        AWS.client("s3", aws_access_key_id=new["AccessKeyId"],
                   aws_secret_access_key=new["SecretAccessKey"],
                   aws_session_token=new["Token"]).get_object(
                       Bucket=AWS.bucket, Key="imds.txt")


def servers_cred_path(role=""):
    return "/latest/meta-data/iam/security-credentials/" + role


class TestImdsRefusals(Base):
    def token(self, ttl="60"):
        st, _, tok = raw(AWS.imds_url, "PUT", "/latest/api/token",
                         {"X-aws-ec2-metadata-token-ttl-seconds": ttl})
        self.assertEqual(st, 200)
        return {"X-aws-ec2-metadata-token": tok.decode()}

    def test_imdsv1_and_bad_token_refused(self):
        self.assertEqual(raw(AWS.imds_url, target=servers_cred_path())[0],
                         401)
        self.assertEqual(raw(AWS.imds_url, target=servers_cred_path(),
                             headers={"X-aws-ec2-metadata-token": "x"})[0],
                         401)

    def test_token_ttl_bounds_and_forwarded_for(self):
        for ttl in ("0", "21601", "abc", None):
            hdrs = {} if ttl is None else {
                "X-aws-ec2-metadata-token-ttl-seconds": ttl}
            st = raw(AWS.imds_url, "PUT", "/latest/api/token", hdrs)[0]
            self.assertEqual(st, 400, "ttl %r" % ttl)
        self.token("1")
        self.token("21600")
        st = raw(AWS.imds_url, "PUT", "/latest/api/token", {
            "X-aws-ec2-metadata-token-ttl-seconds": "60",
            "X-Forwarded-For": "10.0.0.1"})[0]
        self.assertEqual(st, 403)
        self.assertEqual(raw(AWS.imds_url, "GET", "/latest/api/token")[0],
                         405)

    def test_token_expires_by_server_clock(self):
        tok = self.token("30")
        self.assertEqual(raw(AWS.imds_url, target=servers_cred_path(),
                             headers=tok)[0], 200)
        AWS.imds.clock_offset_s = 31
        self.assertEqual(raw(AWS.imds_url, target=servers_cred_path(),
                             headers=tok)[0], 401)

    def test_no_role_is_404(self):
        tok = self.token()
        role = AWS.imds.role
        AWS.imds.role = None
        try:
            self.assertEqual(raw(AWS.imds_url, target=servers_cred_path(),
                                 headers=tok)[0], 404)
            self.assertEqual(raw(AWS.imds_url,
                                 target=servers_cred_path(role),
                                 headers=tok)[0], 404)
        finally:
            AWS.imds.role = role


class TestSignatureRefusals(Base):
    def services(self, key="w.txt"):
        """(name, url, method, target, headers, body) of a valid call."""
        h1, b1 = ddb_body("DescribeTable", {"TableName": servers.JOBS_TABLE})
        h2, b2 = sm_body("spookyd/openai")
        return [("s3", AWS.s3_url, "PUT", self.s3_target(key), {},
                 b"data"),
                ("dynamodb", AWS.dynamodb_url, "POST", "/", h1, b1),
                ("secretsmanager", AWS.secrets_url, "POST", "/", h2, b2)]

    def test_good_signature_accepted_by_every_verifier(self):
        for svc, url, method, target, hdrs, body in self.services():
            st, _, out = signed(url, svc, method, target, hdrs, body)
            self.assertEqual(st, 200, "%s: %s" % (svc, out[:300]))

    def test_wrong_secret_rejected_by_every_verifier(self):
        want = {"s3": (403, "SignatureDoesNotMatch"),
                "dynamodb": (400, "InvalidSignatureException"),
                "secretsmanager": (400, "InvalidSignatureException")}
        for svc, url, method, target, hdrs, body in self.services("x.txt"):
            st, rh, out = signed(url, svc, method, target, hdrs, body,
                                 secret="not-the-secret")
            self.assertEqual((st, error_code(out)), want[svc], svc)
            self.assertIsNotNone(rh.get("Date"), svc)
        # The S3 error shows what the server signed, for debugging.
        text = out_of(signed(AWS.s3_url, "s3", "GET", self.s3_target("k"),
                             secret="bad"))
        self.assertIn("<CanonicalRequest>GET\n" + self.s3_target("k"), text)
        self.assertIn("<StringToSign>AWS4-HMAC-SHA256\n", text)
        # The refused PUT never reached s3rver.
        with self.assertRaises(botocore.exceptions.ClientError):
            AWS.client("s3", backend=True).head_object(Bucket=AWS.bucket,
                                                       Key="x.txt")

    def test_unsigned_request_rejected(self):
        want = {"s3": (403, "AccessDenied"),
                "dynamodb": (400, "MissingAuthenticationTokenException"),
                "secretsmanager": (400,
                                   "MissingAuthenticationTokenException")}
        for svc, url, method, target, hdrs, body in self.services():
            st, _, out = raw(url, method, target, hdrs, body)
            self.assertEqual((st, error_code(out)), want[svc], svc)

    def test_skewed_client_gets_skew_error_with_date(self):
        now = time.time()
        for svc, url, method, target, hdrs, body in self.services():
            for skew in (-3600, 3600):
                st, rh, out = signed(url, svc, method, target, hdrs, body,
                                     when=now + skew)
                code = error_code(out)
                if svc == "s3":
                    self.assertEqual((st, code), (403, "RequestTimeTooSkewed"))
                    self.assertIn("<MaxAllowedSkewMilliseconds>900000<",
                                  out.decode())
                else:
                    self.assertEqual((st, code),
                                     (400, "InvalidSignatureException"))
                    msg = json.loads(out)["message"]
                    self.assertTrue(msg.startswith(
                        "Signature expired:" if skew < 0 else
                        "Signature not yet current:"), msg)
                served = date_header_epoch(rh)
                self.assertIsNotNone(served, svc)
                self.assertLess(abs(served - now), 300, svc)
            # Inside the 15 minutes the same request is fine.
            st, _, out = signed(url, svc, method, target, hdrs, body,
                                when=now - 600)
            self.assertEqual(st, 200, "%s: %s" % (svc, out[:200]))

    def test_server_clock_offset_moves_date_and_check(self):
        AWS.dynamodb.clock_offset_s = 1800
        ddb = AWS.client("dynamodb")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            ddb.describe_table(TableName=servers.JOBS_TABLE)
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "InvalidSignatureException")
        self.assertIn("Signature expired", err["Error"]["Message"])
        served = email.utils.parsedate_to_datetime(
            err["ResponseMetadata"]["HTTPHeaders"]["date"]).timestamp()
        self.assertGreater(served - time.time(), 1500)

    def test_s3_payload_hash_must_match_body(self):
        # Signed for one body, sent with another: the signature itself is
        # right (it covers the claimed hash), only the body check fails.
        target = self.s3_target("h")
        hdrs = sign_headers("PUT", AWS.s3_url + target, {}, b"other", "s3",
                            AWS.region, AWS.access_key_id,
                            AWS.secret_access_key)
        self.assertEqual(hdrs["X-Amz-Content-SHA256"],
                         hashlib.sha256(b"other").hexdigest())
        st, _, out = raw(AWS.s3_url, "PUT", target, hdrs, b"body")
        self.assertEqual((st, error_code(out)),
                         (400, "XAmzContentSHA256Mismatch"))

    def test_unsigned_amz_header_and_missing_host(self):
        hdrs = sign_headers("GET", AWS.s3_url + self.s3_target("k"), {},
                            b"", "s3", AWS.region, AWS.access_key_id,
                            AWS.secret_access_key)
        hdrs["x-amz-meta-extra"] = "added after signing"
        st, _, out = raw(AWS.s3_url, "GET", self.s3_target("k"), hdrs)
        self.assertEqual((st, error_code(out)), (403, "AccessDenied"))
        self.assertIn("<HeadersNotSigned>x-amz-meta-extra<", out.decode())
        h, b = ddb_body("ListTables", {})
        hdrs = sign_headers("POST", AWS.dynamodb_url + "/", h, b,
                            "dynamodb", AWS.region, AWS.access_key_id,
                            AWS.secret_access_key)
        hdrs["Authorization"] = hdrs["Authorization"].replace(
            "SignedHeaders=content-type;host;", "SignedHeaders=content-type;")
        st, _, out = raw(AWS.dynamodb_url, "POST", "/", hdrs, b)
        self.assertEqual((st, error_code(out)),
                         (400, "InvalidSignatureException"))

    def test_scope_region_token_and_key_checked(self):
        st, _, out = signed(AWS.s3_url, "s3", "GET", self.s3_target("k"),
                            region="eu-west-1")
        self.assertEqual((st, error_code(out)),
                         (400, "AuthorizationHeaderMalformed"))
        h, b = ddb_body("ListTables", {})
        st, _, out = signed(AWS.dynamodb_url, "dynamodb", "POST", "/", h, b,
                            token="unexpected-session-token")
        self.assertEqual((st, error_code(out)),
                         (400, "UnrecognizedClientException"))
        st, _, out = signed(AWS.s3_url, "s3", "GET", self.s3_target("k"),
                            akid="AKIDUNKNOWN")
        self.assertEqual((st, error_code(out)), (403, "InvalidAccessKeyId"))

    def test_tampered_body_and_path_rejected(self):
        h, b = ddb_body("ListTables", {})
        hdrs = sign_headers("POST", AWS.dynamodb_url + "/", h, b,
                            "dynamodb", AWS.region, AWS.access_key_id,
                            AWS.secret_access_key)
        st, _, out = raw(AWS.dynamodb_url, "POST", "/", hdrs, b + b" ")
        self.assertEqual((st, error_code(out)),
                         (400, "InvalidSignatureException"))
        # S3 signs the path as sent: '$' sent raw but signed as %24 fails.
        key = "a$b.txt"
        hdrs = sign_headers("GET", AWS.s3_url + self.s3_target(key), {},
                            b"", "s3", AWS.region, AWS.access_key_id,
                            AWS.secret_access_key)
        target = "/%s/%s" % (AWS.bucket, key)
        st, _, out = raw(AWS.s3_url, "GET", target, hdrs)
        self.assertEqual((st, error_code(out)),
                         (403, "SignatureDoesNotMatch"))

    def test_verifier_accepts_published_s3_examples(self):
        path = os.path.join(HERE, "data", "s3_sigv4_doc_examples.json")
        with open(path) as f:
            ex = json.load(f)
        keys = KeyStore()
        keys.add(ex["access_key_id"], ex["secret_access_key"])
        t = calendar.timegm(time.strptime(ex["time"], "%Y%m%dT%H%M%SZ"))
        v = Verifier("s3", ex["region"], keys, clock=lambda: t)
        for r in ex["requests"]:
            msg = email.message.Message()
            for n, val in r["headers"]:
                msg[n] = val
            req = standin.Request(r["method"], r["target"], msg,
                                  r["body"].encode(), None)
            self.assertIsNone(v.verify(req), (r["name"], v.last_error))
            # One changed byte of the body or header must fail.
            req.body += b"!"
            self.assertIsNotNone(v.verify(req), r["name"])


class TestStandInBase(unittest.TestCase):
    """The fault actions of the shared base, on a plain echo StandIn."""

    def setUp(self):
        self.s = standin.StandIn().start()
        self.addCleanup(self.s.stop)

    def get(self, rules=None, timeout=10, method="GET", body=None):
        """One request to /p, after replacing the rules if given."""
        if rules is not None:
            self.s.set_faults(rules)
        conn = http.client.HTTPConnection("127.0.0.1", self.s.port,
                                          timeout=timeout)
        try:
            conn.request(method, "/p", body=body)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def test_nth_and_match_select_requests(self):
        self.s.set_faults([{"match": {"method": "GET", "path_prefix": "/p",
                                      "nth": 2, "times": 1},
                            "action": "status", "status": 429,
                            "headers": {"Retry-After": "3"}}])
        got = [self.get() for _ in range(3)]
        self.assertEqual([g[0] for g in got], [200, 429, 200])
        self.assertEqual(dict(got[1][1])["Retry-After"], "3")
        self.assertEqual(self.get([{"match": {"method": "PUT"},
                                    "action": "status"}])[0], 200)
        self.assertEqual(self.get([{"match": {"path_regex": "^/p$"},
                                    "action": "status"}])[0], 503)

    def test_delay_then_normal_answer(self):
        st, _, body = self.get([{"action": "delay", "delay_ms": 50}])
        self.assertEqual((st, json.loads(body)["path"]), (200, "/p"))
        self.assertEqual(self.s.log()[-1]["fault"], "delay")

    def test_garbage_and_huge(self):
        st, _, body = self.get([{"action": "garbage", "size": 333}])
        self.assertEqual((st, len(body)), (200, 333))
        with self.assertRaises(ValueError):
            json.loads(body)
        size = 20 * 1024 * 1024 + 1
        st, hdrs, body = self.get([{"action": "huge", "size": size}])
        self.assertEqual((st, len(body), dict(hdrs)["Content-Length"]),
                         (200, size, str(size)))

    def test_truncate_and_reset(self):
        with self.assertRaises(http.client.IncompleteRead):
            self.get([{"action": "truncate", "after_bytes": 10,
                       "size": 100}])
        with self.assertRaises(ConnectionResetError):
            self.get([{"action": "reset", "after_bytes": 10}])
        with self.assertRaises((ConnectionResetError,
                                http.client.RemoteDisconnected)):
            self.get([{"action": "reset"}])
        with self.assertRaises((ConnectionResetError, BrokenPipeError,
                                http.client.RemoteDisconnected)):
            self.get([{"action": "reset", "during": "request",
                       "after_bytes": 100}], method="PUT",
                     body=b"x" * 4000000)
        self.assertEqual([e["fault"] for e in self.s.log()],
                         ["truncate", "reset", "reset", "reset"])

    def test_stall_never_answers(self):
        # The read timeout is only how long we are willing to look.
        with self.assertRaises(TimeoutError):
            self.get([{"action": "stall"}], timeout=0.3)
        self.assertEqual(self.s.log()[-1]["fault"], "stall")

    def test_bad_rules_refused_clearly(self):
        for bad in ([{"action": "nope"}], [{"match": {"nth": 0},
                                            "action": "status"}],
                    [{"match": {"colour": 1}, "action": "status"}], {}):
            st, _, body = raw(self.s.url, "POST", "/__control/faults",
                              body=json.dumps(bad).encode())
            self.assertEqual(st, 400, bad)
            self.assertIn("error", json.loads(body))
        self.assertEqual(self.s.faults(), [])

    def test_subprocess_secrets_standin(self):
        path = os.path.join(HERE, "..", "lib", "secrets_standin.py")
        with standin.spawn([sys.executable, path, "--key",
                            "AKIDSUB:subsecret", "--secret",
                            "spookyd/x=xsecret"]) as sp:
            st, _, out = signed(sp.url, "secretsmanager", "POST", "/",
                                *sm_body("spookyd/x"), akid="AKIDSUB",
                                secret="subsecret")
            self.assertEqual((st, json.loads(out)["SecretString"]),
                             (200, "xsecret"))
            st, _, out = signed(sp.url, "secretsmanager", "POST", "/",
                                *sm_body("spookyd/x"), akid="AKIDSUB",
                                secret="wrong")
            self.assertEqual(st, 400)
            self.assertEqual([e["status"] for e in sp.control.log()],
                             [200, 400])
        self.assertIsNotNone(sp.proc.returncode)


def out_of(result):
    return result[2].decode()


class TestFaults(Base):
    def test_503_twice_then_pass(self):
        AWS.s3.set_faults([{"match": {"method": "GET", "times": 2},
                            "action": "status", "status": 503,
                            "content_type": "application/xml",
                            "body": "<Error><Code>SlowDown</Code></Error>"}])
        AWS.client("s3").put_object(Bucket=AWS.bucket, Key="f.txt",
                                    Body=b"ok")
        target = self.s3_target("f.txt")
        # Refused requests do not use up the rule.
        self.assertEqual(raw(AWS.s3_url, "GET", target)[0], 403)
        got = [signed(AWS.s3_url, "s3", "GET", target) for _ in range(3)]
        self.assertEqual([g[0] for g in got], [503, 503, 200])
        self.assertEqual(error_code(got[0][2]), "SlowDown")
        self.assertEqual(got[2][2], b"ok")
        self.assertEqual([e["fault"] for e in AWS.s3.log()],
                         [None, None, "status", "status", None])
        self.assertEqual(AWS.s3.faults()[0]["hits"], 2)

    def test_botocore_retries_through_faults(self):
        AWS.secrets.set_faults([{"match": {"times": 2}, "action": "status",
                                 "status": 500, "content_type":
                                 "application/x-amz-json-1.1",
                                 "body": json.dumps({
                                     "__type": "InternalServiceError",
                                     "Message": "boom"})}])
        sm = AWS.client("secretsmanager", max_attempts=3)
        got = sm.get_secret_value(SecretId="spookyd/openai")
        self.assertEqual(got["SecretString"], "sk-first")
        self.assertEqual([e["status"] for e in AWS.secrets.log()],
                         [500, 500, 200])

    def test_control_endpoint_sets_faults_and_reads_log(self):
        ctl = standin.Control(AWS.dynamodb_url)
        ctl.set_faults([{"match": {"header": {"X-Amz-Target": "ListTables"}},
                         "action": "status", "status": 400,
                         "content_type": "application/x-amz-json-1.0",
                         "body": json.dumps({
                             "__type": "com.amazonaws.dynamodb.v20120810#"
                                       "ThrottlingException",
                             "message": "slow down"})}])
        h, b = ddb_body("ListTables", {})
        st, _, out = signed(AWS.dynamodb_url, "dynamodb", "POST", "/", h, b)
        self.assertEqual((st, error_code(out)), (400, "ThrottlingException"))
        h, b = ddb_body("DescribeTable", {"TableName": servers.JOBS_TABLE})
        self.assertEqual(signed(AWS.dynamodb_url, "dynamodb", "POST", "/",
                                h, b)[0], 200)
        self.assertEqual([e["status"] for e in ctl.log()], [400, 200])
        with self.assertRaises(RuntimeError):
            ctl.set_faults([{"action": "explode"}])


if __name__ == "__main__":
    why = servers.missing_node()
    if why:
        print("SKIP: " + why)
        sys.exit(77)
    prog = unittest.main(exit=False, verbosity=1)
    sys.exit(0 if prog.result.wasSuccessful() else 1)
