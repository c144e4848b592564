"""aws_call() and secrets_get() end to end (tests/tools/awsdrive).

Runs the driver against the local AWS side of tests/lib/servers.py: the
SigV4-verifying proxies in front of s3rver and dynalite, the Secrets
Manager and IMDSv2 stand-ins.  Covers the credential chain (environment,
shared file, systemd credential, IMDS with rotation and expiry), region
from IMDS, clock-skew recovery, throttling, 5xx, stalls, x-amz-crc32,
conditional failures and what reaches the log.  S3/DynamoDB cases skip
without node.  Exit 0 pass, 77 skip, 1 fail.
"""

import json
import os
import re
import queue
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import servers  # noqa: E402

TOP = os.environ.get("SPOOKYD_TOP") or os.path.dirname(os.path.dirname(HERE))
TOOLS = os.environ.get("SPOOKYD_TOOLS") or os.path.join(
    TOP, "build", "default", "tools")
DRIVE = os.path.join(TOOLS, "awsdrive")
WRAPPER = shlex.split(os.environ.get("SPOOKYD_WRAPPER", ""))
SLOW = 10.0 if WRAPPER else 1.0
ERR_RETRY, ERR_FAIL, CONDITION_FAILED = -1, -2, 1
NODE = servers.missing_node() is None
AWS = None
JSON11 = "application/x-amz-json-1.1"
JSON10 = "application/x-amz-json-1.0"


def setUpModule():
    global AWS
    AWS = servers.AwsServers(s3=NODE, dynamodb=NODE).__enter__()
    if NODE:
        AWS.create_jobs_table()


def tearDownModule():
    if AWS is not None:
        AWS.stop()


def needs_node(f):
    return unittest.skipUnless(NODE, "node/s3rver/dynalite missing")(f)


class Drive:
    """One awsdrive process: call it with a command, get its answer."""

    def __init__(self, env):
        self.proc = subprocess.Popen(
            WRAPPER + [DRIVE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, text=True)
        self.answers = queue.Queue()
        self.errlines = []
        self.threads = [threading.Thread(target=self._out, daemon=True),
                        threading.Thread(target=self._err, daemon=True)]
        for t in self.threads:
            t.start()
        self.log = None

    def _out(self):
        for line in self.proc.stdout:
            self.answers.put(json.loads(line))

    def _err(self):
        for line in self.proc.stderr:
            self.errlines.append(line)

    def __call__(self, *args, timeout=30):
        self.proc.stdin.write(json.dumps([str(a) for a in args]) + "\n")
        self.proc.stdin.flush()
        return self.answers.get(timeout=timeout * SLOW)

    def close(self):
        """Quit; returns (exit status, stderr text)."""
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        rc = self.proc.wait(timeout=30 * SLOW)
        for t in self.threads:
            t.join(5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.log = "".join(self.errlines)
        return rc, self.log


def base_env(tmp, **extra):
    """The test's environment: no AWS_* from outside, HOME in tmp."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k != "CREDENTIALS_DIRECTORY"}
    env["HOME"] = tmp
    env["AWSDRIVE_FAST_RETRY"] = "1"
    env.update(extra)
    return env


def akid_of(entry):
    """Access key id in a logged request's Authorization header."""
    for name, value in entry["headers"]:
        if name.lower() == "authorization":
            return value.split("Credential=")[1].split("/")[0]
    return None


def header_of(entry, wanted):
    for name, value in entry["headers"]:
        if name.lower() == wanted.lower():
            return value
    return None


GET_SECRET = ("json", "secretsmanager", "secretsmanager.GetSecretValue",
              '{"SecretId":"spookyd/openai"}')


def json_error(code, message="slow down"):
    return json.dumps({"__type": "com.amazon.coral.service#" + code,
                       "message": message})


class Base(unittest.TestCase):
    secret_value = "sk-spooky-\u2620-value"

    def setUp(self):
        for s in (AWS.s3, AWS.dynamodb, AWS.secrets, AWS.imds):
            if s is not None:
                s.reset()
        AWS.imds.role = "spookyd-role"
        AWS.imds.enabled = True
        AWS.secrets.put_secret("spookyd/openai", string=self.secret_value)
        self.tmp = tempfile.mkdtemp(prefix="spookyd-awscore-")
        self.drives = []
        self.secrets_to_hide = [AWS.secret_access_key, self.secret_value]

    def tearDown(self):
        for d in self.drives:
            rc, log = d.close()
            if rc != 0:
                sys.stderr.write("awsdrive exited %d:\n%s" % (rc, log))
        subprocess.run(["rm", "-rf", self.tmp], check=False)

    def drive(self, imds=False, **extra):
        env = base_env(self.tmp, **AWS.env(imds=imds))
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        d = Drive(env)
        self.drives.append(d)
        return d

    def finish(self, d):
        """Stop d; check it exited cleanly and logged no secret."""
        self.drives.remove(d)
        rc, log = d.close()
        self.assertEqual(rc, 0, log)
        for s in self.secrets_to_hide:
            self.assertNotIn(s, log)
        for word in ("Authorization", "Signature=", "X-Amz-Security-Token",
                     "Canonical"):
            self.assertNotIn(word, log)
        for url in re.findall(r"URL=(\S+)", log):
            self.assertNotIn("?", url)
        return log


class TestSecrets(Base):
    def test_get_secret_string_and_binary(self):
        AWS.secrets.put_secret("bin", binary=b"\x00\x01spooky\xff")
        d = self.drive()
        r = d("secret", "spookyd/openai")
        self.assertEqual((r["rc"], r["value"]), (0, self.secret_value))
        # Decoded bytes; \xff is not UTF-8, so compare what arrived.
        r = d("secret", AWS.secrets.arn("bin"))
        self.assertEqual(r["rc"], 0)
        self.assertEqual(r["value_hex"], b"\x00\x01spooky\xff".hex())
        calls = AWS.secrets.calls()
        self.assertEqual([c["status"] for c in calls], [200, 200])
        self.assertEqual(calls[0]["SecretId"], "spookyd/openai")
        entry = AWS.secrets.log()[0]
        self.assertEqual(header_of(entry, "X-Amz-Target"),
                         "secretsmanager.GetSecretValue")
        self.assertEqual(header_of(entry, "Content-Type"), JSON11)
        self.assertEqual(akid_of(entry), AWS.access_key_id)
        self.finish(d)

    def test_missing_secret_is_permanent(self):
        d = self.drive()
        r = d("secret", "nope")
        self.assertEqual(r["rc"], ERR_FAIL)
        self.assertIn("ResourceNotFoundException", r["err"])
        self.assertEqual(len(AWS.secrets.log()), 1)
        log = self.finish(d)
        self.assertIn("ResourceNotFoundException", log)
        self.assertIn("HTTP_STATUS=400", log)
        self.assertIn("ATTEMPT=1", log)
        self.assertIn("REQUEST_ID=", log)

    def test_wrong_secret_key(self):
        d = self.drive(AWS_SECRET_ACCESS_KEY="wrong/secret/key/0000000000")
        r = d("json", "secretsmanager", "secretsmanager.GetSecretValue",
              '{"SecretId":"spookyd/openai"}')
        self.assertEqual((r["rc"], r["status"], r["code"], r["attempts"]),
                         (ERR_FAIL, 400, "InvalidSignatureException", 1))
        self.assertNotIn("Canonical", r["err"])
        self.assertEqual(AWS.secrets.calls()[0]["error"],
                         "InvalidSignatureException")
        self.secrets_to_hide.append("wrong/secret/key/0000000000")
        self.finish(d)

    def test_unknown_access_key(self):
        d = self.drive(AWS_ACCESS_KEY_ID="AKIDUNKNOWN000000000")
        r = d("secret", "spookyd/openai")
        self.assertEqual(r["rc"], ERR_FAIL)
        self.assertIn("UnrecognizedClientException", r["err"])
        self.finish(d)


class TestRetries(Base):
    def test_throttling_then_success(self):
        AWS.secrets.set_faults([{
            "match": {"times": 2}, "action": "status", "status": 400,
            "content_type": JSON11,
            "body": json_error("ThrottlingException", "Rate exceeded")}])
        d = self.drive()
        r = d(*GET_SECRET)
        self.assertEqual((r["rc"], r["attempts"]), (0, 3))
        self.assertEqual([e["status"] for e in AWS.secrets.log()],
                         [400, 400, 200])
        log = self.finish(d)
        retries = [ln for ln in log.splitlines() if "retrying in" in ln]
        self.assertEqual(len(retries), 2)
        for ln in retries:
            self.assertIn("ThrottlingException", ln)
            self.assertIn("HTTP_STATUS=400", ln)

    def test_throttling_gives_up(self):
        AWS.secrets.set_faults([{
            "action": "status", "status": 400, "content_type": JSON11,
            "body": json_error("ThrottlingException")}])
        d = self.drive()
        r = d(*GET_SECRET)
        self.assertEqual(r["rc"], ERR_RETRY)
        self.assertIn("ThrottlingException", r["err"])
        self.assertIn("3 attempts", r["err"])
        self.assertEqual(len(AWS.secrets.log()), 3)
        self.finish(d)

    def test_503_then_success_honours_retry_after(self):
        AWS.secrets.set_faults([{
            "match": {"times": 1}, "action": "status", "status": 503,
            "headers": {"x-amz-retry-after": "400"}}])
        d = self.drive()
        r = d(*GET_SECRET)
        self.assertEqual((r["rc"], r["attempts"]), (0, 2))
        first, second = AWS.secrets.log()
        self.assertEqual((first["status"], second["status"]), (503, 200))
        # The server asked for 400 ms; our own backoff is 10 ms at most.
        self.assertGreaterEqual(second["time"] - first["time"], 0.35)
        self.finish(d)

    def test_stall_beyond_timeout_is_retried(self):
        AWS.secrets.set_faults([{"match": {"times": 1},
                                 "action": "stall"}])
        d = self.drive()
        self.assertEqual(d("timeout", int(1500 * SLOW))["rc"], 0)
        r = d(*GET_SECRET)
        self.assertEqual((r["rc"], r["attempts"]), (0, 2))
        self.assertEqual(AWS.secrets.faults()[0]["hits"], 1)
        log = self.finish(d)
        self.assertIn("imed out", log)

    def test_clock_skew_recovery(self):
        AWS.secrets.clock_offset_s = 1200  # AWS is 20 min ahead of us
        d = self.drive()
        r = d(*GET_SECRET)
        self.assertEqual((r["rc"], r["attempts"]), (0, 2))
        self.assertTrue(1195 <= r.get("offset", d("state")["offset"]) <= 1205)
        # The offset is kept: the next call works at once.
        r = d(*GET_SECRET)
        self.assertEqual((r["rc"], r["attempts"]), (0, 1))
        self.assertTrue(1195 <= d("state")["offset"] <= 1205)
        calls = AWS.secrets.calls()
        self.assertEqual([c["status"] for c in calls], [400, 200, 200])
        self.assertEqual(calls[0]["error"], "InvalidSignatureException")
        log = self.finish(d)
        self.assertEqual(log.count("local clock is"), 1)
        self.assertIn("notice:", log.split("local clock is")[0]
                      .rsplit("\n", 1)[-1])

    def test_skew_persisting_fails(self):
        # A server whose clock jumps again after the correction.
        AWS.secrets.clock_offset_s = -1200
        d = self.drive()
        r = d("secret", "spookyd/openai")
        self.assertEqual(r["rc"], 0)
        AWS.secrets.clock_offset_s = 2400
        r = d("secret", "spookyd/openai")
        self.assertEqual(r["rc"], 0)
        self.assertTrue(2395 <= d("state")["offset"] <= 2405)
        self.finish(d)


class TestCredentialChain(Base):
    def test_shared_file_and_systemd_credential(self):
        text = ("[default]\naws_access_key_id = AKIDNOPE\n"
                "aws_secret_access_key = nope\n\n[spooky]\n"
                "aws_access_key_id = %s\naws_secret_access_key = %s\n"
                % (AWS.access_key_id, AWS.secret_access_key))
        path = os.path.join(self.tmp, "credentials")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        d = self.drive(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
                       AWS_SHARED_CREDENTIALS_FILE=path, AWS_PROFILE="spooky")
        self.assertEqual(d("secret", "spookyd/openai")["rc"], 0)
        self.assertIn("AWS credentials from " + path, self.finish(d))
        # systemd: LoadCredential=aws-credentials:... and default profile.
        cred_dir = os.path.join(self.tmp, "creds")
        os.mkdir(cred_dir)
        with open(os.path.join(cred_dir, "aws-credentials"), "w") as f:
            f.write(text.replace("[spooky]", "[other]")
                    .replace("[default]\naws_access_key_id = AKIDNOPE\n"
                             "aws_secret_access_key = nope\n\n[other]",
                             "[default]"))
        os.chmod(os.path.join(cred_dir, "aws-credentials"), 0o400)
        d = self.drive(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
                       CREDENTIALS_DIRECTORY=cred_dir)
        self.assertEqual(d("secret", "spookyd/openai")["rc"], 0)
        self.assertIn("(systemd credential)", self.finish(d))
        self.assertEqual([akid_of(e) for e in AWS.secrets.log()],
                         [AWS.access_key_id] * 2)

    def test_open_file_refused(self):
        path = os.path.join(self.tmp, "credentials")
        with open(path, "w") as f:
            f.write("[default]\naws_access_key_id = A\n"
                    "aws_secret_access_key = B\n")
        os.chmod(path, 0o644)
        d = self.drive(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
                       AWS_SHARED_CREDENTIALS_FILE=path)
        self.drives.remove(d)
        rc, _ = d.close()
        self.assertEqual(rc, 1)
        self.assertEqual(d.answers.get(timeout=5)["rc"], ERR_FAIL)

    def test_bad_endpoint_refused_at_start(self):
        d = self.drive(AWS_ENDPOINT_URL_SECRETS_MANAGER="ftp://x")
        self.drives.remove(d)
        rc, _ = d.close()
        self.assertEqual(rc, 1)
        self.assertIn("AWS_ENDPOINT_URL_SECRETS_MANAGER",
                      d.answers.get(timeout=5)["err"])

    def test_no_credentials_anywhere(self):
        d = self.drive(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
        r = d("secret", "spookyd/openai")
        self.assertEqual(r["rc"], ERR_FAIL)
        self.assertIn("no AWS credentials", r["err"])
        self.assertEqual(AWS.secrets.log(), [])
        self.finish(d)

    def test_imds_chain_region_and_queueing(self):
        d = self.drive(imds=True, AWS_REGION=None)
        answers = d("parallel", 4, "secret", "spookyd/openai")
        self.assertEqual([a["rc"] for a in answers], [0] * 4)
        self.assertEqual(d("state")["region"], AWS.region)
        # One token, one role lookup, one credentials document for all.
        paths = [(e["method"], e["path"]) for e in AWS.imds.log()]
        self.assertEqual(paths.count(("PUT", "/latest/api/token")), 1)
        self.assertEqual(paths.count(
            ("GET", "/latest/meta-data/iam/security-credentials/")), 1)
        self.assertEqual(paths.count(
            ("GET", "/latest/meta-data/iam/security-credentials/"
                    "spookyd-role")), 1)
        self.assertIn(("GET", "/latest/meta-data/placement/region"), paths)
        for e in AWS.imds.log()[1:]:
            self.assertIsNotNone(header_of(e, "X-aws-ec2-metadata-token"))
        put = AWS.imds.log()[0]
        self.assertEqual(header_of(put, "X-aws-ec2-metadata-token-ttl-"
                                        "seconds"), "21600")
        creds = AWS.imds.credentials()
        for e in AWS.secrets.log():
            self.assertEqual(akid_of(e), creds["AccessKeyId"])
            self.assertEqual(header_of(e, "X-Amz-Security-Token"),
                             creds["Token"])
        self.secrets_to_hide += [creds["SecretAccessKey"], creds["Token"]]
        self.finish(d)

    def test_imds_without_role_or_turned_off(self):
        AWS.imds.role = None
        d = self.drive(imds=True)
        r = d("secret", "spookyd/openai")
        self.assertEqual(r["rc"], ERR_FAIL)
        self.assertIn("404", r["err"])
        AWS.imds.role = "spookyd-role"
        AWS.imds.enabled = False
        r = d("secret", "spookyd/openai")
        self.assertEqual(r["rc"], ERR_FAIL)
        self.assertIn("403", r["err"])
        self.finish(d)
        # Nothing listening: transient, and never IMDSv1 (no plain GET
        # without a token was ever sent).
        d = self.drive(imds=True, AWS_EC2_METADATA_SERVICE_ENDPOINT=(
            "http://127.0.0.1:%d" % servers.free_port()))
        r = d("secret", "spookyd/openai")
        self.assertEqual(r["rc"], ERR_RETRY)
        self.assertIn("IMDS", r["err"])
        self.finish(d)
        for e in AWS.imds.log():
            if e["method"] == "GET":
                self.assertIsNotNone(header_of(e,
                                               "X-aws-ec2-metadata-token"))

    def test_imds_rotation_before_expiry(self):
        first = AWS.imds.rotate(lifetime_s=64)
        d = self.drive(imds=True)
        self.assertEqual(d("secret", "spookyd/openai")["rc"], 0)
        second = AWS.imds.rotate()
        AWS.imds.expire_tokens()  # the next IMDS GET gets a 401
        # The first set becomes unusable 60 s before its Expiration.
        unusable_at = time.time() + 64 - 60
        time.sleep(max(0, unusable_at - time.time()) + 0.5)
        self.assertEqual(d("secret", "spookyd/openai")["rc"], 0)
        log = AWS.secrets.log()
        self.assertEqual([akid_of(e) for e in log],
                         [first["AccessKeyId"], second["AccessKeyId"]])
        # The renewed token after the 401.
        statuses = [(e["method"], e["status"]) for e in AWS.imds.log()]
        self.assertEqual(statuses.count(("PUT", 200)), 2)
        self.assertIn(("GET", 401), statuses)
        self.secrets_to_hide += [first["SecretAccessKey"], first["Token"],
                                 second["SecretAccessKey"], second["Token"]]
        self.finish(d)

    def test_expired_token_refreshes_once(self):
        first = AWS.imds.credentials()
        d = self.drive(imds=True)
        self.assertEqual(d(*GET_SECRET)["rc"], 0)
        AWS.imds.expire_in(1)  # the verifier rejects it from now + 1 s
        second = AWS.imds.rotate()
        time.sleep(1.2)
        r = d(*GET_SECRET)
        self.assertEqual((r["rc"], r["attempts"]), (0, 2))
        calls = AWS.secrets.calls()
        self.assertEqual([c["status"] for c in calls], [200, 400, 200])
        self.assertEqual(calls[1]["error"], "ExpiredTokenException")
        self.assertEqual([akid_of(e) for e in AWS.secrets.log()],
                         [first["AccessKeyId"]] * 2 +
                         [second["AccessKeyId"]])
        self.secrets_to_hide += [first["Token"], second["Token"]]
        self.finish(d)


class TestS3DynamoDB(Base):
    key = "2026/10/31/\u00dcn\u00efcode spooky day $1 \u2620.png"

    @needs_node
    def test_s3_put_get(self):
        d = self.drive()
        r = d("s3", "PUT", AWS.bucket, self.key, "spooky body")
        self.assertEqual((r["rc"], r["status"]), (0, 200))
        r = d("s3", "GET", AWS.bucket, self.key)
        self.assertEqual((r["rc"], r["body"]), (0, "spooky body"))
        r = d("s3", "GET", AWS.bucket, "absent.png")
        self.assertEqual((r["rc"], r["status"], r["code"]),
                         (ERR_FAIL, 404, "NoSuchKey"))
        path = "/%s/%s" % (AWS.bucket, urllib.parse.quote(self.key,
                                                          safe="/~"))
        self.assertEqual(AWS.s3.log()[0]["path"], path)
        log = self.finish(d)
        self.assertIn("S3_KEY=absent.png", log)

    def test_s3_bad_input_never_sent(self):
        # Nothing listens there: an attempt would fail differently.
        d = self.drive(AWS_ENDPOINT_URL_S3="http://127.0.0.1:%d"
                       % servers.free_port())
        r = d("s3", "PUT", AWS.bucket, "k" * 1025, "x")
        self.assertEqual((r["rc"], r["attempts"]), (ERR_FAIL, 0))
        self.assertIn("1024", r["err"])
        r = d("s3", "PUT", "Bad_Bucket", "k", "x")
        self.assertEqual(r["rc"], ERR_FAIL)
        self.assertIn("bucket", r["err"])
        self.assertIn("request not sent", self.finish(d))

    @needs_node
    def test_s3_wrong_key_and_skew(self):
        d = self.drive(AWS_SECRET_ACCESS_KEY="wrong/secret/key/0000000000")
        r = d("s3", "PUT", AWS.bucket, "k.txt", "x")
        self.assertEqual((r["rc"], r["status"], r["code"], r["attempts"]),
                         (ERR_FAIL, 403, "SignatureDoesNotMatch", 1))
        self.assertTrue(r["request_id"])
        self.secrets_to_hide.append("wrong/secret/key/0000000000")
        self.finish(d)
        AWS.s3.clock_offset_s = -1200  # AWS is 20 min behind us
        d = self.drive()
        r = d("s3", "PUT", AWS.bucket, "k.txt", "x")
        self.assertEqual((r["rc"], r["attempts"]), (0, 2))
        self.assertTrue(-1205 <= r["offset"] <= -1195)
        self.assertEqual([e["status"] for e in AWS.s3.log()],
                         [403, 403, 200])
        self.finish(d)

    @needs_node
    def test_dynamodb_crc32(self):
        d = self.drive()
        r = d("json", "dynamodb", "DynamoDB_20120810.ListTables", "{}")
        self.assertEqual(r["rc"], 0)
        self.assertIsNotNone(r["crc32"])  # dynalite sends it: checked
        AWS.dynamodb.set_faults([{
            "match": {"times": 1}, "action": "status", "status": 200,
            "content_type": JSON10, "headers": {"x-amz-crc32": "12345"},
            "body": "{}"}])
        r = d("json", "dynamodb", "DynamoDB_20120810.ListTables", "{}")
        self.assertEqual((r["rc"], r["attempts"]), (0, 2))
        AWS.dynamodb.set_faults([{
            "action": "status", "status": 200, "content_type": JSON10,
            "headers": {"x-amz-crc32": "12345"}, "body": "{}"}])
        r = d("json", "dynamodb", "DynamoDB_20120810.ListTables", "{}")
        self.assertEqual(r["rc"], ERR_RETRY)
        self.assertIn("x-amz-crc32", r["err"])
        self.finish(d)

    @needs_node
    def test_dynamodb_condition_is_an_outcome(self):
        item = json.dumps({
            "TableName": servers.JOBS_TABLE,
            "Item": {"job_id": {"S": "job-1"}, "timestamp": {"N": "1"},
                     "status": {"S": "pending"}},
            "ConditionExpression": "attribute_not_exists(job_id)"})
        d = self.drive()
        r = d("json", "dynamodb", "DynamoDB_20120810.PutItem", item)
        self.assertEqual(r["rc"], 0)
        r = d("json", "dynamodb", "DynamoDB_20120810.PutItem", item)
        self.assertEqual((r["rc"], r["code"], r["attempts"]),
                         (CONDITION_FAILED, "ConditionalCheckFailedException",
                          1))
        self.assertNotIn("warning", self.finish(d))


if __name__ == "__main__":
    if not os.access(DRIVE, os.X_OK):
        print("SKIP: %s not built" % DRIVE)
        sys.exit(77)
    prog = unittest.main(exit=False, verbosity=1)
    sys.exit(0 if prog.result.wasSuccessful() else 1)
