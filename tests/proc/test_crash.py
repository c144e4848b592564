"""Crashes and concurrency over the whole pipeline on local stand-ins:
kill -9 at random moments of --once and of the daemon, restart, repeat;
two daemons on one table and bucket; 100 SIGHUPs during a cycle; a
broken config on SIGHUP; rotated secrets picked up by a reload.  After
each: no job lost (all posted after a final settling run), no duplicate
tweet, every S3 object referenced by an item.

Seeds: 5 (2 under valgrind); PROOF=1 (make proof) runs 20, or
PROOF_SEEDS=n.  Every seed's kill moments are printed, so a failing one
can be run again alone: CRASH_SEED=n."""
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import pipeline  # noqa: E402
from pipeline import (DaemonScenario, Stack, TERMINAL, X,  # noqa: E402
                      proof_mode, sane_exit)
from spookyd import SLOW, WRAPPER, check, run_tests  # noqa: E402

# Slow every call a little so that kills land inside each step.
OPENAI_LATENCY_MS = 300
X_DELAY_MS = 100


def seeds():
    if os.environ.get("CRASH_SEED"):
        return [int(os.environ["CRASH_SEED"])]
    n = int(os.environ.get("PROOF_SEEDS") or (20 if proof_mode() else 5))
    if WRAPPER and not proof_mode():
        n = 2
    return list(range(1, n + 1))


def slow_x(s):
    s.x.set_faults([{"match": {"method": "POST"}, "action": "delay",
                     "delay_ms": X_DELAY_MS}])


def test_kill_9_once_at_random_moments(tmp):
    with Stack(tmp, days=2, openai_latency_ms=OPENAI_LATENCY_MS) as s:
        slow_x(s)
        cal, _ = s.new_date()
        t0 = time.monotonic()
        sane_exit(s.once(cal))
        cycle = time.monotonic() - t0
        s.check_posted_once(cal)
        total_kills = 0
        for seed in seeds():
            rng = random.Random(seed)
            date, jobs = s.new_date()
            moments = [round(rng.uniform(0.02, cycle * 1.1), 3)
                       for _ in range(rng.randint(1, 3))]
            for at in moments:
                r = s.once(date, kill_after=at)
                check(r.rc in (-9, 0, 1), r)
                total_kills += r.rc == -9
            settle = [s.once(date) for _ in range(2)]
            for r in settle:
                sane_exit(r)
            try:
                s.check_posted_once(date, jobs)
                s.check_objects_referenced()
            except AssertionError as e:
                raise AssertionError("seed %d, kills at %r s: %s\n%r"
                                     % (seed, moments, e, settle))
            print("    seed %2d: kill -9 at %s s -> %d jobs posted once, "
                  "%d billed images" % (seed, moments, len(jobs),
                                        len(s.openai_calls(date))),
                  flush=True)
        print("    --once: %d seeds, %d kills landed, cycle %.2f s"
              % (len(seeds()), total_kills, cycle))
        check(total_kills >= len(seeds()) // 2, "the kills came too late")


def test_kill_9_daemon_at_random_moments(tmp):
    with Stack(tmp, days=2, openai_latency_ms=OPENAI_LATENCY_MS) as s:
        slow_x(s)
        with DaemonScenario(s, "calibrate", days=2) as ds:
            t0 = time.monotonic()
            ds.run_today()
            ds.wait_final()
            cycle = time.monotonic() - t0
            ds.check_posted_once()
        resumed = 0
        for seed in seeds():
            rng = random.Random(seed)
            tag = "crash%d" % seed
            moments = []
            # The first daemon of the seed starts today's run (SIGUSR1)
            # and is killed; later ones find the dead run's leases with
            # the poller and are killed too; the last one settles.
            with DaemonScenario(s, tag, days=2) as ds:
                ds.run_today()
                at = rng.uniform(0.02, cycle * 1.1)
                time.sleep(at)
                ds.d.kill()
                moments.append(round(at, 3))
                conf = ds.conf
            for _ in range(rng.randint(0, 2)):
                at = rng.uniform(0.02, cycle * 1.1)
                d = pipeline.Daemon(s, conf)
                time.sleep(at)
                d.kill()
                moments.append(round(at, 3))
            ds2 = DaemonScenario.reuse(ds)
            with ds2:
                if len(ds2.status()) < len(ds2.names):
                    # killed before every job was claimed: only the next
                    # run (a slot, a catch-up, SIGUSR1) can make the rest
                    ds2.run_today()
                else:
                    resumed += 1  # the poller alone finishes the jobs
                try:
                    ds2.wait_final(timeout=60)
                    ds2.check_posted_once()
                    s.check_objects_referenced()
                except AssertionError as e:
                    raise AssertionError("seed %d, kills at %r s: %s"
                                         % (seed, moments, e))
            print("    seed %2d: daemon kill -9 at %s s -> posted once"
                  % (seed, moments), flush=True)
        print("    daemon: %d seeds, %d finished by the poller alone, "
              "cycle %.2f s" % (len(seeds()), resumed, cycle))


def test_two_daemons_one_table_and_bucket(tmp):
    with Stack(tmp, days=3, openai_latency_ms=OPENAI_LATENCY_MS) as s, \
            DaemonScenario(s, "twins", days=3) as a, \
            DaemonScenario.reuse(a, name="twins-b") as b:
        a.run_today()
        b.run_today()
        a.wait_final()
        time.sleep(1.5 * SLOW)  # both pollers have looked once more
        a.check_posted_once()
        calls = s.openai_calls_named(a.names)
        check(len(calls) == 3, "%d images for 3 jobs: %r" % (len(calls),
                                                             calls))
        posts = [e for e in s.x.log() if e["path"] == "/2/tweets"]
        check(len(a.tweets()) == 3 and len(posts) == 3, posts)
        for d in (a, b):
            check("ready" in d.d.stderr() and d.d.alive())


def test_hundred_sighups_during_a_cycle(tmp):
    with Stack(tmp, days=3, openai_latency_ms=OPENAI_LATENCY_MS) as s, \
            DaemonScenario(s, "hups", days=3) as ds:
        slow_x(s)
        since = time.monotonic()
        ds.run_today()
        for _ in range(100):
            ds.d.signal(signal.SIGHUP)
            time.sleep(0.01)
        ds.wait_final()
        ds.d.wait_stderr("reload accepted")
        ds.check_alive(since)
        ds.check_posted_once()
        ds.wait_ready_again()
        n = ds.d.stderr().count("reload accepted")
        print("    100 SIGHUPs: %d reloads ran" % n)


def test_sighup_with_a_broken_config_is_refused_and_posting_goes_on(tmp):
    with Stack(tmp, days=2, openai_latency_ms=OPENAI_LATENCY_MS) as s, \
            DaemonScenario(s, "broken", days=2) as ds:
        slow_x(s)
        good = open(ds.conf).read()
        ds.run_today()
        with open(ds.conf, "a") as f:
            f.write("\n[x]\nmax_attempts = many\n")
        ds.d.signal(signal.SIGHUP)
        ds.d.wait_stderr("reload refused")
        err = ds.d.stderr()
        check("%s:" % ds.conf in err and "max_attempts" in err, err)
        ds.wait_final()
        ds.check_posted_once()
        with open(ds.conf, "w") as f:
            f.write(good)
        ds.d.signal(signal.SIGHUP)
        ds.d.wait_stderr("reload accepted")


def test_rotated_secrets_are_used_after_sighup(tmp):
    with Stack(tmp) as s, DaemonScenario(s, "rotate") as ds:
        old_x = dict(s.x_creds)
        new_x = dict(old_x, consumer_secret="cs-rotated-" + os.urandom(8)
                     .hex(), token_secret="ts-rotated-" + os.urandom(8)
                     .hex())
        new_key = "sk-rotated-" + os.urandom(8).hex()
        s.aws.secrets.put_secret("spookyd/x", string=s.x_secret(new_x))
        s.aws.secrets.put_secret("spookyd/openai", string=new_key)
        s.x.oauth = X.oauth_for(new_x)
        s.ai.api_key = new_key
        # The stand-ins now refuse what the daemon holds.
        check(post_status(s, old_x) == 401 and post_status(s, new_x) == 201,
              "the X stand-in is not strict about credentials")
        ds.d.signal(signal.SIGHUP)
        ds.d.wait_stderr("reload accepted")
        ds.run_today()
        ds.wait_final()
        ds.check_posted_once()
        fails = [f for f in s.x.auth_failures() if f["path"] == "/2/tweets"
                 and f["time"] > 0 and "nonce" not in f["reason"]]
        check(len(fails) == 1, fails)  # the old-credential probe only
        check([c["status"] for c in s.openai_calls_named(ds.names,
                                                          billed=False)]
              == [200], "OpenAI saw the old key")


def post_status(s, creds):
    """Status of a post signed with creds (oauthlib), not by spookyd."""
    import json
    import urllib.error
    import urllib.request
    from oauthlib.oauth1 import Client
    c = Client(creds["consumer_key"], creds["consumer_secret"],
               creds["token"], creds["token_secret"])
    url, headers, _ = c.sign(s.x.url + "/2/tweets", http_method="POST",
                             headers={"Content-Type": "application/json"})
    req = urllib.request.Request(url, method="POST", headers=headers,
                                 data=json.dumps(
                                     {"text": "probe " + os.urandom(4)
                                      .hex()}).encode())
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


if __name__ == "__main__":
    run_tests(globals())
