"""Native journald logging, read back from a real systemd-journald."""
import json
import os
import signal
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from spookyd import (Daemon, NotifySocket, check, command,  # noqa: E402
                     run_tests, write_config)
from sysd import journald  # noqa: E402

TOOLS = os.environ.get("SPOOKYD_TOOLS", "build/default/tools")


def test_every_context_field_reaches_the_journal(tmp):
    job = "2026-07-10_0_Pi\u00f1aColada-" + uuid.uuid4().hex[:8]
    args = [os.path.join(TOOLS, "logemit"), "journal", "uploaded image",
            "JOB_ID=" + job, "NATIONAL_DAY=Pi\u00f1a Colada",
            "S3_KEY=images/%s.png" % job, "HTTP_METHOD=PUT",
            "URL=https://b.s3.us-east-1.amazonaws.com/images/x.png"
            "?X-Amz-Signature=deadbeef", "HTTP_STATUS=200",
            "DURATION_MS=41", "TWEET_ID=1880028106020515840", "ATTEMPT=2",
            "REQUEST_ID=REQ123"]
    with journald() as j:
        subprocess.run(args, check=True)
        found = j.entries("JOB_ID=" + job)
        check(len(found) == 1, found)
        e = found[0]
        want = {
            "MESSAGE": "uploaded image", "PRIORITY": "4",
            "SYSLOG_IDENTIFIER": "spookyd", "_TRANSPORT": "journal",
            "NATIONAL_DAY": "Pi\u00f1a Colada",
            "S3_KEY": "images/%s.png" % job, "HTTP_METHOD": "PUT",
            "URL": "https://b.s3.us-east-1.amazonaws.com/images/x.png",
            "HTTP_STATUS": "200", "DURATION_MS": "41",
            "TWEET_ID": "1880028106020515840", "ATTEMPT": "2",
            "REQUEST_ID": "REQ123", "CODE_FUNC": "main",
        }
        for k, v in want.items():
            check(e.get(k) == v, "%s: %r != %r" % (k, e.get(k), v))
        check(e["CODE_FILE"].endswith("logemit.c"), e["CODE_FILE"])
        # _CMDLINE is journald's copy of our argv, not something we logged.
        leaked = [k for k, v in e.items()
                  if k != "_CMDLINE" and "deadbeef" in str(v)]
        check(leaked == [], "query logged in %s" % leaked)


def test_auto_detects_journal_stream(tmp):
    # stderr is a journal stream and JOURNAL_STREAM names it, as under
    # systemd: records must go native (_TRANSPORT=journal), not as text.
    job = "auto-" + uuid.uuid4().hex[:8]
    with journald() as j:
        sock, stream = j.stream("spookyd-test")
        env = dict(os.environ, JOURNAL_STREAM=stream)
        subprocess.run([os.path.join(TOOLS, "logemit"), "auto", "hello",
                        "JOB_ID=" + job], stderr=sock.fileno(), env=env,
                       check=True)
        found = j.entries("JOB_ID=" + job)
        check(len(found) == 1 and found[0]["_TRANSPORT"] == "journal",
              found)
        # A JOURNAL_STREAM that is not our stderr means plain lines.
        job2 = "plain-" + uuid.uuid4().hex[:8]
        env["JOURNAL_STREAM"] = "1:1"
        subprocess.run([os.path.join(TOOLS, "logemit"), "auto", "hello",
                        "JOB_ID=" + job2], stderr=sock.fileno(), env=env,
                       check=True)
        found = j.entries("SYSLOG_IDENTIFIER=spookyd-test", want=1)
        texts = [e.get("MESSAGE", "") for e in found]
        check(any("JOB_ID=" + job2 in t for t in texts), texts)
        check(j.entries("JOB_ID=" + job2, timeout=0.5) == [], "native")
        sock.close()


def test_daemon_lifecycle_in_journal_without_secrets(tmp):
    secret = "sk-test-" + uuid.uuid4().hex
    xsecret = ('{"API_KEY": "ck", "API_SECRET": "%s", "ACCESS_TOKEN": "at", '
               '"ACCESS_TOKEN_SECRET": "ats"}' % uuid.uuid4().hex)
    conf = write_config(tmp)
    sock = NotifySocket(tmp)
    with journald() as j:
        env = dict(os.environ, NOTIFY_SOCKET=sock.path,
                   OPENAI_API_KEY=secret, X_CREDENTIALS=xsecret)
        p = subprocess.Popen(command("-c", conf, "--log=journal"), env=env,
                             stderr=subprocess.PIPE)
        try:
            sock.wait_for(lambda m: "READY=1" in m, what="READY=1")
            p.send_signal(signal.SIGHUP)
            sock.wait_for(lambda m: "READY=1" in m, what="READY after HUP")
            p.send_signal(signal.SIGTERM)
            check(p.wait(timeout=10) == 0)
        finally:
            if p.poll() is None:
                p.kill()
            sock.close()
        check(p.stderr.read() == b"", "wrote to stderr in journal mode")
        found = j.entries("_PID=%d" % p.pid, want=4)
        msgs = [e["MESSAGE"] for e in found]
        check(any(m.startswith("spookyd ") and "ready" in m for m in msgs),
              msgs)
        check(any(m.startswith("reload accepted") for m in msgs), msgs)
        check(any(m == "stopped" for m in msgs), msgs)
        check(all(e["SYSLOG_IDENTIFIER"] == "spookyd" for e in found), found)
        dump = j.dump("_PID=%d" % p.pid)
        api_secret = json.loads(xsecret)["API_SECRET"]
        check(secret.encode() not in dump and
              api_secret.encode() not in dump, "secret in journal")


if __name__ == "__main__":
    run_tests(globals())
