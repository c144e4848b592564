# serial: starts or reads the machine-wide journald, run alone.
"""No secret in anything spookyd writes, also when every upstream refuses
it: stderr at debug level, the journal (journalctl -o export _PID=),
stdout, every attribute of every job item (last_error among them); the
daemon starts no child process (whose cmdline or environ could carry
one).  Secrets: the OpenAI key, every X credential, the AWS secret key,
the IMDS session token and IMDS tokens.  And the config itself: a file:
secret others can read is refused at start, and no secret can be written
in the config, which is why a world-readable config is accepted."""
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sysd  # noqa: E402
from pipeline import (DaemonScenario, Stack, X, run_spookyd,  # noqa
                      sane_exit)
from spookyd import Skip, check, run_tests, write_config  # noqa: E402
from sigv4_verify import KeyStore  # noqa: E402


class WrongSecrets(KeyStore):
    """Every key known, with the wrong secret: SignatureDoesNotMatch,
    whose AWS error body quotes the canonical request (and with it the
    session token header)."""

    def __init__(self, real):
        super().__init__()
        self.real = real

    def get(self, akid):
        k = self.real.get(akid)
        return dict(k, secret="not-" + k["secret"]) if k else None


def children(pid):
    """Processes whose parent is pid (any of its threads)."""
    out = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except FileNotFoundError:
        return out
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                out += f.read().split()
        except FileNotFoundError:
            pass
    return out


class ChildWatch:
    """Samples pid's children until stopped."""

    def __init__(self, pid):
        self.pid = pid
        self.seen = set()
        self.samples = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            for c in children(self.pid):
                self.seen.add(c)
                for what in ("cmdline", "environ"):
                    try:
                        with open("/proc/%s/%s" % (c, what), "rb") as f:
                            self.seen.add(f.read().decode(errors="replace"))
                    except OSError:
                        pass
            self.samples += 1
            time.sleep(0.01)

    def stop(self):
        self._stop.set()
        self._t.join(2)
        return self.seen


def secrets_of(s):
    vals = s.secret_values() + [s.x_creds["consumer_key"]]
    vals += list(s.aws.imds._tokens)  # IMDSv2 tokens handed out
    return [v for v in vals if v]


def grep(texts, secrets):
    """[(where, secret)] for every secret found in any text."""
    hits = []
    for where, text in texts:
        for sec in secrets:
            if sec in text:
                hits.append((where, sec[:6] + "..."))
    return hits


def refusing(s, date, what):
    """Run date's job with one upstream refusing spookyd's secret; the
    job fails with a reason.  Returns the --once result."""
    restore = None
    if what == "openai":
        key = s.ai.api_key
        s.ai.api_key = "sk-someone-else"
        restore = lambda: setattr(s.ai, "api_key", key)  # noqa: E731
    elif what == "x":
        s.x.oauth = X.oauth_for(dict(s.x_creds, token_secret="other"))
        restore = lambda: setattr(s.x, "oauth",  # noqa: E731
                                  X.oauth_for(s.x_creds))
    elif what == "s3":
        real = s.aws.s3.verifier.keys
        s.aws.s3.verifier.keys = WrongSecrets(real)
        restore = lambda: setattr(s.aws.s3.verifier, "keys",  # noqa
                                  real)
    try:
        return s.once(date, env=s.static_env)
    finally:
        restore()


def test_no_secret_in_anything_written(tmp):
    with Stack(tmp, imds=True, extra={"daemon": {"log_level": "debug"}}) \
            as s:
        s.static_env = s.make_env(imds=False)
        texts = []
        # Static keys, --once at debug level: a good run, then each
        # upstream refusing what spookyd holds.
        for what in ("none", "openai", "x", "s3"):
            date, jobs = s.new_date()
            r = refusing(s, date, what) if what != "none" else \
                s.once(date, env=s.static_env)
            sane_exit(r)
            st = s.status(date)
            check(st == {jobs[0]: "posted" if what == "none" else "failed"},
                  (what, st, r))
            texts += [("once %s stderr" % what, r.err),
                      ("once %s stdout" % what, r.out)]
        # IMDS credentials (with a session token), the daemon at debug
        # level, to the journal when one can run here.
        journal_note = ""
        try:
            with sysd.journald() as j:
                texts += daemon_phase(s, tmp, "journal", j)
        except Skip as e:
            journal_note = " (journal: %s; stderr instead)" % e
            texts += daemon_phase(s, tmp, "stderr", None)
        items = {}
        for t in s.aws.client("dynamodb", backend=True).list_tables()[
                "TableNames"]:
            items.update(s.items(t))
        texts.append(("job items", json.dumps(items)))
        errors = [it["last_error"]["S"] for it in items.values()
                  if "last_error" in it]
        check(len(errors) >= 4, errors)  # each refusal left its reason
        secrets = secrets_of(s)
        check(len(secrets) >= 9, "too few secrets to look for")
        hits = grep(texts, secrets)
        check(hits == [], "secrets written: %r" % hits)
        print("    %d secrets, %d texts (%d bytes), %d job errors, 0 hits%s"
              % (len(secrets), len(texts), sum(len(t) for _, t in texts),
                 len(errors), journal_note))


def daemon_phase(s, tmp, log, journal):
    texts = []
    with DaemonScenario(s, "hygiene", days=2, log=log) as ds:
        watch = ChildWatch(ds.d.pid)
        real = s.aws.s3.verifier.keys
        # the second job's image upload is refused: SignatureDoesNotMatch
        s.aws.s3.set_faults([])
        s.aws.s3.verifier.keys = WrongSecrets(real)
        ds.run_today()
        try:
            ds.wait_final()
        finally:
            s.aws.s3.verifier.keys = real
        ds.d.signal(signal.SIGHUP)  # a reload reads every secret again
        ds.d.wait_stderr("reload accepted") if log == "stderr" else \
            ds.wait_ready_again()
        seen = watch.stop()
        check(watch.samples > 2 and seen == set(),
              "the daemon started a process: %r" % seen)
        with open("/proc/%d/cmdline" % ds.d.pid, "rb") as f:
            texts.append(("daemon cmdline", f.read().decode()))
        pid = ds.d.pid
    texts.append(("daemon stderr", ds.d.stderr()))
    if journal is not None:
        dump = journal.dump("_PID=%d" % pid).decode(errors="replace")
        check("reload accepted" in dump and "JOB_ID=" in dump,
              "the daemon's records are not in the journal")
        texts.append(("journal", dump))
    st = ds.status()
    check(sorted(st.values()) == ["failed", "failed"], st)
    check(s.aws.imds.credential_gets >= 1, "IMDS was not used")
    return texts


def test_world_readable_secret_file_is_refused(tmp):
    with Stack(tmp) as s:
        key_file = os.path.join(tmp, "openai.key")
        with open(key_file, "w") as f:
            f.write(s.openai_key + "\n")
        os.chmod(key_file, 0o644)
        conf = s.config(name="file.conf",
                        extra={"openai": {"api_key": "file:" + key_file}})
        date, jobs = s.new_date()
        r = s.once(date, conf=conf)
        check(r.rc == 1 and r.out == "", r)
        check("%s: permissions 0644 are too open" % key_file in r.err, r)
        check(s.openai_key not in r.err, "the key was logged")
        check(s.status(date) == {} and s.openai_calls(date, False) == [],
              "a job ran with a refused secret")
        # The daemon refuses to start the same way.
        d = run_spookyd(["-c", conf, "--log=stderr"], s.env, tmp, 30)
        check(d.rc == 1 and "permissions 0644 are too open" in d.err and
              "cannot start" in d.err, d)
        os.chmod(key_file, 0o600)
        sane_exit(s.once(date, conf=conf))
        s.check_posted_once(date, jobs)


# Decision: the config file is not refused for being world-readable.
# It names secrets and never holds one: every secret key takes only a
# reference, and there is no key for AWS keys at all.  These checks are
# what makes that safe, so they are tested here.
INLINE = {
    ("openai", "api_key"): "sk-pasted-" + "7" * 20,
    ("x", "credentials"): '{"API_KEY": "k", "API_SECRET": "pasted-x-secret"}',
    ("aws", "secret_access_key"): "pasted/aws/secret/key/" + "9" * 18,
    ("aws", "session_token"): "pasted-session-token-" + "5" * 20,
}


def test_config_cannot_hold_a_secret(tmp):
    base = {"aws": {"bucket": "b", "table": "jobs"},
            "x": {"credentials": "env:X_CREDENTIALS"}}
    conf = write_config(tmp, base)
    os.chmod(conf, 0o644)
    r = run_spookyd(["-c", conf, "--check"], dict(os.environ), tmp, 30)
    check(r.rc == 0 and "configuration OK" in r.out, r)
    for (sec, key), value in INLINE.items():
        cfg = {k: dict(v) for k, v in base.items()}
        cfg.setdefault(sec, {})[key] = value
        conf = write_config(tmp, cfg, name="inline.conf")
        r = run_spookyd(["-c", conf, "--check"], dict(os.environ), tmp, 30)
        check(r.rc == 1, "[%s] %s = <secret> accepted: %r" % (sec, key, r))
        check("%s:" % conf in r.err, r)
        if key in ("api_key", "credentials"):
            check("inline secrets are not accepted" in r.err, r)
        else:
            check("unknown key '%s'" % key in r.err, r)
        check(value not in r.err + r.out, "the config error quotes the "
              "secret: %r" % r.err)
        for part in value.replace('"', " ").split():
            if len(part) > 12:
                check(part not in r.err + r.out, "secret part echoed")


if __name__ == "__main__":
    run_tests(globals())
