# serial: its user manager, though in a private mount namespace, runs as
# root in the root cgroup and moves every process into init.scope.
"""End to end: the real systemd/spookyd.service, rendered by `make install`
with ExecStart= on the built binary, under a real systemd user manager and
a real journald, against the local S3, DynamoDB, OpenAI and X stand-ins.
Start -> READY and a status line; a six-field cron slot a few seconds
ahead -> every job of the day posted; reload -> ExecReload's --check, then
the new config in effect (a broken one refused, the daemon unharmed); stop
-> clean exit; each job's history read back with journalctl JOB_ID=, and
no secret anywhere in the journal.

The unit keeps its whole sandbox: sysd.private_host() makes this process's
mount namespace look like a booted host instead (see there).  Drop-ins add
only the environment, and under SANITIZE=1 or VALGRIND=1 what those tools
need, each line saying why."""
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import openai_standin  # noqa: E402
import servers  # noqa: E402
import sysd  # noqa: E402
import x_standin  # noqa: E402
from spookyd import (BIN, SLOW, TOP, WRAPPER, Skip, check,  # noqa: E402
                     config_text, run_tests)

UNIT = "spookyd.service"
DAYS = ["Candy Corn", "Don't Cry Over Spilled Milk", "Pi\u00f1a Colada"]
SLUGS = ["CandyCorn", "DontCryOverSpilledMilk", "Pi\u00f1aColada"]
# Paths the unit's ProtectHome= and PrivateTmp= hide from the daemon.
HIDDEN = ("/home/", "/root/", "/run/user/", "/tmp/", "/var/tmp/")
# The binary the unit runs: the build's, or a copy where the unit can see
# it when the checkout is under a path the sandbox hides.
EXE = [os.path.abspath(BIN)]


def wrapper():
    """WRAPPER with files it names (valgrind's suppressions) copied next
    to EXE when they would be hidden from the unit too."""
    out = []
    for arg in WRAPPER:
        key, eq, path = arg.partition("=")
        if eq and os.path.isabs(path) and path.startswith(HIDDEN):
            copy = os.path.join(os.path.dirname(EXE[0]),
                                os.path.basename(path))
            if not os.path.exists(copy):
                shutil.copy2(path, copy)
            arg = key + "=" + copy
        out.append(arg)
    return out


def unit_settings(text):
    """{key: [values]} of the [Service] section of a unit file."""
    out, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line:
            k, v = line.split("=", 1)
            out.setdefault(k, []).append(v)
    return out


def render_unit(root):
    """systemd/spookyd.service as `make install` writes it, with sbindir
    the build directory (ExecStart= runs the binary under test) and
    sysconfdir under root; returns (unit text, config path)."""
    etc = os.path.join(root, "etc")
    r = subprocess.run(
        ["make", "-s", "-C", TOP, "install",
         "BUILD=" + os.environ.get("BUILD", "build/default"),
         "DESTDIR=" + os.path.join(root, "dest"), "unitdir=/unit",
         "sbindir=" + os.path.dirname(EXE[0]),
         "sysconfdir=" + etc], capture_output=True, text=True)
    check(r.returncode == 0, r.stdout + r.stderr)
    with open(os.path.join(root, "dest", "unit", UNIT)) as f:
        text = f.read()
    exec_start = unit_settings(text)["ExecStart"]
    check(exec_start[0].split()[0] == EXE[0], exec_start)
    return text, os.path.join(etc, "spookyd", "spookyd.conf")


def dropins(unit_text, env, envfile):
    """{file name: text} of the drop-ins: the environment, and what
    ASan or valgrind need (the plain build keeps the whole sandbox)."""
    pub = "\n".join("Environment=%s=%s" % kv for kv in sorted(env.items()))
    out = {"environment.conf": (
        "# Endpoints and region are not secret: `systemctl show` may show\n"
        "# them.  Keys and tokens come from a root-only file instead.\n"
        "[Service]\n%s\nEnvironmentFile=%s\n" % (pub, envfile))}
    with open(EXE[0], "rb") as f:
        asan = b"__asan_init" in f.read()
    if asan:
        out["sanitizer.conf"] = (
            "[Service]\n"
            "# LeakSanitizer stops the threads with ptrace(2) at exit;\n"
            "# @system-service leaves ptrace out (it is in @debug).\n"
            "SystemCallFilter=ptrace\n")
    if WRAPPER:
        start = unit_settings(unit_text)["ExecStart"][0]
        out["wrapper.conf"] = (
            "[Service]\n"
            "# Run the same command line under the test wrapper.\n"
            "ExecStart=\n"
            "ExecStart=%s %s\n"
            "# valgrind translates code into pages it writes and then\n"
            "# runs, which MemoryDenyWriteExecute= forbids.\n"
            "MemoryDenyWriteExecute=no\n" % (" ".join(wrapper()), start))
    return out


def write_file(path, text, mode, gid=0):
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, 0, gid)
    os.chmod(path, mode)


def write_config(conf, gid, overrides):
    """The config as deploy.md installs it, root:spookyd 0640."""
    write_file(conf, config_text(overrides), 0o640, gid)


class Secrets:
    """Fresh values for every secret, so a search cannot miss or hit by
    chance."""

    def __init__(self):
        h = lambda: uuid.uuid4().hex  # noqa: E731
        self.openai = "sk-e2e-" + h()
        self.x = {"consumer_key": "ck-" + h(), "consumer_secret": "cs-" + h(),
                  "token": "tok-" + h(), "token_secret": "ts-" + h()}

    def x_json(self):
        return json.dumps({"API_KEY": self.x["consumer_key"],
                           "API_SECRET": self.x["consumer_secret"],
                           "ACCESS_TOKEN": self.x["token"],
                           "ACCESS_TOKEN_SECRET": self.x["token_secret"]})

    def values(self, aws):
        return [self.openai, self.x["consumer_secret"],
                self.x["token_secret"], aws.secret_access_key]


def environment(aws, secrets, root):
    """(public variables, path of the root-only file with the secrets)."""
    env = aws.env()
    private = {k: env.pop(k) for k in ("AWS_ACCESS_KEY_ID",
                                       "AWS_SECRET_ACCESS_KEY")}
    private["OPENAI_API_KEY"] = secrets.openai
    private["X_CREDENTIALS"] = secrets.x_json()
    path = os.path.join(root, "secrets.env")
    write_file(path, "".join("%s='%s'\n" % kv for kv in private.items()),
               0o600)
    return env, path


def slot_ahead():
    """A cron slot far enough ahead for the daemon to be up by then."""
    ahead = 20 if WRAPPER else 8
    return (datetime.datetime.now(datetime.timezone.utc) +
            datetime.timedelta(seconds=ahead)).replace(microsecond=0)


def calendar_for(at):
    return json.dumps({at.strftime("%B").lower(): {str(at.day): DAYS}})


def wait_for(what, pred, timeout):
    deadline = time.monotonic() + timeout * SLOW
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.2)


def job_items(aws):
    got = aws.client("dynamodb").scan(TableName=servers.JOBS_TABLE,
                                      ConsistentRead=True)
    return {i["job_id"]["S"]: i for i in got["Items"]}


def check_posted(aws, x, date):
    """Every job of the date posted, once, with its S3 image; returns
    {job_id: tweet}."""
    ids = ["%s_%d_%s" % (date, i, s) for i, s in enumerate(SLUGS)]

    def all_posted():
        its = job_items(aws)
        done = all(its.get(j, {}).get("status", {}).get("S") == "posted"
                   for j in ids)
        return its if done else None
    items = wait_for("every job posted", all_posted, 60)
    tweets = {t["id"]: t for t in x.tweets()}
    check(len(tweets) == len(DAYS), tweets)
    out = {}
    for job, day in zip(ids, DAYS):
        it = items[job]
        t = tweets[it["tweet_id"]["S"]]
        check(t["text"].startswith("National %s Day!" % day), t)
        body = aws.client("s3").get_object(Bucket=aws.bucket,
                                           Key=it["s3_key"]["S"])
        check(t["media"][0]["sha256"] ==
              hashlib.sha256(body["Body"].read()).hexdigest(), (it, t))
        out[job] = (it, t)
    return out


def check_job_journal(j, job, item, tweet, pid):
    """journalctl -o json JOB_ID=job tells the job's story, all from the
    daemon's PID, with the fields an operator filters on."""
    def story():
        found = j.entries("JOB_ID=" + job, timeout=1)
        return found if any("TWEET_ID" in e for e in found) else None
    found = wait_for("the journal of " + job, story, 10)
    check(all(e["_PID"] == str(pid) for e in found),
          [e["_PID"] for e in found])
    fields = {}
    for e in found:
        for k in ("JOB_ID", "NATIONAL_DAY", "S3_KEY", "TWEET_ID"):
            if k in e:
                fields.setdefault(k, set()).add(e[k])
    want = {"JOB_ID": {job}, "NATIONAL_DAY": {item["national_day"]["S"]},
            "S3_KEY": {item["s3_key"]["S"]}, "TWEET_ID": {tweet["id"]}}
    check(fields == want, "%s: %r != %r" % (job, fields, want))
    msgs = [e["MESSAGE"] for e in found]
    check("job claimed" in msgs and "posted to X" in msgs, msgs)


def check_sandboxed(pid, uid):
    """The unit's sandbox is in force on the daemon, as seen from outside:
    its user, no capabilities, no new privileges, a seccomp filter, its
    own user and mount namespaces."""
    with open("/proc/%d/status" % pid) as f:
        st = dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)
    check(int(st["Uid"].split()[0]) == uid, "runs as " + st["Uid"])
    check(int(st["CapEff"], 16) == 0 and int(st["CapBnd"], 16) == 0,
          (st["CapEff"], st["CapBnd"]))
    check(st["NoNewPrivs"] == "1" and st["Seccomp"] == "2", st)
    for ns in ("user", "mnt"):
        check(os.readlink("/proc/%d/ns/%s" % (pid, ns)) !=
              os.readlink("/proc/self/ns/" + ns), "shares our %s ns" % ns)


def diagnose(mgr):
    """What a failure needs: the unit's status and the journal's tail
    (valgrind's and the sanitizers' reports are there too)."""
    print(mgr.systemctl("status", "--lines=0", UNIT, check=False).stdout)
    r = subprocess.run(["journalctl", "--no-pager", "-o", "short-monotonic",
                        "-n", "80"], capture_output=True, text=True)
    print(r.stdout + r.stderr)


class Run:
    """The stack of one test run and the steps it goes through."""

    def __init__(self, j, aws, ai, x, mgr, root, ids, user, group):
        self.j, self.aws, self.ai, self.x, self.mgr = j, aws, ai, x, mgr
        self.root, self.uid, self.gid = root, ids[user][0], ids[group][1]
        self.secrets = None
        self.unit = self.conf = self.cfg = self.date = None
        self.posted = {}
        self.pid = 0

    def install(self, secrets):
        """Config and calendar for a slot a few seconds ahead, the unit,
        its drop-ins."""
        self.secrets = secrets
        self.unit, self.conf = render_unit(self.root)
        os.makedirs(os.path.dirname(self.conf), exist_ok=True)
        self.aws.create_jobs_table()
        at = slot_ahead()
        self.date = at.strftime("%Y-%m-%d")
        self.cfg = {
            "schedule": {"cron": "%d %d %d * * *" % (at.second, at.minute,
                                                       at.hour),
                         "timezone": "UTC", "catch_up": "0"},
            "aws": {"bucket": self.aws.bucket, "table": servers.JOBS_TABLE},
            "openai": {"base_url": self.ai.url + "/v1"},
            "x": {"api_base_url": self.x.url}}
        write_file(os.path.join(os.path.dirname(self.conf), "calendar.json"),
                   calendar_for(at), 0o644)
        write_config(self.conf, self.gid, self.cfg)
        env, envfile = environment(self.aws, secrets, self.root)
        self.mgr.share_notify_socket()
        self.mgr.install(UNIT, self.unit)
        d = os.path.join(self.mgr.unit_dir, UNIT + ".d")
        os.makedirs(d)
        extra = dropins(self.unit, env, envfile)
        print("  drop-ins: " + " ".join(sorted(extra)))
        for name, text in extra.items():
            write_file(os.path.join(d, name), text, 0o644)
        self.mgr.systemctl("daemon-reload")

    def start(self):
        """Type=notify: start returns once the daemon said READY=1."""
        t0 = time.monotonic()
        self.mgr.systemctl("start", UNIT)
        print("  started in %.1f s" % (time.monotonic() - t0))
        p = self.mgr.show(UNIT, "ActiveState", "SubState", "StatusText",
                          "MainPID")
        check(p["ActiveState"] == "active" and p["SubState"] == "running",
              p)
        check(p["StatusText"].startswith("next run ") and
              " UTC; " in p["StatusText"], p)
        self.pid = int(p["MainPID"])
        check_sandboxed(self.pid, self.uid)
        status = self.mgr.systemctl("status", UNIT, check=False).stdout
        check('Status: "next run ' in status, status)

    def scheduled_posts(self):
        """The slot fires and the tweet step posts each job."""
        self.posted = check_posted(self.aws, self.x, self.date)
        check(len(self.ai.calls()) == len(DAYS), self.ai.calls())
        runs = self.j.entries("_PID=%d" % self.pid, "MESSAGE=generate step "
                              "for %s (schedule)" % self.date)
        check(len(runs) == 1, runs)

    def reload(self):
        """ExecReload= checks the file, then sends SIGHUP: a new time zone
        shows in the status; a broken file fails the reload and changes
        nothing."""
        self.cfg["schedule"]["timezone"] = "Asia/Tokyo"
        write_config(self.conf, self.gid, self.cfg)
        self.mgr.systemctl("reload", UNIT)
        self.mgr.wait_prop(UNIT, "StatusText", lambda v: " JST; " in v)
        check(self.mgr.show(UNIT, "MainPID")["MainPID"] == str(self.pid),
              "reload restarted the daemon")
        write_config(self.conf, self.gid,
                     dict(self.cfg, x=dict(self.cfg["x"], review="perhaps")))
        r = self.mgr.systemctl("reload", UNIT, check=False)
        check(r.returncode != 0, "a broken config reloaded")
        p = self.mgr.show(UNIT, "ActiveState", "MainPID", "StatusText")
        check(p["ActiveState"] == "active" and
              p["MainPID"] == str(self.pid) and " JST; " in p["StatusText"],
              p)

        def accepted():
            msgs = [e["MESSAGE"] for e in self.j.entries(
                "_PID=%d" % self.pid, timeout=0)]
            return sum(m.startswith("reload accepted") for m in msgs)
        # journald may write a record after systemd has seen the status.
        check(wait_for("reload accepted", accepted, 5) == 1,
              "reloads accepted: %d" % accepted())

    def stop(self):
        self.mgr.systemctl("stop", UNIT)
        r = self.mgr.show(UNIT, "ActiveState", "Result", "ExecMainStatus")
        check(r["ActiveState"] == "inactive" and r["Result"] == "success"
              and r["ExecMainStatus"] == "0", r)
        check(self.j.entries("_PID=%d" % self.pid, "MESSAGE=stopped"),
              "no stop line")

    def journal(self):
        """Each job's story by JOB_ID=, and no secret in any record."""
        for job, (item, tweet) in self.posted.items():
            check_job_journal(self.j, job, item, tweet, self.pid)
        for dump in (self.j.dump("_PID=%d" % self.pid), self.j.dump()):
            leaked = [v for v in self.secrets.values(self.aws)
                      if v.encode() in dump]
            check(leaked == [], "secret in the journal")


def test_unit_runs_the_pipeline(tmp):
    why = servers.missing_node()
    if why:
        raise Skip(why)
    if os.path.realpath(BIN).startswith(HIDDEN):
        if os.geteuid() != 0:
            raise Skip("%s is under a path the unit hides (ProtectHome=, "
                       "PrivateTmp=) and only root may copy it out" % BIN)
        copy_dir = tempfile.mkdtemp(prefix="spookyd-e2e-", dir="/opt")
        os.chmod(copy_dir, 0o755)
        EXE[0] = os.path.join(copy_dir, "spookyd")
        shutil.copy2(BIN, EXE[0])
        try:
            run_pipeline()
        finally:
            shutil.rmtree(copy_dir, ignore_errors=True)
    else:
        run_pipeline()


def run_pipeline():
    started = time.monotonic()
    with open(os.path.join(TOP, "systemd", UNIT)) as f:
        s = unit_settings(f.read())
    user, group = s["User"][-1], s["Group"][-1]
    # Before any thread: the stand-ins start threads.
    root, ids = sysd.private_host([user, group])
    secrets = Secrets()
    with sysd.journald() as j, \
            servers.AwsServers(secrets=False, imds=False) as aws, \
            openai_standin.OpenAIStandIn(api_key=secrets.openai) as ai, \
            x_standin.XStandIn(secrets.x) as x, \
            sysd.user_manager(root) as mgr:
        run = Run(j, aws, ai, x, mgr, root, ids, user, group)
        try:
            run.install(secrets)
            run.start()
            run.scheduled_posts()
            run.reload()
            run.stop()
            run.journal()
        except BaseException:
            diagnose(mgr)
            raise
    print("  end to end in %.1f s" % (time.monotonic() - started))


if __name__ == "__main__":
    run_tests(globals())
