"""The whole pipeline with the tweet step, against real local S3 and
DynamoDB servers (behind a SigV4 verifier), the OpenAI stand-in and an X
stand-in that checks OAuth 1.0a with oauthlib: one post per job, exactly
once, whatever crashes or runs twice."""
import contextlib
import datetime
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import openai_standin  # noqa: E402
import servers  # noqa: E402
import x_standin  # noqa: E402
from spookyd import (SLOW, Daemon, NotifySocket, Skip, check,  # noqa
                     command, daemon_env, run_tests, write_config)

DATE = "2026-10-30"
CALENDAR = json.dumps({"october": {"30": [
    "Candy Corn", "Don't Cry Over Spilled Milk", "Pi\u00f1a Colada"]}})
JOB_IDS = ["2026-10-30_0_CandyCorn", "2026-10-30_1_DontCryOverSpilledMilk",
           "2026-10-30_2_Pi\u00f1aColada"]
CAPTIONS = ["National Candy Corn Day! #NationalCandyCornDay",
            "National Don't Cry Over Spilled Milk Day! "
            "#NationalDontCryOverSpilledMilkDay",
            "National Pi\u00f1a Colada Day! #NationalPi\u00f1aColadaDay"]
KEY = "sk-test-tweet"
CREDS = {"consumer_key": "ck-test", "consumer_secret": "cs-test",
         "token": "tok-test", "token_secret": "ts-test"}


def x_secret(consumer_secret="cs-test"):
    return json.dumps({"API_KEY": "ck-test", "API_SECRET": consumer_secret,
                       "ACCESS_TOKEN": "tok-test",
                       "ACCESS_TOKEN_SECRET": "ts-test",
                       "BEARER_TOKEN": "ignored"})


@contextlib.contextmanager
def stack(tmp, review="no", secret=None, latency_ms=0, extra=None,
          calendar=CALENDAR):
    why = servers.missing_node()
    if why:
        raise Skip(why)
    with servers.AwsServers(secrets=False, imds=False) as aws, \
            openai_standin.OpenAIStandIn(api_key=KEY) as ai, \
            x_standin.XStandIn(CREDS) as x:
        aws.create_jobs_table()
        ai.configure(latency_ms=latency_ms)
        cfg = {
            "aws": {"bucket": aws.bucket, "table": servers.JOBS_TABLE},
            "openai": {"base_url": ai.url + "/v1"},
            "x": {"review": review, "api_base_url": x.url,
                  "credentials": "env:X_CREDENTIALS", "max_attempts": "3"},
        }
        for sec, kv in (extra or {}).items():
            cfg.setdefault(sec, {}).update(kv)
        conf = write_config(tmp, cfg, calendar=calendar)
        env = daemon_env(aws.env())
        env["OPENAI_API_KEY"] = KEY
        env["X_CREDENTIALS"] = secret or x_secret()
        yield aws, ai, x, conf, env


def spookyd(conf, env, *args, wait=True):
    p = subprocess.Popen(command("-c", conf, "--log=stderr", *args),
                         env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         errors="backslashreplace")
    if not wait:
        return p
    out, err = p.communicate(timeout=120)
    return p.returncode, out, err


def once(conf, env, **kw):
    return spookyd(conf, env, "--once", "--date", DATE, **kw)


def items(aws):
    got = aws.client("dynamodb").scan(TableName=servers.JOBS_TABLE,
                                      ConsistentRead=True)
    return {i["job_id"]["S"]: i for i in got["Items"]}


def s3_sha(aws, key):
    body = aws.client("s3").get_object(Bucket=aws.bucket, Key=key)
    return hashlib.sha256(body["Body"].read()).hexdigest()


def check_posted_once(aws, x):
    """Every job posted, one tweet each, its media the S3 object."""
    tweets = x.tweets()
    check(sorted(t["text"] for t in tweets) == sorted(CAPTIONS),
          [t["text"] for t in tweets])
    its = items(aws)
    by_text = {t["text"]: t for t in tweets}
    for job, caption in zip(JOB_IDS, CAPTIONS):
        it = its[job]
        check(it["status"]["S"] == "posted", it)
        t = by_text[caption]
        check(len(t["media"]) == 1, t)
        check(t["media"][0]["sha256"] == s3_sha(aws, it["s3_key"]["S"]),
              "posted media is not the S3 object")
        check(t["media"][0]["alt_text"] ==
              "A spooky illustration celebrating National %s Day." %
              it["national_day"]["S"], t)
        if "tweet_id" in it:
            check(it["tweet_id"]["S"] == t["id"], (it, t))
        check(it["caption"]["S"] == caption, it)
    return its


def post_behind_our_back(base, text):
    """POST /2/tweets as another client would, signed with oauthlib."""
    import urllib.request
    from oauthlib.oauth1 import Client
    c = Client(CREDS["consumer_key"], CREDS["consumer_secret"],
               CREDS["token"], CREDS["token_secret"])
    url, headers, _ = c.sign(base + "/2/tweets", http_method="POST",
                             headers={"Content-Type": "application/json"})
    body = json.dumps({"text": text}).encode()
    req = urllib.request.Request(url, data=body, headers=headers,
                                 method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        check(r.status == 201, r.status)


def test_once_posts_every_job_once(tmp):
    with stack(tmp) as (aws, ai, x, conf, env):
        rc, out, err = once(conf, env)
        check(rc == 0, out + err)
        check(out.splitlines() == ["%s posted" % j for j in JOB_IDS], out)
        its = check_posted_once(aws, x)
        check(all("tweet_id" in v and "media_id" in v and "posted_at" in v
                  for v in its.values()), its)
        for secret in ("cs-test", "ts-test", KEY):
            check(secret not in err, "secret in the log")
        # Run again: nothing new anywhere.
        rc, out, err = once(conf, env)
        check(rc == 0, out + err)
        check(len(x.tweets()) == 3 and len(ai.calls()) == 3,
              "second run posted or generated again")


def test_post_spacing_keeps_posts_apart(tmp):
    spacing = {"x": {"post_spacing": "2s"}}
    with stack(tmp, extra=spacing) as (aws, ai, x, conf, env):
        rc, out, err = once(conf, env)
        check(rc == 0, out + err)
        check_posted_once(aws, x)
        times = sorted(t["time"] for t in x.tweets())
        gaps = [b - a for a, b in zip(times, times[1:])]
        # A lower bound the code promises, not a speed goal.
        check(all(g >= 1.9 for g in gaps), gaps)


def test_rate_limit_waits_and_posts_once(tmp):
    with stack(tmp) as (aws, ai, x, conf, env):
        x.script([{"kind": "rate_limit", "path": "/2/tweets",
                   "reset_in_s": 2}])
        rc, out, err = once(conf, env)
        check(rc == 0, out + err)
        check("X rate limit: posting again in" in err, err)
        limited = [r for r in x.log() if r["path"] == "/2/tweets" and
                   r.get("status") == 429]
        check(len(limited) == 1, x.log())
        its = check_posted_once(aws, x)
        # Waiting out the limit is not an attempt.
        check(all(v["post_attempts"]["N"] == "1" for v in its.values()),
              its)


def test_upload_rate_limit_reads_the_image_again(tmp):
    # The image is freed once X's upload body holds it, so an upload that
    # must wait reads it from S3 again, and still posts exactly once.
    with stack(tmp) as (aws, ai, x, conf, env):
        x.script([{"kind": "rate_limit", "path": "/2/media/upload",
                   "reset_in_s": 2}])
        rc, out, err = once(conf, env)
        check(rc == 0, out + err)
        check("X rate limit: posting again in" in err, err)
        # (before check_posted_once(), which reads the images too)
        gets = [urllib.parse.unquote(r["path"].split("?")[0])
                for r in aws.s3.log() if r["method"] == "GET"]
        its = check_posted_once(aws, x)
        for job in JOB_IDS:
            key = its[job]["s3_key"]["S"]
            check(1 <= sum(g.endswith("/" + key) for g in gets) <= 2,
                  (job, gets))
        refused = [r for r in x.log() if r["path"] == "/2/media/upload" and
                   r.get("status") == 429]
        check(len(refused) == 1, x.log())
        check(len(gets) == len(JOB_IDS) + 1, (gets, err))


def test_duplicate_content_means_posted(tmp):
    with stack(tmp) as (aws, ai, x, conf, env):
        # The post exists already (we crashed after posting, before
        # recording): X answers 403 duplicate, the job becomes posted.
        env_gen = dict(env)
        conf_review = write_config(tmp, {
            "aws": {"bucket": aws.bucket, "table": servers.JOBS_TABLE},
            "openai": {"base_url": ai.url + "/v1"},
            "x": {"review": "yes", "api_base_url": x.url,
                  "credentials": "env:X_CREDENTIALS"}},
            name="review.conf", calendar=CALENDAR)
        check(once(conf_review, env_gen)[0] == 0)
        # Post the first caption behind spookyd's back.
        spookyd(conf, env, "--approve", JOB_IDS[0])
        post_behind_our_back(x.url, CAPTIONS[0])
        rc, out, err = spookyd(conf, env, "--once", "--date", DATE)
        its = items(aws)
        check(its[JOB_IDS[0]]["status"]["S"] == "posted", its)
        check("duplicate" in err, err)
        texts = [t["text"] for t in x.tweets()]
        check(texts.count(CAPTIONS[0]) == 1, texts)


def test_wrong_consumer_secret_fails_clearly(tmp):
    with stack(tmp, secret=x_secret("wrong")) as (aws, ai, x, conf, env):
        rc, out, err = once(conf, env)
        check(rc == 1, out + err)
        its = items(aws)
        # The first refusal fails its job and pauses posting, so the
        # others are handed back instead of hammering X with bad keys.
        failed = [j for j in JOB_IDS if its[j]["status"]["S"] == "failed"]
        check(failed, its)
        for job in JOB_IDS:
            err_text = its[job]["last_error"]["S"]
            if job in failed:
                check("env:X_CREDENTIALS" in err_text, its[job])
            else:
                check(its[job]["status"]["S"] == "uploaded" and
                      "posting paused" in err_text, its[job])
        check(x.tweets() == [], x.tweets())
        check(x.auth_failures(), "the stand-in saw no bad signature")
        check("wrong" not in err, "secret in the log")


def test_review_mode_posts_nothing_until_approved(tmp):
    with stack(tmp, review="yes") as (aws, ai, x, conf, env):
        rc, out, err = once(conf, env)
        check(rc == 0, out + err)
        check(out.splitlines() == ["%s held" % j for j in JOB_IDS], out)
        check(x.tweets() == [], "posted in review mode")
        for job in JOB_IDS:
            rc, out, err = spookyd(conf, env, "--approve", job)
            check(rc == 0, out + err)
        conf_post = write_config(tmp, {
            "aws": {"bucket": aws.bucket, "table": servers.JOBS_TABLE},
            "openai": {"base_url": ai.url + "/v1"},
            "x": {"review": "no", "api_base_url": x.url,
                  "credentials": "env:X_CREDENTIALS"}},
            name="post.conf", calendar=CALENDAR)
        rc, out, err = once(conf_post, env)
        check(rc == 0, out + err)
        check_posted_once(aws, x)


def test_two_processes_one_tweet_per_job(tmp):
    with stack(tmp, latency_ms=300) as (aws, ai, x, conf, env):
        a = once(conf, env, wait=False)
        b = once(conf, env, wait=False)
        for p in (a, b):
            p.communicate(timeout=120)
        # The one that did not post a job may have seen it mid-flight:
        # run once more to settle, then exactly one tweet per job.
        once(conf, env)
        check_posted_once(aws, x)
        check(len(x.tweets()) == 3 and len(ai.calls()) == 3)


def test_kill_9_between_upload_and_record(tmp):
    # Slow X down so the kill lands while posts are in flight, then
    # restart: every job ends posted, never twice.
    with stack(tmp) as (aws, ai, x, conf, env):
        x.set_faults([{"match": {"path_prefix": "/2/tweets"},
                       "action": "delay", "delay_ms": 4000}])
        p = once(conf, env, wait=False)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(v["status"]["S"] == "posting"
                   for v in items(aws).values()):
                break
            time.sleep(0.05)
        time.sleep(1)  # posts sent, their replies still held back by X
        p.send_signal(signal.SIGKILL)
        p.communicate()
        x.set_faults([])
        time.sleep(4)  # X finishes the posts whose replies nobody reads
        posting = [j for j, v in items(aws).items()
                   if v["status"]["S"] == "posting"]
        check(posting, "the kill landed outside the posting window")
        # The dead process's leases are taken over at once, not after
        # 15 minutes.
        rc, out, err = once(conf, env)
        check(rc == 0, out + err)
        check("taking over from a dead process" in err, err)
        check_posted_once(aws, x)


def test_daemon_posts_the_slot_on_schedule(tmp):
    now = datetime.datetime.now(datetime.timezone.utc)
    # Far enough ahead for the daemon to be READY first (valgrind is slow).
    at = now + datetime.timedelta(seconds=4 * SLOW)
    cal = json.dumps({at.strftime("%B").lower(): {str(at.day): [
        "Candy Corn", "Don't Cry Over Spilled Milk", "Pi\u00f1a Colada"]}})
    sched = {"schedule": {"cron": "%d %d %d * * *" % (at.second, at.minute,
                                                       at.hour),
                          "timezone": "UTC", "catch_up": "0"}}
    with stack(tmp, extra=sched, calendar=cal) as (aws, ai, x, conf, env):
        sock = NotifySocket(tmp)
        env["NOTIFY_SOCKET"] = sock.path
        d = Daemon(tmp, conf, env=env)
        try:
            sock.wait_for(lambda m: "READY=1" in m, timeout=10)
            deadline = time.monotonic() + 40 * SLOW
            while len(x.tweets()) < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(0.5)
            texts = sorted(t["text"] for t in x.tweets())
            check(texts == sorted(CAPTIONS), texts)
            check(all(v["status"]["S"] == "posted"
                      for v in items(aws).values()), items(aws))
            d.signal(signal.SIGTERM)
            check(d.wait(timeout=10) == 0, d.stderr())
        finally:
            d.stop()
            sock.close()


if __name__ == "__main__":
    run_tests(globals())
