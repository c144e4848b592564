"""The whole spookyd pipeline on local stand-ins, for the fault, crash and
hygiene tests: S3 and DynamoDB (s3rver and dynalite behind SigV4
verifiers), the Secrets Manager and IMDS stand-ins, the OpenAI and X
stand-ins.  Both API secrets come from Secrets Manager and are random per
stack, so a test can grep for them.  Relies on servers.py, standin.py,
openai_standin.py, x_standin.py and spookyd.py; loopback only.

Usage
  with Stack(tmp) as s:             # Stack(tmp, imds=True, days=2, ...)
      date, jobs = s.new_date()     # a calendar date no scenario used yet
      s.aws.dynamodb.set_faults([...])      # the base stand-in faults
      s.x.set_after_faults([{"match": {"path_prefix": "/2/tweets"},
                             "action": "lose"}])  # posted, reply lost
      r = s.once(date)              # r.rc, r.out, r.err
      s.check_posted_once(date)     # one tweet per job, media = S3 object

After-faults (set_after_faults on every stand-in of the stack) complement
the base stand-in's rules, which all act before the service does any
work: "lose" lets the service do the work (store, write, post), then
resets the connection instead of answering; "chunked_huge" answers 200
with "size" bytes in chunked encoding, so no Content-Length warns the
client.  Match keys as in standin.py (method, path_prefix, path_regex,
header, nth, times).
"""
import datetime
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time

import openai_standin
import servers
import standin
import x_standin
from spookyd import SLOW, WRAPPER, Skip, check, command, write_config

YEAR = 2027  # not a leap year: every calendar day maps to one date
NAMES = ("Lantern", "Raven", "Cauldron", "Moth", "Lichen")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:",
                   "ERROR: LeakSanitizer")


def proof_mode():
    """True under `make proof` (PROOF=1): run the long variants."""
    return os.environ.get("PROOF", "") not in ("", "0")


# -- faults applied after the service did its work -------------------------

class AfterFaults:
    """Mixin for a StandIn subclass; see the module docstring."""

    def set_after_faults(self, rules):
        compiled = []
        for r in rules:
            if r.get("action") not in ("lose", "chunked_huge"):
                raise ValueError("after-fault action: lose|chunked_huge")
            # standin's matcher, with an action it knows; ours is kept
            compiled.append((standin._Rule(dict(r, action="reset")), r))
        with self._lock:
            self._after = compiled

    def after_faults(self):
        with self._lock:
            return [dict(spec, hits=m.hits)
                    for m, spec in getattr(self, "_after", [])]

    def reset(self):
        super().reset()
        self.set_after_faults([])

    def _after_rule(self, req, action):
        with self._lock:
            for m, spec in getattr(self, "_after", []):
                if spec["action"] != action:
                    continue
                if m.matches(req.method, req.path, req.headers) and \
                        m.consume():
                    return spec
        return None

    def handle(self, req):
        huge = self._after_rule(req, "chunked_huge")
        if huge is not None:
            return standin.Response(
                200, [("Content-Type", huge.get("content_type",
                                                "application/json"))],
                standin._pattern(huge.get("size", 100 << 20)))
        resp = super().handle(req)
        lose = self._after_rule(req, "lose")
        if lose is None:
            return resp
        close = getattr(resp.body, "close", None)
        if close is not None:
            close()
        return standin._SocketFault({"action": "reset"}, self._stopping)


class Proxy(AfterFaults, servers.AwsProxy):
    pass


class Secrets(AfterFaults, servers.SecretsStandIn):
    pass


class Imds(AfterFaults, servers.ImdsStandIn):
    pass


class OpenAI(AfterFaults, openai_standin.OpenAIStandIn):
    pass


class X(AfterFaults, x_standin.XStandIn):
    @staticmethod
    def oauth_for(c):
        """An OAuth checker accepting only the credentials c (assign it
        to .oauth to rotate what the stand-in accepts)."""
        return x_standin.OAuthCheck(c["consumer_key"], c["consumer_secret"],
                                    c["token"], c["token_secret"])


def quiet(st):
    """No traceback on stderr when a killed client resets an idle
    keep-alive connection of stand-in st (socketserver prints those)."""
    httpd = st._httpd
    orig = httpd.handle_error

    def handle_error(request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            orig(request, client_address)
    httpd.handle_error = handle_error
    return st


class _Patched(servers.AwsServers):
    """AwsServers whose stand-ins take after-faults too."""

    def start(self):
        saved = (servers.AwsProxy, servers.SecretsStandIn,
                 servers.ImdsStandIn)
        servers.AwsProxy, servers.SecretsStandIn, servers.ImdsStandIn = \
            Proxy, Secrets, Imds
        try:
            return super().start()
        finally:
            (servers.AwsProxy, servers.SecretsStandIn,
             servers.ImdsStandIn) = saved


# -- running spookyd -------------------------------------------------------

class Result:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    def __repr__(self):
        return "rc=%s\nstdout:\n%s\nstderr:\n%s" % (self.rc, self.out,
                                                     self.err[-6000:])


def sane_exit(r):
    """A run ended the way spookyd ends (0 or 1): no crash, no sanitizer
    or valgrind report (exit 98/99), no signal."""
    check(r.rc in (0, 1), "spookyd died or a checker fired: %r" % r)
    for mark in SANITIZER_MARKS:
        check(mark not in r.err, "sanitizer report: %r" % r)


def run_spookyd(argv, env, tmp, timeout, kill_after=None):
    """Run spookyd argv to its end; a Result.  kill_after: seconds after
    which SIGKILL is sent (the crash test); timeout is a safety net only.
    (No peak RSS here: a child's ru_maxrss counts the forking Python's
    memory; memory is measured in the daemon, see check_memory().)"""
    tag = secrets.token_hex(4)
    out_path = os.path.join(tmp, "out-%s" % tag)
    err_path = os.path.join(tmp, "err-%s" % tag)
    with open(out_path, "w") as o, open(err_path, "w") as e:
        p = subprocess.Popen(command(*argv), env=env, stdout=o, stderr=e)
    t0 = time.monotonic()
    deadline = t0 + timeout * SLOW
    killed = False
    while p.poll() is None:
        now = time.monotonic()
        if not killed and (now > deadline or
                           (kill_after is not None and
                            now - t0 >= kill_after)):
            os.kill(p.pid, signal.SIGKILL)
            killed = True
        time.sleep(0.01)
    with open(out_path, errors="backslashreplace") as f:
        out = f.read()
    with open(err_path, errors="backslashreplace") as f:
        err = f.read()
    os.unlink(out_path)
    os.unlink(err_path)
    if killed and kill_after is None:
        raise AssertionError("spookyd ran past the %ss safety net:\n%s"
                             % (timeout * SLOW, err[-4000:]))
    return Result(p.returncode, out, err)


def vm_hwm_kb(pid):
    """Peak resident set size of a live process (VmHWM), in kB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM for %d" % pid)


class NotifyLog:
    """$NOTIFY_SOCKET stand-in that timestamps every message (a thread
    reads them as they come)."""

    def __init__(self, tmp, name="notify.sock"):
        self.path = os.path.join(tmp, name)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages = []  # (monotonic time, text)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.messages.append((time.monotonic(), data.decode()))

    def snapshot(self):
        with self._lock:
            return list(self.messages)

    def wait_for(self, pred, timeout=10.0, what="message", after=0):
        """The first message after index `after` with pred true; returns
        its index."""
        deadline = time.monotonic() + timeout * SLOW
        while True:
            msgs = self.snapshot()
            for i in range(after, len(msgs)):
                if pred(msgs[i][1]):
                    return i
            if time.monotonic() > deadline:
                raise AssertionError("no %s from the daemon; got %r" %
                                     (what, [m for _, m in msgs][-20:]))
            time.sleep(0.02)

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


class Daemon:
    """spookyd in the foreground on a config of the stack."""

    def __init__(self, stack, conf, env=None, notify=None,
                 watchdog_usec=None, log="stderr", base_env=None):
        self.stack = stack
        self.notify = notify
        self.stderr_path = os.path.join(stack.tmp, "daemon-%s.log"
                                        % secrets.token_hex(4))
        e = dict(stack.env if base_env is None else base_env)
        if notify is not None:
            e["NOTIFY_SOCKET"] = notify.path
        if watchdog_usec is not None:
            e["WATCHDOG_USEC"] = str(int(watchdog_usec))
        e.update(env or {})
        self._err = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(
            command("-c", conf, "--log=" + log), env=e,
            stdout=subprocess.DEVNULL, stderr=self._err)

    @property
    def pid(self):
        return self.proc.pid

    def stderr(self):
        if not self._err.closed:
            self._err.flush()
        with open(self.stderr_path, errors="backslashreplace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def signal(self, signum):
        self.proc.send_signal(signum)

    def wait_stderr(self, needle, timeout=10.0, count=1):
        deadline = time.monotonic() + timeout * SLOW
        while self.stderr().count(needle) < count:
            if time.monotonic() > deadline or not self.alive():
                raise AssertionError("%r (x%d) not in the daemon's log:\n%s"
                                     % (needle, count, self.stderr()[-6000:]))
            time.sleep(0.05)

    def kill(self):
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        self._err.close()

    def stop(self, timeout=20.0):
        """SIGTERM; the exit status (None if it had to be killed)."""
        rc = None
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=timeout * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        else:
            rc = self.proc.returncode
        if not self._err.closed:
            self._err.close()
        return rc


# -- the stack -------------------------------------------------------------

def day_names(doy, days):
    return ["%s %d" % (NAMES[k], doy) for k in range(days)]


def calendar_json(days, only=None):
    """Every day of YEAR with `days` names; only: {date: names} instead."""
    cal = {"Prompt": "A spooky picture for National "}
    d = datetime.date(YEAR, 1, 1)
    while d.year == YEAR:
        doy = d.timetuple().tm_yday
        names = day_names(doy, days)
        if only is not None:
            names = only.get(d.strftime("%m-%d"))
        if names:
            cal.setdefault(d.strftime("%B").lower(), {})[str(d.day)] = names
        d += datetime.timedelta(days=1)
    return json.dumps(cal)


def slug(name):
    return "".join(c for c in name if c.isalnum())


def job_id(date, i, name):
    return "%s_%d_%s" % (date, i, slug(name))


def caption(name):
    return "National %s Day! #National%sDay" % (name, slug(name))


class Stack:
    """See the module docstring.  Attributes: aws (servers.AwsServers),
    ai (OpenAI), x (X), conf (config path), env, tmp, keys: the secret
    values a hygiene test looks for."""

    def __init__(self, tmp, imds=False, days=1, openai_timeout="3s",
                 max_attempts=3, openai_latency_ms=0, extra=None,
                 max_parallel=4):
        self.tmp = tmp
        self.imds = imds
        self.days = days
        self.openai_timeout = openai_timeout
        self.max_attempts = max_attempts
        self.openai_latency_ms = openai_latency_ms
        self.extra = extra or {}
        self.max_parallel = max_parallel
        self.aws = self.ai = self.x = None
        self._used = set()
        self._next_doy = 1
        self._reserve_today()

    def _reserve_today(self):
        # The daemon's SIGUSR1 runs today: keep today (and the days
        # around it, for a run across midnight) out of new_date().
        today = datetime.datetime.now(datetime.timezone.utc).date()
        for k in (-1, 0, 1):
            d = today + datetime.timedelta(days=k)
            if not (d.month == 2 and d.day == 29):
                self._used.add(datetime.date(YEAR, d.month, d.day))

    # context manager
    def __enter__(self):
        why = servers.missing_node()
        if why:
            raise Skip(why)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def _start(self):
        self.openai_key = "sk-proof-" + secrets.token_hex(16)
        self.x_creds = {"consumer_key": "ck-" + secrets.token_hex(6),
                        "consumer_secret": "cs-" + secrets.token_hex(16),
                        "token": "tok-" + secrets.token_hex(12),
                        "token_secret": "ts-" + secrets.token_hex(16)}
        self.aws = _Patched().start()
        self.aws.create_jobs_table()
        self.ai = OpenAI(api_key=self.openai_key).start()
        self.ai.configure(latency_ms=self.openai_latency_ms)
        self.x = X(self.x_creds).start()
        for st in standins(self):
            quiet(st)
        self.aws.secrets.put_secret("spookyd/openai", string=self.openai_key)
        self.aws.secrets.put_secret("spookyd/x",
                                    string=self.x_secret(self.x_creds))
        self.conf = self.config()
        self.env = self.make_env()

    def stop(self):
        for s in (self.x, self.ai):
            if s is not None:
                s.stop()
        if self.aws is not None:
            self.aws.stop()

    @staticmethod
    def x_secret(c):
        return json.dumps({"API_KEY": c["consumer_key"],
                           "API_SECRET": c["consumer_secret"],
                           "ACCESS_TOKEN": c["token"],
                           "ACCESS_TOKEN_SECRET": c["token_secret"],
                           "BEARER_TOKEN": "bearer-" + c["token_secret"]})

    def secret_values(self):
        """Every secret value spookyd holds (for the hygiene grep)."""
        vals = [self.openai_key, self.x_creds["consumer_secret"],
                self.x_creds["token"], self.x_creds["token_secret"],
                "bearer-" + self.x_creds["token_secret"],
                self.aws.secret_access_key]
        if self.aws.imds is not None:
            c = self.aws.imds.credentials()
            vals += [c["SecretAccessKey"], c["Token"]]
        return vals

    def make_env(self, imds=None, **extra):
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("AWS_") or k in ("OPENAI_API_KEY",
                                             "X_CREDENTIALS",
                                             "NOTIFY_SOCKET",
                                             "WATCHDOG_USEC",
                                             "WATCHDOG_PID"):
                del env[k]
        env.update(self.aws.env(imds=self.imds if imds is None else imds))
        env.update(extra)
        return env

    def config(self, name="spookyd.conf", table=servers.JOBS_TABLE,
               calendar=None, extra=None):
        """Write a config of this stack; returns its path.  calendar:
        JSON text (default: every day of YEAR, self.days names each)."""
        cfg = {
            "daemon": {"max_parallel": str(self.max_parallel),
                       "log_level": "info"},
            "schedule": {"cron": "0 8 1 1 *", "timezone": "UTC",
                         "catch_up": "0"},
            "aws": {"bucket": self.aws.bucket, "table": table,
                    "prefix": "images/"},
            "openai": {"base_url": self.ai.url + "/v1",
                       "api_key": "secretsmanager:spookyd/openai",
                       "timeout": self.openai_timeout},
            "x": {"api_base_url": self.x.url, "review": "no",
                  "credentials": "secretsmanager:spookyd/x",
                  "max_attempts": str(self.max_attempts),
                  "poll_interval": "1s"},
        }
        for sec, kv in list(self.extra.items()) + list((extra or {}).items()):
            cfg.setdefault(sec, {}).update(kv)
        d = os.path.join(self.tmp, name + ".d")
        os.makedirs(d, exist_ok=True)
        # write_config puts calendar.json next to the config
        path = write_config(d, cfg, name=name,
                            calendar=calendar or calendar_json(self.days))
        return path

    # dates and jobs
    def new_date(self):
        """(date, [job ids]) for a calendar day no one used yet."""
        while True:
            d = datetime.date(YEAR, 1, 1) + datetime.timedelta(
                days=self._next_doy - 1)
            self._next_doy += 1
            check(d.year == YEAR, "calendar days used up")
            if d not in self._used:
                break
        self._used.add(d)
        doy = d.timetuple().tm_yday
        date = d.isoformat()
        return date, [job_id(date, i, n)
                      for i, n in enumerate(day_names(doy, self.days))]

    def captions(self, date):
        doy = datetime.date.fromisoformat(date).timetuple().tm_yday
        return [caption(n) for n in day_names(doy, self.days)]

    def once(self, date, conf=None, env=None, timeout=90, kill_after=None):
        return run_spookyd(["-c", conf or self.conf, "--log=stderr",
                            "--once", "--date", date], env or self.env,
                           self.tmp, timeout, kill_after)

    def items(self, table=servers.JOBS_TABLE, prefix=None):
        ddb = self.aws.client("dynamodb", backend=True)
        out, start = {}, None
        while True:
            kw = {"TableName": table, "ConsistentRead": True}
            if start:
                kw["ExclusiveStartKey"] = start
            got = ddb.scan(**kw)
            for it in got["Items"]:
                if prefix is None or it["job_id"]["S"].startswith(prefix):
                    out[it["job_id"]["S"]] = it
            start = got.get("LastEvaluatedKey")
            if not start:
                return out

    def status(self, date, table=servers.JOBS_TABLE):
        return {k: v["status"]["S"]
                for k, v in self.items(table, date).items()}

    def objects(self, prefix="images/"):
        s3 = self.aws.client("s3", backend=True)
        keys, token = [], None
        while True:
            kw = {"Bucket": self.aws.bucket, "Prefix": prefix}
            if token:
                kw["ContinuationToken"] = token
            got = s3.list_objects_v2(**kw)
            keys += [o["Key"] for o in got.get("Contents", [])]
            token = got.get("NextContinuationToken")
            if not token:
                return keys

    def s3_sha(self, key):
        body = self.aws.client("s3", backend=True).get_object(
            Bucket=self.aws.bucket, Key=key)["Body"].read()
        return hashlib.sha256(body).hexdigest()

    def openai_calls(self, date, billed=True):
        """Generation requests the OpenAI stand-in served for date's
        prompts (billed: only the 200s)."""
        doy = datetime.date.fromisoformat(date).timetuple().tm_yday
        return self.openai_calls_named(day_names(doy, self.days), billed)

    def openai_calls_named(self, names, billed=True):
        """Generation requests for the national days `names`."""
        return [c for c in self.ai.calls()
                if c["prompt"] and any(c["prompt"].endswith(" %s Day." % n)
                                       for n in names)
                and (not billed or c["status"] == 200)]

    def tweets(self, date):
        caps = set(self.captions(date))
        return [t for t in self.x.tweets() if t["text"] in caps]

    def check_posted_once(self, date, jobs=None, table=servers.JOBS_TABLE,
                          captions=None, x_tweets=None):
        """Every job of date posted; exactly one tweet per job, its media
        the S3 object the item names, its id the one recorded."""
        its = self.items(table, date)
        caps = captions or self.captions(date)
        tweets = x_tweets if x_tweets is not None else self.tweets(date)
        if jobs is not None:
            check(sorted(its) == sorted(jobs), "jobs %r != %r"
                  % (sorted(its), sorted(jobs)))
        texts = [t["text"] for t in tweets]
        check(sorted(texts) == sorted(caps), "tweets %r, want %r"
              % (texts, caps))
        by_text = {t["text"]: t for t in tweets}
        for jid, it in its.items():
            check(it["status"]["S"] == "posted", "%s is %s: %s"
                  % (jid, it["status"]["S"], it.get("last_error")))
            t = by_text[it["caption"]["S"]]
            check(len(t["media"]) == 1, t)
            check(t["media"][0]["sha256"] == self.s3_sha(it["s3_key"]["S"]),
                  "%s: posted media is not the S3 object" % jid)
            if "tweet_id" in it:
                check(it["tweet_id"]["S"] == t["id"], (it, t))
        return its

    def check_objects_referenced(self):
        """Every S3 object under images/ is the s3_key of an item (of any
        table: the daemon scenarios have their own, one bucket)."""
        tables = self.aws.client("dynamodb", backend=True).list_tables()
        keys = {v["s3_key"]["S"] for t in tables["TableNames"]
                for v in self.items(t).values() if "s3_key" in v}
        stray = [k for k in self.objects() if k not in keys]
        check(stray == [], "S3 objects no item refers to: %r" % stray)


# -- fault scenarios -------------------------------------------------------

def standins(s):
    """Every stand-in of the stack that takes faults."""
    return [x for x in (s.ai, s.x, s.aws.s3, s.aws.dynamodb, s.aws.secrets,
                        s.aws.imds) if x is not None]


def fault_hits(s):
    """How often the installed faults and scripts fired, in all."""
    n = 0
    for st in standins(s):
        n += sum(r["hits"] for r in st.faults())
        n += sum(r["hits"] for r in st.after_faults())
        for e in getattr(st, "_script", []):
            n += e.get("times", 1) - e["left"]
    return n


def clear_faults(s):
    """No faults, scripts or clock offsets anywhere (logs, tweets and
    items stay)."""
    for st in standins(s):
        st.set_faults([])
        st.set_after_faults([])
        st.clock_offset_s = 0.0
        if hasattr(st, "script"):
            st.script([])


TERMINAL = ("posted", "failed")


class Row:
    """One line of the report table, printed at once."""

    def __init__(self, upstream, fault, outcome):
        self.text = "%-8s | %-44s | %s" % (upstream, fault, outcome)
        print("    " + self.text, flush=True)


def scenario(s, upstream, fault, arm, expect="posted", runs=1,
             error=None, date=None, jobs=None, extra_check=None,
             fired=fault_hits):
    """One fault against one fresh date: arm() installs it, --once runs,
    the fault is cleared, --once runs again while jobs are not final.
    fired(s) says how often the fault fired (default: fault_hits).
    expect "posted": every job posted exactly once after exactly `runs`
    runs; "failed": every job failed, last_error containing `error`,
    nothing posted.  The fault must have fired.  Returns the results."""
    if date is None:
        date, jobs = s.new_date()
    arm()
    results = [s.once(date)]
    hits = fired(s)
    clear_faults(s)
    sane_exit(results[0])
    check(hits > 0, "%s %s: the fault never fired\n%r"
          % (upstream, fault, results[0]))
    while len(results) < 4:
        st = s.status(date)
        if sorted(st) == sorted(jobs) and all(v in TERMINAL
                                              for v in st.values()):
            break
        results.append(s.once(date))
        sane_exit(results[-1])
    st = s.status(date)
    tail = "\n".join(repr(r) for r in results)
    if expect == "posted":
        try:
            s.check_posted_once(date, jobs)
        except AssertionError as e:
            raise AssertionError("%s %s: %s\n%s" % (upstream, fault, e, tail))
        check(len(results) == runs, "%s %s: posted after %d runs, want %d\n%s"
              % (upstream, fault, len(results), runs, tail))
        outcome = "posted" + (" (run %d)" % runs if runs > 1 else "")
    else:
        its = s.items(prefix=date)
        check(all(v == "failed" for v in st.values()) and st,
              "%s %s: %r\n%s" % (upstream, fault, st, tail))
        for jid, it in its.items():
            why = it.get("last_error", {}).get("S", "")
            check(error in why, "%s %s: %s last_error %r lacks %r"
                  % (upstream, fault, jid, why, error))
        check(s.tweets(date) == [], "a failed job was posted")
        outcome = "failed: " + its[jobs[0]]["last_error"]["S"][:60]
    if extra_check is not None:
        extra_check(date, results)
    s.check_objects_referenced()
    Row(upstream, fault, outcome)
    return results


# -- scenarios in the running daemon ---------------------------------------

# Peak RSS allowed while a 100 MB body arrives: far below the body, well
# above the daemon's own ~12 MB plus its largest response buffer (16 MB).
RSS_BOUND_KB = 64 * 1024
WATCHDOG_USEC = 2000000


def rss_bound_kb():
    """RSS_BOUND_KB, or None under valgrind (whose own memory is what
    /proc shows).  ASan's shadow memory gets a larger allowance: its
    quarantine is kept small in the daemon's environment instead."""
    if WRAPPER:
        return None
    if os.environ.get("SANITIZE") == "1":
        return 2 * RSS_BOUND_KB
    return RSS_BOUND_KB


def today_utc():
    return datetime.datetime.now(datetime.timezone.utc).date()


class DaemonScenario:
    """The daemon on a table and calendar of its own (today's names are
    unique to it), with NOTIFY_SOCKET and WATCHDOG_USEC; SIGUSR1 runs
    today.  A context manager: the daemon is stopped (SIGTERM, exit 0
    checked by stop()) or killed on the way out."""

    def __init__(self, s, tag, days=1, extra=None, env=None, like=None,
                 log="stderr", base_env=None):
        self.s = s
        self.tag = tag
        if like is not None:
            # another daemon on the same table, config and names
            self.table, self.names, self.conf = \
                like.table, like.names, like.conf
        else:
            self.table = "jobs-" + tag
            self.names = ["%s %s" % (tag.capitalize(), NAMES[k])
                          for k in range(days)]
            s.aws.create_jobs_table(self.table)
            only = {}
            for k in (-1, 0, 1):
                d = today_utc() + datetime.timedelta(days=k)
                only[d.strftime("%m-%d")] = self.names
            self.conf = s.config(name="%s.conf" % tag, table=self.table,
                                 calendar=calendar_json(1, only),
                                 extra=extra)
        self.notify = NotifyLog(s.tmp, "notify-%s-%s.sock"
                                % (tag, secrets.token_hex(3)))
        e = dict(env or {})
        if os.environ.get("SANITIZE") == "1":
            # freed buffers would otherwise stay resident in quarantine
            e["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + \
                ":quarantine_size_mb=4"
        self.d = Daemon(s, self.conf, env=e, notify=self.notify,
                        watchdog_usec=WATCHDOG_USEC, log=log,
                        base_env=base_env)
        self.date = None

    @classmethod
    def reuse(cls, other, name=None, env=None):
        """A new daemon on other's table, config and names (a restart,
        or a second instance)."""
        return cls(other.s, name or other.tag, env=env, like=other)

    def __enter__(self):
        self.ready_index = self.notify.wait_for(
            lambda m: "READY=1" in m, timeout=30, what="READY=1")
        return self

    def wait_ready_again(self):
        """The next READY=1 (after a reload)."""
        self.ready_index = self.notify.wait_for(
            lambda m: "READY=1" in m, what="READY=1",
            after=self.ready_index + 1)

    def __exit__(self, exc, *rest):
        if self.d.alive() and exc is None:
            rc = self.d.stop()
            check(rc == 0, "daemon exit status %r:\n%s"
                  % (rc, self.d.stderr()[-4000:]))
        else:
            self.d.kill()
        self.notify.close()

    def captions(self):
        return [caption(n) for n in self.names]

    def jobs(self):
        date = self.date or today_utc().isoformat()
        return [job_id(date, i, n) for i, n in enumerate(self.names)]

    def run_today(self):
        """SIGUSR1: the generate step for today, then the tweet step."""
        self.date = today_utc().isoformat()
        self.d.signal(signal.SIGUSR1)

    def status(self):
        return {k: v["status"]["S"]
                for k, v in self.s.items(self.table).items()}

    def wait_final(self, timeout=60):
        """Until every job of today is posted or failed."""
        deadline = time.monotonic() + timeout * SLOW
        while True:
            st = self.status()
            if len(st) == len(self.names) and all(v in TERMINAL
                                                  for v in st.values()):
                return st
            check(self.d.alive(), "daemon died:\n%s"
                  % self.d.stderr()[-4000:])
            check(time.monotonic() < deadline, "jobs not final: %r\n%s"
                  % (st, self.d.stderr()[-4000:]))
            time.sleep(0.05)

    def tweets(self):
        caps = set(self.captions())
        return [t for t in self.s.x.tweets() if t["text"] in caps]

    def check_posted_once(self):
        return self.s.check_posted_once(self.date, self.jobs(), self.table,
                                        self.captions(), self.tweets())

    def check_alive(self, since):
        """Still running, READY, feeding the watchdog since `since` (a
        time.monotonic()): keep-alives came, never further apart than
        WATCHDOG_USEC, the interval after which systemd would kill."""
        check(self.d.alive(), "daemon died:\n%s" % self.d.stderr()[-4000:])
        deadline = time.monotonic() + 3 * WATCHDOG_USEC / 1e6 * SLOW
        while True:
            now = time.monotonic()
            ticks = [t for t, m in self.notify.snapshot()
                     if m == "WATCHDOG=1" and t >= since]
            if len(ticks) >= 2 or now > deadline:
                break
            time.sleep(0.05)
        check(len(ticks) >= 2, "%d WATCHDOG=1 in %.1f s" %
              (len(ticks), now - since))
        limit = WATCHDOG_USEC / 1e6 * SLOW
        marks = [since] + ticks + [now]
        gap = max(b - a for a, b in zip(marks, marks[1:]))
        check(gap < limit, "no WATCHDOG=1 for %.2f s (limit %.1f s)"
              % (gap, limit))
        check(not any("STOPPING=1" in m for _, m in self.notify.snapshot()),
              "the daemon is stopping")

    def check_memory(self):
        """VmHWM under the bound; returns it (kB)."""
        hwm = vm_hwm_kb(self.d.pid)
        bound = rss_bound_kb()
        if bound is not None:
            check(hwm < bound, "peak RSS %d kB >= %d kB" % (hwm, bound))
        return hwm
