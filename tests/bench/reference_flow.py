"""The old serverless app's flow in Python, as a yardstick for make bench.

Serial, as the old Lambdas were: for each national day ask OpenAI for an
image, put it to S3, put a DynamoDB item; then for each item get the image
back from S3, upload it to X (POST /2/media/upload, multipart), set its alt
text, post, and mark the item posted.  boto3, requests and
requests-oauthlib from Debian (python3-boto3, python3-requests,
python3-requests-oauthlib); it talks to whatever endpoints it is given and
knows nothing of the stand-ins.  Not a test: it only times itself.

Usage: /usr/bin/python3 reference_flow.py SPEC.json
SPEC: {"openai_url", "openai_key", "model", "size", "quality",
       "s3_url", "dynamodb_url", "region", "bucket", "table",
       "x_url", "x_creds": {consumer_key, consumer_secret, token,
       token_secret}, "date", "days": [names], "prompt_prefix"}
AWS keys come from the environment (AWS_ACCESS_KEY_ID, ...).
Prints one JSON object: idle memory once everything is imported and the
clients exist, CPU and wall time of the flow alone, and the tweet ids.
"""
import json
import sys
import time

T0_CPU = time.process_time()
T0_WALL = time.monotonic()

import base64  # noqa: E402
import hashlib  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import requests  # noqa: E402
from requests_oauthlib import OAuth1Session  # noqa: E402


def proc_status():
    """RssAnon, VmRSS, VmHWM of this process in KiB."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("RssAnon", "VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out


def slug(day):
    return re.sub(r"[^0-9A-Za-z]", "", day.title())


class Flow:
    def __init__(self, spec):
        self.spec = spec
        cfg = botocore.config.Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 3, "mode": "standard"})
        self.s3 = boto3.client("s3", region_name=spec["region"],
                               endpoint_url=spec["s3_url"], config=cfg)
        self.ddb = boto3.client("dynamodb", region_name=spec["region"],
                                endpoint_url=spec["dynamodb_url"],
                                config=cfg)
        c = spec["x_creds"]
        self.x = OAuth1Session(c["consumer_key"], c["consumer_secret"],
                               c["token"], c["token_secret"])
        self.ai = requests.Session()
        self.ai.headers["Authorization"] = "Bearer " + spec["openai_key"]

    # The generate Lambda.
    def generate(self, index, day):
        s = self.spec
        job_id = "%s_%d_%s" % (s["date"], index, slug(day))
        r = self.ai.post(s["openai_url"] + "/images/generations",
                         json={"model": s["model"], "n": 1,
                               "prompt": s["prompt_prefix"] + day + " Day.",
                               "size": s["size"], "quality": s["quality"]},
                         timeout=300)
        r.raise_for_status()
        image = base64.b64decode(r.json()["data"][0]["b64_json"])
        key = "images/%s/%s.png" % (s["date"], job_id)
        self.s3.put_object(Bucket=s["bucket"], Key=key, Body=image,
                           ContentType="image/png")
        ts = int(time.time() * 1000)
        self.ddb.put_item(TableName=s["table"], Item={
            "job_id": {"S": job_id}, "timestamp": {"N": str(ts)},
            "status": {"S": "uploaded"}, "date": {"S": s["date"]},
            "national_day": {"S": day}, "s3_key": {"S": key},
            "sha256": {"S": hashlib.sha256(image).hexdigest()},
            "caption": {"S": "National %s Day! #National%sDay"
                        % (day, slug(day))}})
        return {"job_id": job_id, "timestamp": ts, "key": key, "day": day}

    # The tweet Lambda.
    def tweet(self, item):
        s = self.spec
        body = self.s3.get_object(Bucket=s["bucket"],
                                  Key=item["key"])["Body"].read()
        r = self.x.post(s["x_url"] + "/2/media/upload",
                        files={"media": ("image.png", body, "image/png")},
                        data={"media_category": "tweet_image",
                              "media_type": "image/png"}, timeout=60)
        r.raise_for_status()
        media_id = r.json()["data"]["id"]
        alt = "A spooky illustration celebrating National %s Day." % \
            item["day"]
        r = self.x.post(s["x_url"] + "/2/media/metadata", timeout=60,
                        json={"id": media_id,
                              "metadata": {"alt_text": {"text": alt}}})
        r.raise_for_status()
        text = "National %s Day! #National%sDay" % (item["day"],
                                                    slug(item["day"]))
        r = self.x.post(s["x_url"] + "/2/tweets", timeout=60,
                        json={"text": text,
                              "media": {"media_ids": [media_id]}})
        r.raise_for_status()
        tweet_id = r.json()["data"]["id"]
        self.ddb.update_item(
            TableName=s["table"],
            Key={"job_id": {"S": item["job_id"]},
                 "timestamp": {"N": str(item["timestamp"])}},
            UpdateExpression="SET #st = :p, tweet_id = :t",
            ExpressionAttributeNames={"#st": "status"},
            ExpressionAttributeValues={":p": {"S": "posted"},
                                       ":t": {"S": tweet_id}})
        return tweet_id


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    flow = Flow(spec)
    idle = proc_status()
    setup_cpu = time.process_time() - T0_CPU
    setup_wall = time.monotonic() - T0_WALL
    r0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    items = [flow.generate(i, d) for i, d in enumerate(spec["days"])]
    tweets = [flow.tweet(it) for it in items]
    r1, wall = resource.getrusage(resource.RUSAGE_SELF), time.monotonic() - w0
    user, sys_ = r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime
    json.dump({"idle": idle, "setup_cpu_s": setup_cpu,
               "setup_wall_s": setup_wall, "flow_cpu_s": user + sys_,
               "flow_user_s": user, "flow_sys_s": sys_,
               "flow_wall_s": wall, "tweets": tweets,
               "peak": proc_status()}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
