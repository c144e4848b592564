"""The generate step end to end against real local S3 and DynamoDB
servers (behind a SigV4 verifier) and the OpenAI stand-in: one object and
one item per national day, exactly once however often or by however many
processes a date is run."""
import contextlib
import datetime
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import openai_standin  # noqa: E402
import servers  # noqa: E402
from spookyd import (Daemon, NotifySocket, Skip, check, command,  # noqa
                     daemon_env, run_tests, write_config)

DATE = "2026-10-30"
CALENDAR = json.dumps({
    "Prompt": "A haunted picture for National ",
    "october": {"30": ["Candy Corn", "Don't Cry Over Spilled Milk",
                       "Pi\u00f1a Colada"]},
})
JOB_IDS = ["2026-10-30_0_CandyCorn", "2026-10-30_1_DontCryOverSpilledMilk",
           "2026-10-30_2_Pi\u00f1aColada"]
MIDNIGHT_NY = 1793332800  # 2026-10-30T00:00:00-04:00
KEY = "sk-test-generate"


@contextlib.contextmanager
def stack(tmp, review="yes", overrides=None, calendar=CALENDAR,
          **openai_cfg):
    why = servers.missing_node()
    if why:
        raise Skip(why)
    with servers.AwsServers(secrets=False, imds=False) as aws, \
            openai_standin.OpenAIStandIn(api_key=KEY) as ai:
        aws.create_jobs_table()
        if openai_cfg:
            ai.configure(**openai_cfg)
        cfg = {
            "aws": {"bucket": aws.bucket, "table": servers.JOBS_TABLE,
                    "prefix": "images/"},
            "openai": {"base_url": ai.url + "/v1", "model": "gpt-image-2"},
            "x": {"review": review},
        }
        cfg.update(overrides or {})
        conf = write_config(tmp, cfg, calendar=calendar)
        env = daemon_env(aws.env())
        env["OPENAI_API_KEY"] = KEY
        yield aws, ai, conf, env


def once(conf, env, date=DATE, wait=True):
    argv = command("-c", conf, "--once", "--date", date, "--log=stderr")
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         errors="backslashreplace")
    if not wait:
        return p
    out, err = p.communicate(timeout=120)
    return p.returncode, out, err





def items(aws):
    ddb = aws.client("dynamodb")
    got = ddb.scan(TableName=servers.JOBS_TABLE, ConsistentRead=True)
    return {i["job_id"]["S"]: i for i in got["Items"]}


def objects(aws):
    s3 = aws.client("s3")
    got = s3.list_objects_v2(Bucket=aws.bucket).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=aws.bucket, Key=o["Key"])
            for o in got}


def test_three_days_three_objects_three_items(tmp):
    with stack(tmp) as (aws, ai, conf, env):
        rc, out, err = once(conf, env)
        check(rc == 0, out + err)
        check(out.splitlines() == ["%s held" % j for j in JOB_IDS], out)
        objs = objects(aws)
        check(sorted(objs) == sorted("images/%s.png" % j for j in JOB_IDS),
              sorted(objs))
        its = items(aws)
        check(sorted(its) == sorted(JOB_IDS), sorted(its))
        for i, job in enumerate(JOB_IDS):
            it, obj = its[job], objs["images/%s.png" % job]
            body = obj["Body"].read()
            check(body.startswith(b"\x89PNG\r\n\x1a\n"), "not a PNG")
            check(obj["ContentType"] == "image/png", obj["ContentType"])
            check(obj["CacheControl"].startswith("no-store"), obj)
            check(it["status"]["S"] == "held", it)
            check(it["timestamp"]["N"] == str(MIDNIGHT_NY), it)
            check(it["s3_key"]["S"] == "images/%s.png" % job, it)
            check(it["content_type"]["S"] == "image/png", it)
            check(it["bytes"]["N"] == str(len(body)), it)
            check(it["sha256"]["S"] == hashlib.sha256(body).hexdigest(), it)
            check(it["date"]["S"] == DATE and it["day_index"]["N"] == str(i))
            check(it["model"]["S"] == "gpt-image-2", it)
            check("lease_owner" not in it, it)
        day = its[JOB_IDS[2]]
        check(day["national_day"]["S"] == "Pi\u00f1a Colada", day)
        check(day["prompt"]["S"] ==
              "A haunted picture for National Pi\u00f1a Colada Day.", day)
        check(len(ai.calls()) == 3, ai.calls())
        check(KEY not in err, "API key in the log")


def test_same_date_again_makes_nothing_new(tmp):
    with stack(tmp) as (aws, ai, conf, env):
        check(once(conf, env)[0] == 0)
        before = {k: v["sha256"]["S"] for k, v in items(aws).items()}
        rc, out, err = once(conf, env)
        check(rc == 0, out + err)
        check(len(ai.calls()) == 3, "a second OpenAI call: %r" % ai.calls())
        after = {k: v["sha256"]["S"] for k, v in items(aws).items()}
        check(before == after, "items changed")


def test_refused_prompt_fails_only_that_job(tmp):
    with stack(tmp, moderation=["Candy Corn"]) as (aws, ai, conf, env):
        rc, out, err = once(conf, env)
        check(rc == 1, out + err)
        its = items(aws)
        bad = its[JOB_IDS[0]]
        check(bad["status"]["S"] == "failed", bad)
        check("moderation_blocked" in bad["last_error"]["S"], bad)
        check(all(its[j]["status"]["S"] == "held" for j in JOB_IDS[1:]), its)
        check(len(ai.calls(prompt=bad["prompt"]["S"])) == 1,
              "a refused prompt was retried")
        check(sorted(objects(aws)) == sorted("images/%s.png" % j
                                             for j in JOB_IDS[1:]))
        check("%s failed: moderation_blocked" % JOB_IDS[0] in out, out)


def spookyd(conf, env, *args):
    r = subprocess.run(command("-c", conf, "--log=stderr", *args), env=env,
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def test_jobs_approve_and_retry(tmp):
    with stack(tmp, moderation=["Candy Corn"]) as (aws, ai, conf, env):
        check(once(conf, env)[0] == 1)
        rc, out, err = spookyd(conf, env, "--jobs", "--date", DATE)
        check(rc == 0, err)
        lines = out.splitlines()
        check(len(lines) == 3, out)
        check(lines[0].startswith(JOB_IDS[0] + ' failed "Candy Corn" '
                                  'moderation_blocked'), lines)
        check(lines[1] == JOB_IDS[1] + ' held "Don\'t Cry Over Spilled '
              'Milk" -', lines)
        rc, out, _ = spookyd(conf, env, "--jobs", "--date", "2026-10-31")
        check(rc == 0 and out == "no jobs for 2026-10-31\n", out)

        rc, out, err = spookyd(conf, env, "--approve", JOB_IDS[1])
        check(rc == 0 and out == "%s: held -> uploaded\n" % JOB_IDS[1],
              out + err)
        rc, out, err = spookyd(conf, env, "--approve", JOB_IDS[1])
        check(rc == 1 and "is not held" in err, out + err)
        check(items(aws)[JOB_IDS[1]]["status"]["S"] == "uploaded")
        rc, out, err = spookyd(conf, env, "--approve", "nonsense")
        check(rc == 1 and "is not a job id" in err, err)

        # The refused job had no image: --retry sends it back to the
        # generate step, and the next run makes it.
        rc, out, err = spookyd(conf, env, "--retry", JOB_IDS[0])
        check(rc == 0 and out == "%s: failed -> generating\n" % JOB_IDS[0],
              out + err)
        ai.configure(moderation=[])
        once(conf, env)
        it = items(aws)[JOB_IDS[0]]
        check(it["status"]["S"] == "held", it)
        check(len(ai.calls()) == 4, ai.calls())


def test_two_processes_one_openai_call_per_job(tmp):
    with stack(tmp, latency_ms=500) as (aws, ai, conf, env):
        a = once(conf, env, wait=False)
        b = once(conf, env, wait=False)
        outs = [p.communicate(timeout=120) for p in (a, b)]
        check(len(ai.calls()) == 3, ai.calls())
        # Each job was made by exactly one of them; the other says so.
        lines = (outs[0][0] + outs[1][0]).splitlines()
        for job in JOB_IDS:
            mine = [l for l in lines if l.startswith(job + " ")]
            check(len(mine) == 2, lines)
            check(sum(l == job + " held" for l in mine) >= 1, lines)
        check(all(v["status"]["S"] == "held" for v in items(aws).values()))
        check(len(objects(aws)) == 3)


def test_kill_9_mid_generation_then_restart(tmp):
    with stack(tmp, latency_ms=3000) as (aws, ai, conf, env):
        p = once(conf, env, wait=False)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            its = items(aws)
            if len(its) == 3 and all(v["status"]["S"] == "generating"
                                     for v in its.values()):
                break
            time.sleep(0.05)
        time.sleep(0.5)  # inside the 3 s OpenAI calls now
        p.send_signal(signal.SIGKILL)
        p.communicate()
        check(all(v["status"]["S"] == "generating"
                  for v in items(aws).values()), items(aws))
        # The crashed process is gone: its leases are stale at once.
        rc, out, err = once(conf, env)
        check(rc == 0, out + err)
        its = items(aws)
        check(sorted(its) == sorted(JOB_IDS), its)
        check(all(v["status"]["S"] == "held" and v["attempts"]["N"] == "2"
                  for v in its.values()), its)
        check(len(objects(aws)) == 3, objects(aws))


def test_daemon_runs_the_slot_on_time(tmp):
    # A 6-field cron a few seconds ahead, in UTC: the running daemon must
    # fire it and make today's images.
    now = datetime.datetime.now(datetime.timezone.utc)
    at = now + datetime.timedelta(seconds=4)
    cal = json.dumps({at.strftime("%B").lower(): {
        str(at.day): ["Candy Corn", "Pi\u00f1a Colada"]}})
    cron = "%d %d %d * * *" % (at.second, at.minute, at.hour)
    sched = {"schedule": {"cron": cron, "timezone": "UTC", "catch_up": "0"}}
    with stack(tmp, overrides=sched, calendar=cal) as (aws, ai, conf, env):
        sock = NotifySocket(tmp)
        env["NOTIFY_SOCKET"] = sock.path
        d = Daemon(tmp, conf, env=env)
        try:
            sock.wait_for(lambda m: "READY=1" in m, timeout=10)
            check(items(aws) == {}, "generated before the slot")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                its = items(aws)
                if len(its) == 2 and all(v["status"]["S"] == "held"
                                         for v in its.values()):
                    break
                time.sleep(0.2)
            check(len(its) == 2, its)
            check(all(v["status"]["S"] == "held" for v in its.values()), its)
            check(len(ai.calls()) == 2, ai.calls())
            d.signal(signal.SIGTERM)
            check(d.wait(timeout=10) == 0)
            check("(schedule)" in d.stderr(), d.stderr())
        finally:
            d.stop()
            sock.close()


if __name__ == "__main__":
    run_tests(globals())
