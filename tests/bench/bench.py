"""make bench: what spookyd costs, next to the old app's flow in Python.

Starts the local stand-in stack once (s3rver and dynalite behind the
SigV4-checking proxies in this process; the OpenAI and X stand-ins in
processes of their own, so their Python work does not queue behind the
proxies on one interpreter lock), with 2 and 3 MiB PNGs and 1 s of OpenAI
latency, then measures the -O2 daemon: start to READY=1, idle memory,
memory after an hour's worth of polls, wake-ups per idle minute at a 60 s
poll, CPU and wall time of `--once` cycles, peak memory with three 3 MiB
pictures in flight, and where the CPU goes.  The same cycle runs through
tests/bench/reference_flow.py against the same stand-ins, so the report
gives ratios.  Goals are reported, never asserted: this is not a test.
Prints a table and writes tests/bench/results-<date>.md.
"""
import datetime
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
LIB = os.path.join(TOP, "tests", "lib")
sys.path.insert(0, LIB)
sys.path.insert(0, HERE)
import cpuprof  # noqa: E402
import servers  # noqa: E402
import standin  # noqa: E402

BIN = os.path.join(TOP, os.environ.get("BUILD", "build/default"), "spookyd")
PYTHON = "/usr/bin/python3"
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
READY_RUNS = max(RUNS, 10)
MIB = 1 << 20
CPU_IMAGE = 2 * MIB        # the "2 MB image" of the CPU goal
PEAK_IMAGE = 3 * MIB       # three of these for the peak-memory goal
SIZE = "1024x1024"
LATENCY_MS = 1000          # injected OpenAI latency for every cycle
DAYS = 3                   # national days per cycle
POLLS = 60                 # an hour of polls at 60 s, run at 1 s
WAKE_WINDOW_S = 64         # see polls_and_wakeups()
PERF_RUNS = 3
KEY = "sk-bench-openai"
CREDS = {"consumer_key": "bench-ck", "consumer_secret": "bench-cs",
         "token": "bench-token", "token_secret": "bench-ts"}
X_SECRET = json.dumps({"API_KEY": CREDS["consumer_key"],
                       "API_SECRET": CREDS["consumer_secret"],
                       "ACCESS_TOKEN": CREDS["token"],
                       "ACCESS_TOKEN_SECRET": CREDS["token_secret"]})
PROMPT = "A spooky, atmospheric illustration celebrating National "
SHIPPED_CALENDAR = os.path.join(TOP, "conf", "national-days.json")
MONTHS = ("january", "february", "march", "april", "may", "june", "july",
          "august", "september", "october", "november", "december")

CONFIG = """[daemon]
log_level = info

[schedule]
# Only on 29 February at 08:00 UTC and never caught up: no slot fires
# during a bench run.
cron = 0 8 29 2 *
timezone = UTC
catch_up = 0

[calendar]
source = {calendar}

[openai]
base_url = {openai}/v1
model = gpt-image-2
size = {size}
quality = high

[aws]
bucket = {bucket}
table = {table}

[x]
credentials = env:X_CREDENTIALS
api_base_url = {x}
poll_interval = {poll}
"""


# --- small helpers ---------------------------------------------------------

def status(pid, keys=("RssAnon", "VmRSS", "VmHWM")):
    """Fields of /proc/PID/status in KiB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in keys:
                out[k] = int(v.split()[0])
    return out


def switches(pid):
    """(voluntary, involuntary) context switches summed over threads."""
    vol = invol = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        vol += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        invol += int(line.split()[1])
        except FileNotFoundError:
            pass  # a thread that ended meanwhile
    return vol, invol


def summary(values):
    """{"median", "min", "max", "n"} of a list of numbers."""
    return {"median": statistics.median(values), "min": min(values),
            "max": max(values), "n": len(values)}


def slug(name):
    return re.sub(r"[^0-9A-Za-z]", "", name)


def caption(name):
    return "National %s Day! #National%sDay" % (name, slug(name))


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for " + what)
        time.sleep(0.02)


def spawn(argv):
    """A stand-in in its own process, ended with the bench (see
    standin.main); returns a standin.Spawned."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE,
                         preexec_fn=servers._die_with_parent)
    r, _, _ = select.select([p.stdout], [], [], 20)
    m = re.match(r"PORT (\d+)$", p.stdout.readline().decode().strip()
                 if r else "")
    if not m:
        p.kill()
        p.wait()
        raise RuntimeError("%s did not start" % " ".join(argv))
    return standin.Spawned(p, int(m.group(1)), "127.0.0.1")


class Notify:
    """The bench's own $NOTIFY_SOCKET for one daemon."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)

    def wait_ready(self, timeout=10):
        """monotonic time at which READY=1 arrived."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("no READY=1 from spookyd")
            self.sock.settimeout(left)
            msg = self.sock.recv(4096).decode(errors="replace")
            if "READY=1" in msg.split("\n"):
                return time.monotonic()

    def close(self):
        self.sock.close()
        os.unlink(self.path)


# --- the bench ----------------------------------------------------------------

class Bench:
    def __init__(self, tmp, aws, ai, x):
        self.tmp, self.aws, self.ai, self.x = tmp, aws, ai, x
        self.seq = 0
        self.env = dict(os.environ, **aws.env())
        self.env.update(OPENAI_API_KEY=KEY, X_CREDENTIALS=X_SECRET)
        for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
                  "GLIBC_TUNABLES", "MALLOC_ARENA_MAX"):
            self.env.pop(k, None)
        self.r = {}          # figures: name -> summary()
        self.notes = {}      # plain facts for the report
        self.prof = {}
        # --once dates: a calendar of fresh dates with unique names.
        self.once_dates = []
        cal = {}
        start = datetime.date(2031, 1, 1)
        for i in range(80):
            d = start + datetime.timedelta(days=i)
            names = ["Cycle %d %s" % (i, w)
                     for w in ("Lantern", "Cobweb", "Raven")[:DAYS]]
            cal[d.strftime("%m-%d")] = names
            self.once_dates.append((d.isoformat(), names))
        self.empty_date = "2031-12-31"
        self.once_conf = self.config("once", cal)
        self.py_seq = 0

    # -- plumbing --
    def config(self, name, calendar, poll="1h"):
        """Write a config and its calendar ({"MM-DD": [names]}, or a
        path); returns the config's path."""
        if isinstance(calendar, str):
            cal_path = calendar
        else:
            cal = {"Prompt": PROMPT}
            for md, names in calendar.items():
                m, d = md.split("-")
                cal.setdefault(MONTHS[int(m) - 1], {})[str(int(d))] = names
            cal_path = os.path.join(self.tmp, name + ".json")
            with open(cal_path, "w") as f:
                json.dump(cal, f)
        path = os.path.join(self.tmp, name + ".conf")
        with open(path, "w") as f:
            f.write(CONFIG.format(calendar=cal_path, openai=self.ai.url,
                                  size=SIZE, bucket=self.aws.bucket,
                                  table=servers.JOBS_TABLE, x=self.x.url,
                                  poll=poll))
        return path

    def openai(self, **kw):
        self.ai.control.call("POST", "openai/config", kw)

    def warm(self, image_bytes):
        """One request, so the stand-in has drawn the picture (it caches
        one per size) before anything is timed."""
        self.openai(image_bytes=image_bytes, latency_ms=0)
        req = urllib.request.Request(
            self.ai.url + "/v1/images/generations", method="POST",
            data=json.dumps({"model": "gpt-image-2", "prompt": "warm-up",
                             "size": SIZE}).encode(),
            headers={"Authorization": "Bearer " + KEY,
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            resp.read()

    def x_reset(self):
        """Forget the X stand-in's posts: it keeps X's limit of 100 posts
        per 15 minutes, which a whole bench run would pass."""
        self.x.control.reset()

    def posted(self, names):
        texts = {t["text"] for t in self.x.control.call("GET", "x/tweets")}
        return all(caption(n) in texts for n in names)

    def tail(self, name):
        try:
            with open(os.path.join(self.tmp, name + ".stderr")) as f:
                return "".join(f.readlines()[-20:])
        except OSError:
            return ""

    # -- the daemon --
    def start_daemon(self, conf, name):
        """(Popen, seconds from spawn to READY=1)."""
        note = Notify(os.path.join(self.tmp, name + ".notify"))
        env = dict(self.env, NOTIFY_SOCKET=note.path)
        err = open(os.path.join(self.tmp, name + ".stderr"), "w")
        try:
            t0 = time.monotonic()
            p = subprocess.Popen([BIN, "-c", conf, "--log=stderr"], env=env,
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=err)
            try:
                t1 = note.wait_ready()
            except Exception:
                p.kill()
                p.wait()
                raise RuntimeError("%s: no READY=1:\n%s" %
                                   (name, self.tail(name)))
        finally:
            err.close()
            note.close()
        p.bench_name = name
        return p, t1 - t0

    def stop_daemon(self, p):
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = "killed"
        if rc != 0:
            raise RuntimeError("%s exited %s:\n%s" % (p.bench_name, rc,
                                                      self.tail(p.bench_name)))

    # --- 6 and 1: start to READY=1, idle memory ----------------------------
    def ready_and_idle(self):
        """The shipped calendar, a 1 h poll: READY=1 timed from spawn, and
        memory 1 s later, once the start-up poll has been answered."""
        ready, anon, rss = [], [], []
        conf = self.config("idle", SHIPPED_CALENDAR)
        for i in range(READY_RUNS):
            p, t = self.start_daemon(conf, "idle%d" % i)
            time.sleep(1.0)
            st = status(p.pid)
            self.stop_daemon(p)
            ready.append(t * 1000)
            anon.append(st["RssAnon"])
            rss.append(st["VmRSS"])
        self.r["ready_ms"] = summary(ready)
        self.r["idle_anon_kib"] = summary(anon)
        self.r["idle_rss_kib"] = summary(rss)

    # --- 1 and 5: an hour of polls, wake-ups at a 60 s poll ---------------
    def polls_and_wakeups(self):
        """RUNS daemons poll every 1 s for POLLS s (memory growth, wake-ups
        per poll) while RUNS others poll every 60 s and are watched over a
        WAKE_WINDOW_S window holding exactly one poll: polls come at READY,
        54-66 s later (60 s +-10 %), then no sooner than 108 s, so
        [READY + 2 s, READY + 66 s] holds the second and only it.  Side by
        side to keep the bench short; each process counts its own."""
        fast_conf = self.config("fast", SHIPPED_CALENDAR, poll="1s")
        slow_conf = self.config("slow", SHIPPED_CALENDAR, poll="60s")
        fast, slow = [], []
        try:
            for i in range(RUNS):
                slow.append(self.start_daemon(slow_conf, "slow%d" % i)[0])
            t_slow = time.monotonic()
            for i in range(RUNS):
                fast.append(self.start_daemon(fast_conf, "fast%d" % i)[0])
            time.sleep(max(0.0, t_slow + 2 - time.monotonic()))
            base_slow = [switches(p.pid) for p in slow]
            time.sleep(1.0)
            base_fast = [(status(p.pid), switches(p.pid)) for p in fast]
            t0 = time.monotonic()
            time.sleep(POLLS / 2)
            mid_fast = [status(p.pid) for p in fast]
            time.sleep(max(0.0, t0 + POLLS - time.monotonic()))
            end_fast = [(status(p.pid), switches(p.pid)) for p in fast]
            t_fast = time.monotonic() - t0
            time.sleep(max(0.0, t_slow + 2 + WAKE_WINDOW_S
                           - time.monotonic()))
            end_slow = [switches(p.pid) for p in slow]
            t_window = time.monotonic() - t_slow - 2
        finally:
            for p in fast + slow:
                if p.poll() is None:
                    self.stop_daemon(p)
        r = self.r
        r["polled_anon_kib"] = summary([e[0]["RssAnon"] for e in end_fast])
        r["polled_rss_kib"] = summary([e[0]["VmRSS"] for e in end_fast])
        r["poll_growth_anon_kib"] = summary(
            [e[0]["RssAnon"] - b[0]["RssAnon"]
             for b, e in zip(base_fast, end_fast)])
        r["poll_growth_rss_kib"] = summary(
            [e[0]["VmRSS"] - b[0]["VmRSS"]
             for b, e in zip(base_fast, end_fast)])
        r["poll_growth2_anon_kib"] = summary(
            [e[0]["RssAnon"] - m["RssAnon"]
             for m, e in zip(mid_fast, end_fast)])
        r["wakeups_per_poll"] = summary(
            [(e[1][0] - b[1][0]) / t_fast for b, e in zip(base_fast,
                                                          end_fast)])
        r["wakeups_idle_minute"] = summary(
            [e[0] - b[0] for b, e in zip(base_slow, end_slow)])
        r["involuntary_idle_minute"] = summary(
            [e[1] - b[1] for b, e in zip(base_slow, end_slow)])
        self.notes["poll_window_s"] = round(t_fast, 1)
        self.notes["wake_window_s"] = round(t_window, 1)

    # --- 2 and 4: --once cycles, spookyd and the Python flow --------------
    def once(self, date=None, wrap=None, names=None):
        """One `spookyd --once`: a fresh date with DAYS national days, or
        the date given (names: those it must post).  wrap: argv prefix
        (a profiler) whose own cost is not measured."""
        if date is None:
            date, names = self.once_dates.pop(0)
        self.seq += 1
        name = "once%d" % self.seq
        out = os.path.join(self.tmp, name + ".stdout")
        argv = [BIN, "-c", self.once_conf, "--once", "--date", date,
                "--log=stderr"]
        with open(out, "w") as o, \
                open(os.path.join(self.tmp, name + ".stderr"), "w") as e:
            if wrap is not None:
                return wrap(argv), names
            t0 = time.monotonic()
            p = subprocess.Popen(argv, env=self.env, stdin=subprocess.DEVNULL,
                                 stdout=o, stderr=e)
            _, st, ru = os.wait4(p.pid, 0)
            wall = time.monotonic() - t0
            p.returncode = os.waitstatus_to_exitcode(st)
        with open(out) as f:
            lines = f.read().splitlines()
        want = len(names or [])
        if p.returncode != 0 or len(lines) != max(want, 1) or \
                (want and not all(l.endswith(" posted") for l in lines)) or \
                (want and not self.posted(names)):
            raise RuntimeError("spookyd --once %s failed (%s):\n%s\n%s" %
                               (date, p.returncode, "\n".join(lines),
                                self.tail(name)))
        return {"cpu_ms": (ru.ru_utime + ru.ru_stime) * 1000,
                "user_ms": ru.ru_utime * 1000, "sys_ms": ru.ru_stime * 1000,
                "wall_s": wall}

    def reference(self):
        """One run of the Python flow on DAYS fresh names; its own
        figures plus rusage (CPU of the whole process, imports
        included)."""
        self.py_seq += 1
        names = ["Python %d %s" % (self.py_seq, w)
                 for w in ("Lantern", "Cobweb", "Raven")[:DAYS]]
        spec = {"openai_url": self.ai.url + "/v1", "openai_key": KEY,
                "model": "gpt-image-2", "size": SIZE, "quality": "high",
                "s3_url": self.aws.s3_url,
                "dynamodb_url": self.aws.dynamodb_url,
                "region": self.aws.region, "bucket": self.aws.bucket,
                "table": servers.JOBS_TABLE, "x_url": self.x.url,
                "x_creds": CREDS, "date": "2032-01-%02d" % self.py_seq,
                "days": names, "prompt_prefix": PROMPT}
        path = os.path.join(self.tmp, "ref%d.json" % self.py_seq)
        with open(path, "w") as f:
            json.dump(spec, f)
        err_path = os.path.join(self.tmp, "ref%d.stderr" % self.py_seq)
        out_path = os.path.join(self.tmp, "ref%d.stdout" % self.py_seq)
        with open(err_path, "w") as e, open(out_path, "w") as o:
            t0 = time.monotonic()
            p = subprocess.Popen([PYTHON, os.path.join(HERE,
                                                      "reference_flow.py"),
                                  path], env=self.env, stdout=o, stderr=e,
                                 stdin=subprocess.DEVNULL)
            _, st, ru = os.wait4(p.pid, 0)
            wall = time.monotonic() - t0
            p.returncode = os.waitstatus_to_exitcode(st)
        if p.returncode != 0 or not self.posted(names):
            with open(err_path) as f:
                raise RuntimeError("reference flow failed (%s):\n%s"
                                   % (p.returncode, f.read()[-3000:]))
        with open(out_path) as f:
            res = json.load(f)
        res.update(cpu_ms=(ru.ru_utime + ru.ru_stime) * 1000,
                   user_ms=ru.ru_utime * 1000, sys_ms=ru.ru_stime * 1000,
                   wall_s=wall)
        return res

    def cycles(self):
        """RUNS pairs of cycles (spookyd, then Python) with 2 MiB images at
        1 s latency, RUNS pairs at no latency (what the latency costs each
        is the difference), and RUNS empty --once runs (a date without
        national days: the fixed cost of a process)."""
        self.openai(image_bytes=CPU_IMAGE, latency_ms=LATENCY_MS)
        ours, ref = [], []
        for _ in range(RUNS):
            self.x_reset()
            ours.append(self.once())
            ref.append(self.reference())
        self.openai(latency_ms=0)
        ours0, ref0 = [], []
        for _ in range(RUNS):
            self.x_reset()
            ours0.append(self.once())
            ref0.append(self.reference())
        empty = [self.once(self.empty_date) for _ in range(RUNS)]
        r = self.r
        for key, runs in (("once", ours), ("ref", ref)):
            for f in ("cpu_ms", "user_ms", "sys_ms", "wall_s"):
                r["%s_%s" % (key, f)] = summary([o[f] for o in runs])
        r["once_wall0_s"] = summary([o["wall_s"] for o in ours0])
        r["ref_wall0_s"] = summary([o["wall_s"] for o in ref0])
        r["once_latency_s"] = summary([a["wall_s"] - b["wall_s"]
                                      for a, b in zip(ours, ours0)])
        r["ref_latency_s"] = summary([a["wall_s"] - b["wall_s"]
                                     for a, b in zip(ref, ref0)])
        r["empty_cpu_ms"] = summary([o["cpu_ms"] for o in empty])
        r["cpu_per_image_ms"] = summary([o["cpu_ms"] / DAYS for o in ours])
        fixed = r["empty_cpu_ms"]["median"]
        r["cpu_per_image_marginal_ms"] = summary(
            [(o["cpu_ms"] - fixed) / DAYS for o in ours])
        r["ref_flow_cpu_ms"] = summary([o["flow_cpu_s"] * 1000 for o in ref])
        r["ref_flow_user_ms"] = summary([o["flow_user_s"] * 1000
                                         for o in ref])
        r["ref_flow_sys_ms"] = summary([o["flow_sys_s"] * 1000 for o in ref])
        r["ref_flow_wall_s"] = summary([o["flow_wall_s"] for o in ref])
        r["ref_setup_cpu_ms"] = summary([o["setup_cpu_s"] * 1000
                                         for o in ref])
        r["ref_idle_anon_kib"] = summary([o["idle"]["RssAnon"] for o in ref])
        r["ref_idle_rss_kib"] = summary([o["idle"]["VmRSS"] for o in ref])
        r["ref_peak_hwm_kib"] = summary([o["peak"]["VmHWM"] for o in ref])
        r["ratio_cpu"] = summary([b["cpu_ms"] / a["cpu_ms"]
                                  for a, b in zip(ours, ref)])
        r["ratio_cpu_flow"] = summary([b["flow_cpu_s"] * 1000 / a["cpu_ms"]
                                       for a, b in zip(ours, ref)])
        r["ratio_wall"] = summary([b["wall_s"] / a["wall_s"]
                                   for a, b in zip(ours, ref)])

    # --- 3: peak memory, three 3 MiB pictures in flight -------------------
    def peak(self):
        """A daemon per run; SIGUSR1 runs the generate step for today (UTC)
        with DAYS fresh national days, whose posts follow; VmHWM then, less
        VmRSS 1 s after READY."""
        self.openai(image_bytes=PEAK_IMAGE, latency_ms=LATENCY_MS)
        idle, hwm, after = [], [], []
        for i in range(RUNS):
            now = datetime.datetime.now(datetime.timezone.utc)
            names = ["Peak %d %s" % (i, w)
                     for w in ("Lantern", "Cobweb", "Raven")[:DAYS]]
            # Tomorrow too, in case midnight passes before SIGUSR1.
            cal = {d.strftime("%m-%d"): names
                   for d in (now, now + datetime.timedelta(days=1))}
            self.x_reset()
            p, _ = self.start_daemon(self.config("peak%d" % i, cal),
                                     "peak%d" % i)
            try:
                time.sleep(1.0)
                st = status(p.pid)
                p.send_signal(signal.SIGUSR1)
                try:
                    wait_until(lambda: self.posted(names), 60,
                               "the posts of run %d" % i)
                except RuntimeError as e:
                    raise RuntimeError("%s:\n%s" % (e, self.tail(p.bench_name)))
                time.sleep(0.5)  # the last job-table writes
                end = status(p.pid)
            finally:
                self.stop_daemon(p)
            idle.append(st["VmRSS"])
            hwm.append(end["VmHWM"])
            after.append(end["VmRSS"])
        r = self.r
        r["peak_idle_rss_kib"] = summary(idle)
        r["peak_hwm_kib"] = summary(hwm)
        r["peak_over_idle_kib"] = summary([h - i for h, i in zip(hwm, idle)])
        r["after_cycle_rss_kib"] = summary(after)

    # --- 2: where the CPU goes ----------------------------------------------
    def profiles(self):
        """perf (native, kernel included) over PERF_RUNS cycles, and
        callgrind over one when perf has no instruction counter (the brief's
        rule); same 2 MiB images, no latency (it costs no CPU)."""
        self.openai(image_bytes=CPU_IMAGE, latency_ms=0)
        event = cpuprof.perf_event()
        self.prof["perf_event"] = event
        self.prof["tls"] = tls_estimate()
        if event is not None:
            total, counts = 0, {}
            for i in range(PERF_RUNS):
                self.x_reset()
                data = os.path.join(self.tmp, "perf%d.data" % i)
                rc, names = self.once(wrap=lambda argv: cpuprof.perf_record(
                    argv, data, event, self.env))
                if rc != 0 or not self.posted(names):
                    raise RuntimeError("spookyd under perf failed")
                c, t = cpuprof.perf_samples(data)
                total += t
                for k, v in c.items():
                    counts[k] = counts.get(k, 0) + v
            self.prof["perf"] = {k: v / total for k, v in counts.items()}
        if event != "instructions" and shutil.which("valgrind"):
            self.x_reset()
            out = os.path.join(self.tmp, "callgrind.out")
            rc, names = self.once(wrap=lambda argv: cpuprof.callgrind_record(
                argv, out, self.env))
            if rc != 0 or not self.posted(names):
                raise RuntimeError("spookyd under callgrind failed")
            c, t = cpuprof.callgrind_categories(out)
            self.prof["callgrind"] = {k: v / t for k, v in c.items()}
            self.prof["callgrind_total"] = t
            self.prof["callgrind_top"] = cpuprof.top_functions(out)


def tls_estimate():
    """(AES-128-GCM bytes per second here, ms per image) or None: the
    stand-ins speak plain HTTP, so TLS is estimated, not measured.  Each
    image crosses TLS four times: the base64 answer (4/3 of it), the S3
    PUT, the S3 GET and the X upload."""
    if shutil.which("openssl") is None:
        return None
    r = subprocess.run(["openssl", "speed", "-evp", "aes-128-gcm", "-bytes",
                        "16384", "-seconds", "1"], capture_output=True,
                       text=True)
    m = re.search(r"AES-128-GCM\s+([\d.]+)k", r.stdout, re.I)
    if r.returncode != 0 or not m:
        return None
    rate = float(m.group(1)) * 1000
    return rate, (4 / 3 + 3) * CPU_IMAGE / rate * 1000


# --- the report ---------------------------------------------------------------

GOALS = [
    # (figure, at most / at least, limit, unit, words)
    ("idle_anon_kib", "<=", 2048, "KiB", "idle RssAnon <= 2 MiB"),
    ("idle_rss_kib", "<=", 12288, "KiB", "idle VmRSS <= 12 MiB"),
    ("poll_growth_rss_kib", "<=", 0, "KiB",
     "no growth over an hour of polls (VmRSS)"),
    ("cpu_per_image_ms", "<=", 15, "ms", "CPU per 2 MiB image <= 15 ms"),
    ("ratio_cpu", ">=", 20, "x", "--once CPU >= 20x less than Python"),
    ("peak_over_idle_kib", "<=", 13.5 * 1024, "KiB",
     "peak - idle <= 1.5 x 3 x 3 MiB = 13.5 MiB"),
    ("once_wall_s", "<=", 1.3, "s", "3 x 1 s latency cycle <= 1.3 s"),
    ("wakeups_idle_minute", "<=", 3, "", "<= 3 wake-ups per idle minute"),
    ("ready_ms", "<=", 50, "ms", "READY=1 <= 50 ms after start"),
]

ROWS = [
    # (figure, label, unit, scale)
    ("ready_ms", "start to READY=1 (shipped calendar)", "ms", 1),
    ("idle_anon_kib", "idle RssAnon, 1 s after READY", "MiB", 1 / 1024),
    ("idle_rss_kib", "idle VmRSS, 1 s after READY", "MiB", 1 / 1024),
    ("polled_anon_kib", "RssAnon after 60 polls (1 s poll)", "MiB",
     1 / 1024),
    ("polled_rss_kib", "VmRSS after 60 polls (1 s poll)", "MiB", 1 / 1024),
    ("poll_growth_anon_kib", "RssAnon growth over 60 polls", "KiB", 1),
    ("poll_growth_rss_kib", "VmRSS growth over 60 polls", "KiB", 1),
    ("poll_growth2_anon_kib", "  RssAnon growth over polls 30-60", "KiB",
     1),
    ("wakeups_idle_minute", "wake-ups per idle minute, 60 s poll", "", 1),
    ("involuntary_idle_minute", "  involuntary switches, same window", "",
     1),
    ("wakeups_per_poll", "  wake-ups per poll (1 s poll)", "", 1),
    ("once_cpu_ms", "--once CPU, 3 x 2 MiB, user+sys", "ms", 1),
    ("once_user_ms", "  of which user", "ms", 1),
    ("once_sys_ms", "  of which sys", "ms", 1),
    ("empty_cpu_ms", "--once CPU, date without national days", "ms", 1),
    ("cpu_per_image_ms", "CPU per posted 2 MiB image (cycle / 3)", "ms", 1),
    ("cpu_per_image_marginal_ms", "  same, less the empty run", "ms", 1),
    ("once_wall_s", "--once wall, 3 days, 1 s OpenAI latency", "s", 1),
    ("once_wall0_s", "--once wall, no latency", "s", 1),
    ("once_latency_s", "  what the 3 x 1 s latency added", "s", 1),
    ("peak_idle_rss_kib", "daemon VmRSS before the 3 x 3 MiB run", "MiB",
     1 / 1024),
    ("peak_hwm_kib", "daemon VmHWM, 3 x 3 MiB in flight", "MiB", 1 / 1024),
    ("peak_over_idle_kib", "  peak - idle", "MiB", 1 / 1024),
    ("after_cycle_rss_kib", "  VmRSS once the run is over", "MiB", 1 / 1024),
    ("ref_cpu_ms", "Python flow CPU, whole process", "ms", 1),
    ("ref_setup_cpu_ms", "  of which imports and clients", "ms", 1),
    ("ref_flow_cpu_ms", "  of which the flow (user+sys)", "ms", 1),
    ("ref_flow_sys_ms", "    of which sys", "ms", 1),
    ("ref_wall_s", "Python flow wall, whole process", "s", 1),
    ("ref_wall0_s", "Python flow wall, no latency", "s", 1),
    ("ref_latency_s", "  what the 3 x 1 s latency added", "s", 1),
    ("ref_idle_anon_kib", "Python idle RssAnon (boto3 loaded)", "MiB",
     1 / 1024),
    ("ref_idle_rss_kib", "Python idle VmRSS (boto3 loaded)", "MiB",
     1 / 1024),
    ("ref_peak_hwm_kib", "Python VmHWM over a 3 x 2 MiB cycle", "MiB",
     1 / 1024),
]


def fmt(v, scale=1):
    v = v * scale
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.2f" % v


def ratios(r):
    """(label, median, min, max) of each ratio."""
    out = []
    for key, label in (("ratio_cpu", "CPU, whole process: Python / spookyd"),
                       ("ratio_cpu_flow", "CPU, Python's flow alone (no "
                        "imports) / spookyd's whole process"),
                       ("ratio_wall", "wall, 1 s latency: Python / spookyd")):
        if key in r:
            s = r[key]
            out.append((label, s["median"], s["min"], s["max"]))
    for ours, theirs, label in (
            ("idle_rss_kib", "ref_idle_rss_kib",
             "idle VmRSS: Python with boto3 / spookyd"),
            ("idle_anon_kib", "ref_idle_anon_kib",
             "idle RssAnon: Python with boto3 / spookyd"),
            ("once_latency_s", "ref_latency_s",
             "latency cost: Python / spookyd")):
        if ours in r and theirs in r:
            a, b = r[ours], r[theirs]
            out.append((label, b["median"] / a["median"],
                        b["min"] / a["max"], b["max"] / a["min"]))
    return out


def goal_lines(r):
    out = []
    for key, op, limit, unit, words in GOALS:
        if key not in r:
            continue
        v = r[key]["median"]
        ok = v <= limit if op == "<=" else v >= limit
        shown = "%s MiB" % fmt(v / 1024) if unit == "KiB" and abs(v) > 1024 \
            else "%s %s" % (fmt(v), unit)
        out.append((words, shown.strip(), "met" if ok else "MISSED"))
    return out


def table(r):
    lines = ["| figure | median | min - max | n |", "|---|---:|---:|---:|"]
    for key, label, unit, scale in ROWS:
        if key not in r:
            continue
        s = r[key]
        lines.append("| %s | %s %s | %s - %s | %d |" % (
            label, fmt(s["median"], scale), unit, fmt(s["min"], scale),
            fmt(s["max"], scale), s["n"]))
    return lines


def profile_lines(prof, r):
    lines = []
    per_image = r.get("cpu_per_image_ms", {}).get("median")
    if "perf" in prof:
        lines += ["", "perf (%s sampling, DWARF stacks, %d cycles; ms per "
                  "image = share x the measured CPU per image):" % (
                      prof["perf_event"], PERF_RUNS), "",
                  "| where | share | ms / image |", "|---|---:|---:|"]
        for k, v in sorted(prof["perf"].items(), key=lambda kv: -kv[1]):
            if v >= 0.005:
                lines.append("| %s | %.1f %% | %s |" % (
                    k, v * 100, fmt(v * per_image) if per_image else "-"))
    if "callgrind" in prof:
        lines += ["", "callgrind (user-space instructions of one cycle, "
                  "%.0f M in all; no SHA-NI under valgrind):" % (
                      prof["callgrind_total"] / 1e6), "",
                  "| where | share of instructions |", "|---|---:|"]
        for k, v in sorted(prof["callgrind"].items(), key=lambda kv: -kv[1]):
            if v >= 0.005:
                lines.append("| %s | %.1f %% |" % (k, v * 100))
        lines += ["", "Top functions (self, callgrind):", ""]
        for ir, fn, obj in prof["callgrind_top"]:
            lines.append("- %s (%s): %.1f M" % (fn, obj or "spookyd",
                                                 ir / 1e6))
    return lines


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    rev = subprocess.run(["git", "-C", TOP, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", TOP, "status", "--porcelain",
                            "--untracked-files=no"], capture_output=True,
                           text=True).stdout.strip()
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    return {"nproc": os.cpu_count(), "cpu": model,
            "kernel": platform.release(), "loadavg_at_start": load,
            "commit": rev + ("+changes" if dirty else "")}


def report(b, mach, started, seconds):
    r = b.r
    head = ["# spookyd benchmark, %s" % started.strftime("%Y-%m-%d %H:%M UTC"),
            "",
            "Machine: %d cores, %s, kernel %s; load average at start %s; "
            "commit %s.  spookyd built -O2 -g (build/default).  %d s in "
            "all." % (mach["nproc"], mach["cpu"], mach["kernel"],
                      " ".join(mach["loadavg_at_start"]), mach["commit"],
                      seconds),
            "",
            "Stand-ins: s3rver and dynalite behind the SigV4-checking proxy, "
            "OpenAI and X stand-ins (plain HTTP on 127.0.0.1, so no TLS is "
            "measured); PNGs of %d MiB (CPU, wall) and %d MiB (peak); %d ms "
            "of OpenAI latency unless said otherwise; %d national days per "
            "cycle.  Each figure: median of n runs, with min - max." % (
                CPU_IMAGE // MIB, PEAK_IMAGE // MIB, LATENCY_MS, DAYS),
            ""]
    lines = head + table(r)
    lines += ["", "Ratios (median of per-pair ratios; idle memory and "
              "latency: ratio of medians, min - max from the extremes):", "",
              "| ratio | median | min - max |", "|---|---:|---:|"]
    for label, med, lo, hi in ratios(r):
        lines.append("| %s | %.1f x | %.1f - %.1f |" % (label, med, lo, hi))
    lines += ["", "Goals (reported, not enforced):", "",
              "| goal | median | |", "|---|---:|---|"]
    for words, val, verdict in goal_lines(r):
        lines.append("| %s | %s | %s |" % (words, val, verdict))
    lines += ["", "How: READY=1 is timed from spawn to the datagram on the "
              "bench's NOTIFY_SOCKET.  Idle memory is read 1 s after READY, "
              "once the start-up poll has been answered.  The hour of polls "
              "is %s s at poll_interval = 1s.  Wake-ups are voluntary "
              "context switches (all threads, /proc/PID/task/*/status) of a "
              "daemon at poll_interval = 60s over a %s s window that holds "
              "exactly one poll (polls come at READY, then 54-66 s later): "
              "not scaled down, so an upper bound for a minute.  CPU is "
              "user+sys of the child from wait4().  The peak run is a "
              "daemon sent SIGUSR1 (generate step for today, then posts); "
              "peak = VmHWM." % (b.notes.get("poll_window_s", "-"),
                                 b.notes.get("wake_window_s", "-"))]
    lines += profile_lines(b.prof, r)
    tls = b.prof.get("tls")
    if tls:
        lines += ["", "TLS, not measured (the stand-ins speak plain HTTP): "
                  "AES-128-GCM runs at %.1f GB/s here (openssl speed), so the "
                  "%.1f MB a %d MiB image crosses TLS (base64 answer, S3 PUT "
                  "and GET, X upload) would add about %.1f ms per image." % (
                      tls[0] / 1e9, (4 / 3 + 3) * CPU_IMAGE / 1e6,
                      CPU_IMAGE // MIB, tls[1])]
    return lines


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit("make bench: %s is not built" % BIN)
    why = servers.missing_node()
    if why:
        sys.exit("make bench: " + why)
    started = datetime.datetime.now(datetime.timezone.utc)
    mach = machine()
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="spookyd-bench-")
    only = os.environ.get("BENCH_ONLY")
    ai = x = None
    try:
        with servers.AwsServers(secrets=False, imds=False) as aws:
            aws.create_jobs_table()
            ai = spawn([PYTHON, os.path.join(LIB, "openai_standin.py"),
                        "--api-key", KEY])
            x = spawn([PYTHON, os.path.join(LIB, "x_standin.py"),
                       "--consumer-key", CREDS["consumer_key"],
                       "--consumer-secret", CREDS["consumer_secret"],
                       "--token", CREDS["token"],
                       "--token-secret", CREDS["token_secret"]])
            b = Bench(tmp, aws, ai, x)
            for n in (PEAK_IMAGE, CPU_IMAGE):
                b.warm(n)
            steps = [("ready", b.ready_and_idle), ("cycles", b.cycles),
                     ("peak", b.peak), ("profile", b.profiles),
                     ("polls", b.polls_and_wakeups)]
            for name, fn in steps:
                if only and name not in only.split(","):
                    continue
                t = time.monotonic()
                print("bench: %s ..." % name, flush=True)
                fn()
                print("bench: %s done in %.0f s" % (
                    name, time.monotonic() - t), flush=True)
    finally:
        for s in (ai, x):
            if s is not None:
                s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    seconds = time.monotonic() - t0
    lines = report(b, mach, started, seconds)
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    if not only:
        path = os.path.join(HERE, "results-%s.md" %
                            started.strftime("%Y-%m-%d"))
        with open(path, "w") as f:
            f.write(text)
            f.write("\nRaw figures (JSON):\n\n```json\n%s\n```\n" %
                    json.dumps({"machine": mach, "figures": b.r,
                                "profile": b.prof}, indent=1,
                               sort_keys=True))
        print("bench: wrote %s" % os.path.relpath(path, TOP))


if __name__ == "__main__":
    main()
