"""Starts and stops the whole local AWS side for a test (127.0.0.1 only).

s3rver (temporary directory, one bucket) and dynalite (in memory) run as
node subprocesses behind SigV4-verifying AwsProxy instances; Secrets
Manager and IMDS are in-process stand-ins.  All share one KeyStore.  Needs
node and tests/node_modules (npm ci in tests/); no TLS, no real AWS.

Usage
  with AwsServers() as aws:              # or AwsServers(imds=False, ...)
      env = dict(os.environ, **aws.env())  # endpoints + static keys
      aws.create_jobs_table()            # old app's table and GSI
      aws.secrets.put_secret("spookyd/openai", string="sk-test")
      aws.s3.set_faults([{"match": {"times": 2}, "action": "status",
                          "status": 503}])
      ... run spookyd with env ...
      aws.client("s3").get_object(Bucket=aws.bucket, Key=k)  # inspect
      aws.s3.log(), aws.dynamodb.verifier.last_error, aws.imds.rotate()

Attributes: region, bucket, access_key_id, secret_access_key, keys
(sigv4_verify.KeyStore), s3 / dynamodb (AwsProxy), secrets
(SecretsStandIn), imds (ImdsStandIn), s3_url, dynamodb_url, secrets_url,
imds_url, s3_backend_url, dynamodb_backend_url (unverified, for setup).
missing_node() -> reason string if the node side cannot run, else None.
"""

import collections
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from aws_proxy import AwsProxy
from imds_standin import ImdsStandIn
from secrets_standin import SecretsStandIn
from sigv4_verify import KeyStore

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NODE_MODULES = os.path.join(TOP, "node_modules")
S3RVER = os.path.join(NODE_MODULES, "s3rver", "bin", "s3rver.js")
DYNALITE = os.path.join(NODE_MODULES, "dynalite", "cli.js")
ACCESS_KEY_ID = "AKIDSTANDIN000000001"
SECRET_ACCESS_KEY = "standin/secret/key/for/tests/only/000001"
JOBS_TABLE = "spooky-jobs"
GSI = "status-timestamp-index"


def missing_node():
    """Why the node-based servers cannot start, or None."""
    if shutil.which("node") is None:
        return "node is not installed (tests/setup-deps)"
    for path in (S3RVER, DYNALITE):
        if not os.path.exists(path):
            return "%s missing (run npm ci in tests/)" % path
    return None


def free_port():
    """A port that was free a moment ago (dynalite cannot take port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_LIBC = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    # Linux: the child gets SIGTERM if the test process dies, so a killed
    # test run leaves no node servers behind.
    _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class NodeServer:
    """A node subprocess that prints a line with its port when ready."""

    def __init__(self, argv, ready_re, cwd=None):
        self.argv = argv
        self.ready_re = re.compile(ready_re)
        self.cwd = cwd
        self.proc = None
        self.port = None
        self.output = collections.deque(maxlen=100)
        self._ready = threading.Event()

    def start(self):
        self.proc = subprocess.Popen(
            self.argv, cwd=self.cwd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            self.output.append(line)
            m = self.ready_re.search(line)
            if m and not self._ready.is_set():
                self.port = int(m.group(1))
                self._ready.set()
        self._ready.set()  # exited: wake the waiter

    def wait_ready(self, timeout=20):
        self._ready.wait(timeout)
        if self.port is None:
            self.stop()
            raise RuntimeError("%s did not start:\n%s"
                               % (" ".join(self.argv),
                                  "\n".join(self.output)))
        return self.port

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc = None


class AwsServers:
    """The local AWS side; see the module docstring.  A context manager:
    everything started is stopped on exit, also after a failure."""

    def __init__(self, region="us-east-1", bucket="spooky-images",
                 s3=True, dynamodb=True, secrets=True, imds=True):
        self.region = region
        self.bucket = bucket
        self.want = {"s3": s3, "dynamodb": dynamodb, "secrets": secrets,
                     "imds": imds}
        self.access_key_id = ACCESS_KEY_ID
        self.secret_access_key = SECRET_ACCESS_KEY
        self.keys = KeyStore()
        self.keys.add(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
        self.s3 = self.dynamodb = self.secrets = self.imds = None
        self.s3_url = self.dynamodb_url = None
        self.secrets_url = self.imds_url = None
        self.s3_backend_url = self.dynamodb_backend_url = None
        self._nodes = []
        self._standins = []
        self._tmp = None
        self._session = None
        self._clients = []

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        s3n = self._start_s3rver() if self.want["s3"] else None
        ddbn = self._start_dynalite() if self.want["dynamodb"] else None
        if s3n:
            self.s3_backend_url = "http://127.0.0.1:%d" % s3n.wait_ready()
            self.s3 = self._standin(AwsProxy("s3", self.region, self.keys,
                                             self.s3_backend_url))
            self.s3_url = self.s3.url
        if ddbn:
            self.dynamodb_backend_url = self._wait_dynalite(ddbn)
            self.dynamodb = self._standin(AwsProxy(
                "dynamodb", self.region, self.keys,
                self.dynamodb_backend_url))
            self.dynamodb_url = self.dynamodb.url
        if self.want["secrets"]:
            self.secrets = self._standin(SecretsStandIn(self.region,
                                                        self.keys))
            self.secrets_url = self.secrets.url
        if self.want["imds"]:
            self.imds = self._standin(ImdsStandIn(self.keys, self.region))
            self.imds_url = self.imds.url
        return self

    def stop(self):
        for c in self._clients:
            c.close()
        self._clients = []
        for s in reversed(self._standins):
            s.stop()
        self._standins = []
        for n in self._nodes:
            n.stop()
        self._nodes = []
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _standin(self, s):
        s.start()
        self._standins.append(s)
        return s

    def _start_s3rver(self):
        why = missing_node()
        if why:
            raise RuntimeError(why)
        self._tmp = tempfile.mkdtemp(prefix="spookyd-s3rver-")
        n = NodeServer(["node", S3RVER, "--directory", self._tmp,
                        "--address", "127.0.0.1", "--port", "0",
                        "--silent", "--no-vhost-buckets",
                        "--configure-bucket", self.bucket],
                       r"S3rver listening on [\d.]+:(\d+)")
        self._nodes.append(n)
        return n.start()

    def _start_dynalite(self):
        why = missing_node()
        if why:
            raise RuntimeError(why)
        n = NodeServer(["node", DYNALITE, "--host", "127.0.0.1",
                        "--port", str(free_port()), "--createTableMs", "0",
                        "--deleteTableMs", "0", "--updateTableMs", "0"],
                       r"Dynalite listening at: http://[^:]+:(\d+)")
        self._nodes.append(n)
        return n.start()

    def _wait_dynalite(self, n):
        # The port was only free when chosen: retry on a lost race.
        for _ in range(3):
            try:
                return "http://127.0.0.1:%d" % n.wait_ready()
            except RuntimeError:
                if "EADDRINUSE" not in "\n".join(n.output):
                    raise
                self._nodes.remove(n)
                n = self._start_dynalite()
        raise RuntimeError("dynalite: no free port after 3 tries")

    def env(self, imds=False):
        """Environment for spookyd: static keys and every endpoint; with
        imds=True no static keys, so credentials come from the IMDS."""
        e = {"AWS_REGION": self.region,
             "AWS_EC2_METADATA_DISABLED": "true"}
        if imds:
            e["AWS_EC2_METADATA_DISABLED"] = "false"
            e["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = self.imds_url
        else:
            e["AWS_ACCESS_KEY_ID"] = self.access_key_id
            e["AWS_SECRET_ACCESS_KEY"] = self.secret_access_key
        for var, url in (("AWS_ENDPOINT_URL_S3", self.s3_url),
                         ("AWS_ENDPOINT_URL_DYNAMODB", self.dynamodb_url),
                         ("AWS_ENDPOINT_URL_SECRETS_MANAGER",
                          self.secrets_url)):
            if url:
                e[var] = url
        return e

    def client(self, service, backend=False, max_attempts=1, **creds):
        """A botocore client through the verifying proxy (or, with
        backend=True, straight to s3rver/dynalite), standard retry mode
        with max_attempts.  creds may override aws_access_key_id,
        aws_secret_access_key, aws_session_token.  Closed by stop()."""
        import botocore.config
        import botocore.session
        if self._session is None:
            self._session = botocore.session.get_session()
        url = {"s3": self.s3_backend_url if backend else self.s3_url,
               "dynamodb": self.dynamodb_backend_url if backend
               else self.dynamodb_url,
               "secretsmanager": self.secrets_url}[service]
        kw = {"aws_access_key_id": self.access_key_id,
              "aws_secret_access_key": self.secret_access_key}
        if backend and service == "s3":
            # s3rver checks signatures made with its built-in key.
            kw = {"aws_access_key_id": "S3RVER",
                  "aws_secret_access_key": "S3RVER"}
        kw.update(creds)
        cfg = botocore.config.Config(s3={"addressing_style": "path"},
                                     retries={"max_attempts": max_attempts,
                                              "mode": "standard"})
        c = self._session.create_client(service, self.region,
                                        endpoint_url=url, config=cfg, **kw)
        self._clients.append(c)
        return c

    def create_jobs_table(self, name=JOBS_TABLE):
        """The old app's jobs table: job_id S hash, timestamp N range, GSI
        status-timestamp-index (status S, timestamp N, projection ALL).
        Made straight on dynalite so the proxy log stays clean."""
        ddb = self.client("dynamodb", backend=True)
        ddb.create_table(
            TableName=name,
            AttributeDefinitions=[
                {"AttributeName": "job_id", "AttributeType": "S"},
                {"AttributeName": "timestamp", "AttributeType": "N"},
                {"AttributeName": "status", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"},
                       {"AttributeName": "timestamp", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{
                "IndexName": GSI,
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "timestamp", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}],
            BillingMode="PAY_PER_REQUEST")
        for _ in range(200):
            t = ddb.describe_table(TableName=name)["Table"]
            gsis = t.get("GlobalSecondaryIndexes", [])
            if t["TableStatus"] == "ACTIVE" and all(
                    g["IndexStatus"] == "ACTIVE" for g in gsis):
                return name
            time.sleep(0.05)
        raise RuntimeError("table %s did not become ACTIVE" % name)
