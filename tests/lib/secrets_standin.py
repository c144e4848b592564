"""Secrets Manager stand-in: GetSecretValue only, SigV4-verified (tests).

Speaks JSON 1.1 (X-Amz-Target secretsmanager.GetSecretValue) on POST /.
Secrets live in memory; the test sets and rotates them.  No other
operation, no KMS, no resource policies.  Relies on standin, sigv4_verify.

API
  s = SecretsStandIn(region, keys, port=0)      keys: sigv4_verify.KeyStore
  s.put_secret(name, string=None, binary=None) -> VersionId
      creates the secret or rotates it: the new version becomes AWSCURRENT,
      the old current one AWSPREVIOUS.
  s.delete_secret(name)   later reads answer InvalidRequestException
  s.reset(): StandIn.reset() plus calls() cleared; secrets are kept
  s.arn(name); s.calls() -> [{"SecretId", "VersionId", "VersionStage",
      "status", "error"}] in arrival order (refused signatures included)
  s.verifier, s.clock_offset_s, and the StandIn API (log, faults, reset).
Run as a script: secrets_standin.py --region R --key AKID:SECRET
  [--secret NAME=VALUE ...] prints "PORT <n>".
"""

import base64
import json
import random
import string
import sys
import threading
import uuid

from sigv4_verify import KeyStore, Verifier
from standin import StandIn, json_response, main

CONTENT_TYPE = "application/x-amz-json-1.1"
ACCOUNT = "123456789012"


class SecretsStandIn(StandIn):
    """Secrets Manager GetSecretValue; see the module docstring."""

    def __init__(self, region, keys, port=0, host="127.0.0.1"):
        super().__init__(port, host)
        self.region = region
        self.verifier = Verifier("secretsmanager", region, keys,
                                 clock=self.clock)
        self._slock = threading.Lock()
        self._secrets = {}
        self._calls = []

    # -- test-side API --
    def put_secret(self, name, string=None, binary=None):
        if (string is None) == (binary is None):
            raise ValueError("give exactly one of string or binary")
        vid = str(uuid.uuid4())
        with self._slock:
            sec = self._secrets.setdefault(name, {
                "arn": self._new_arn(name), "versions": [],
                "deleted": False})
            for v in sec["versions"]:
                if "AWSCURRENT" in v["stages"]:
                    v["stages"] = ["AWSPREVIOUS"]
                elif "AWSPREVIOUS" in v["stages"]:
                    v["stages"] = []
            sec["versions"].append({"id": vid, "string": string,
                                    "binary": binary,
                                    "stages": ["AWSCURRENT"],
                                    "created": round(self.clock(), 3)})
        return vid

    def delete_secret(self, name):
        with self._slock:
            self._secrets[name]["deleted"] = True

    def reset(self):
        """StandIn.reset() and forget recorded calls (secrets stay)."""
        super().reset()
        with self._slock:
            self._calls = []

    def arn(self, name):
        with self._slock:
            return self._secrets[name]["arn"]

    def calls(self):
        with self._slock:
            return [dict(c) for c in self._calls]

    def _new_arn(self, name):
        tail = "".join(random.choice(string.ascii_letters) for _ in range(6))
        return "arn:aws:secretsmanager:%s:%s:secret:%s-%s" % (
            self.region, ACCOUNT, name, tail)

    # -- StandIn hooks --
    def authorize(self, req):
        resp = self.verifier.verify(req)
        if resp is not None:
            self._record({}, resp.status, self.verifier.last_error[0])
        return resp

    def handle(self, req):
        target = req.headers.get("X-Amz-Target", "")
        if req.method != "POST" or req.path != "/":
            return _error(404, "UnknownOperationException",
                          "only POST / is served")
        if target != "secretsmanager.GetSecretValue":
            return _error(400, "UnknownOperationException",
                          "unsupported X-Amz-Target %r" % target)
        try:
            args = json.loads(req.body)
            if not isinstance(args, dict):
                raise ValueError("not an object")
        except ValueError as e:
            self._record({}, 400, "SerializationException")
            return _error(400, "SerializationException", str(e))
        resp = self._get(args)
        err = json.loads(resp.body).get("__type") if resp.status != 200 \
            else None
        self._record(args, resp.status, err)
        return resp

    def _record(self, args, status, error):
        with self._slock:
            self._calls.append({"SecretId": args.get("SecretId"),
                                "VersionId": args.get("VersionId"),
                                "VersionStage": args.get("VersionStage"),
                                "status": status, "error": error})

    def _find(self, secret_id):
        for name, sec in self._secrets.items():
            if secret_id in (name, sec["arn"]):
                return name, sec
        return None, None

    def _get(self, args):
        sid = args.get("SecretId")
        if not isinstance(sid, str) or not sid:
            return _error(400, "InvalidParameterException",
                          "SecretId is required")
        if "VersionId" in args and "VersionStage" in args:
            return _error(400, "InvalidParameterException",
                          "You can't specify both VersionId and "
                          "VersionStage.")
        with self._slock:
            name, sec = self._find(sid)
            if sec is None:
                return _error(400, "ResourceNotFoundException",
                              "Secrets Manager can't find the specified "
                              "secret.")
            if sec["deleted"]:
                return _error(400, "InvalidRequestException",
                              "You can't perform this operation on the "
                              "secret because it was marked for deletion.")
            ver = _pick_version(sec, args)
            if ver is None:
                return _error(400, "ResourceNotFoundException",
                              "Secrets Manager can't find the specified "
                              "secret value for %s"
                              % ("VersionId: " + str(args["VersionId"])
                                 if "VersionId" in args else "staging "
                                 "label: " + str(args.get("VersionStage"))))
            out = {"ARN": sec["arn"], "Name": name, "VersionId": ver["id"],
                   "VersionStages": list(ver["stages"]),
                   "CreatedDate": ver["created"]}
        if ver["string"] is not None:
            out["SecretString"] = ver["string"]
        else:
            out["SecretBinary"] = base64.b64encode(ver["binary"]).decode()
        return json_response(200, out, CONTENT_TYPE,
                             [("x-amzn-RequestId", str(uuid.uuid4()))])


def _pick_version(sec, args):
    if "VersionId" in args:
        for v in sec["versions"]:
            if v["id"] == args["VersionId"]:
                return v
        return None
    stage = args.get("VersionStage", "AWSCURRENT")
    for v in sec["versions"]:
        if stage in v["stages"]:
            return v
    return None


def _error(status, code, message):
    # Secrets Manager errors carry "Message" (capital M), unlike the
    # signature errors the verifier sends with "message".
    return json_response(status, {"__type": code, "Message": message},
                         CONTENT_TYPE,
                         [("x-amzn-RequestId", str(uuid.uuid4()))])


def _add_args(p):
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--key", action="append", default=[],
                   help="AKID:SECRET accepted by the verifier")
    p.add_argument("--secret", action="append", default=[],
                   help="NAME=VALUE stored as SecretString")


def _factory(args):
    keys = KeyStore()
    for k in args.key:
        akid, _, secret = k.partition(":")
        keys.add(akid, secret)
    s = SecretsStandIn(args.region, keys, args.port, args.host)
    for kv in args.secret:
        name, _, value = kv.partition("=")
        s.put_secret(name, string=value)
    return s


if __name__ == "__main__":
    main(_factory, _add_args)
    sys.exit(0)
