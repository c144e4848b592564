"""The daemon's generation built over real local AWS servers: secrets
from Secrets Manager (re-read on SIGHUP), the calendar from S3, and a
clear refusal when either is missing or the AWS keys are wrong."""
import contextlib
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import servers  # noqa: E402
from spookyd import (TEST_CALENDAR, Daemon, NotifySocket, Skip,  # noqa
                     check, run_tests, write_config)

X_SECRET = ('{"API_KEY": "ck", "API_SECRET": "cs", "ACCESS_TOKEN": "at", '
            '"ACCESS_TOKEN_SECRET": "ats", "BEARER_TOKEN": "unused"}')


@contextlib.contextmanager
def aws_side():
    why = servers.missing_node()
    if why:
        raise Skip(why)
    with servers.AwsServers(dynamodb=False, imds=False) as aws:
        aws.secrets.put_secret("spookyd/openai", string="sk-from-sm")
        aws.secrets.put_secret("spookyd/x", string=X_SECRET)
        aws.client("s3").put_object(Bucket=aws.bucket, Key="cal/days.json",
                                    Body=TEST_CALENDAR.encode())
        yield aws


def config(tmp, aws, **calendar):
    return write_config(tmp, {
        "openai": {"api_key": "secretsmanager:spookyd/openai"},
        "x": {"credentials": "secretsmanager:spookyd/x"},
        "calendar": calendar or {"source": "s3://%s/cal/days.json" %
                                 aws.bucket},
    })


def sm_calls(aws, status=200):
    """GetSecretValue calls the stand-in answered with status."""
    return [c for c in aws.secrets.calls() if c["status"] == status]


def test_secrets_and_s3_calendar_at_start_and_reload(tmp):
    with aws_side() as aws:
        conf = config(tmp, aws)
        sock = NotifySocket(tmp)
        env = aws.env()
        env["NOTIFY_SOCKET"] = sock.path
        env.pop("OPENAI_API_KEY", None)
        d = Daemon(tmp, conf, env=env)
        try:
            sock.wait_for(lambda m: "READY=1" in m, timeout=15,
                          what="READY=1")
            check(len(sm_calls(aws)) == 2, sm_calls(aws))
            gets = [r for r in aws.s3.log() if r["method"] == "GET"]
            check(len(gets) == 1, gets)
            # Rotation: a reload reads both secrets again.
            aws.secrets.put_secret("spookyd/openai", string="sk-rotated")
            d.signal(signal.SIGHUP)
            sock.wait_for(lambda m: "READY=1" in m, timeout=15,
                          what="READY after reload")
            d.wait_stderr("reload accepted")
            check(len(sm_calls(aws)) == 4, sm_calls(aws))
            # A secret that has gone: the reload is refused, we keep going.
            aws.secrets.delete_secret("spookyd/x")
            d.signal(signal.SIGHUP)
            sock.wait_for(lambda m: "READY=1" in m, timeout=15,
                          what="READY after refused reload")
            d.wait_stderr("reload refused")
            err = d.stderr()
            # Deleted secrets answer InvalidRequestException, as AWS does.
            check("secretsmanager:spookyd/x: Secrets Manager "
                  "GetSecretValue: HTTP 400 InvalidRequestException" in err,
                  err)
            check(d.proc.poll() is None, "daemon died")
            for secret in ("sk-from-sm", "sk-rotated", '"cs"', "ats"):
                check(secret not in err, "secret in the log: " + secret)
            d.signal(signal.SIGTERM)
            check(d.wait(timeout=10) == 0, "exit status")
        finally:
            d.stop()
            sock.close()


def test_broken_s3_calendar_stops_start_up(tmp):
    with aws_side() as aws:
        aws.client("s3").put_object(Bucket=aws.bucket, Key="cal/bad.json",
                                    Body=b'{"smarch": {"1": ["X"]}}')
        conf = config(tmp, aws,
                      source="s3://%s/cal/bad.json" % aws.bucket)
        d = Daemon(tmp, conf, env=aws.env())
        try:
            check(d.wait(timeout=15) == 1, "exit status")
            err = d.stderr()
            check("s3://%s/cal/bad.json: smarch: unknown month" %
                  aws.bucket in err, err)
            check("cannot start" in err, err)
        finally:
            d.stop()


def test_wrong_aws_secret_is_refused_by_the_verifier(tmp):
    with aws_side() as aws:
        conf = config(tmp, aws)
        env = aws.env()
        env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
        d = Daemon(tmp, conf, env=env)
        try:
            check(d.wait(timeout=30) == 1, "exit status")
            err = d.stderr()
            check("SignatureDoesNotMatch" in err or
                  "InvalidSignatureException" in err, err)
            check("not-the-secret" not in err, "secret logged")
            check(sm_calls(aws) == [], "verifier let a bad signature in")
            check(len(sm_calls(aws, 400)) >= 1, aws.secrets.calls())
        finally:
            d.stop()


if __name__ == "__main__":
    run_tests(globals())
