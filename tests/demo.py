"""make demo: the real spookyd pipeline on local stand-ins.

Starts S3 (s3rver) and DynamoDB (dynalite) behind a SigV4-checking proxy,
an OpenAI Images stand-in and an X stand-in that checks OAuth 1.0a, runs
`spookyd --once` for one date of the shipped calendar, then shows what was
posted: the job table, each post with its caption and alt text, where the
images are, and a small HTML page of them.  Needs no cloud account.
"""
import html
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import openai_standin  # noqa: E402
import servers  # noqa: E402
import x_standin  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(TOP, os.environ.get("BUILD", "build/default"), "spookyd")
OUT = os.path.join(TOP, "build", "demo")
DATE = os.environ.get("DEMO_DATE", "2026-06-10")
KEY = "sk-demo-openai"
CREDS = {"consumer_key": "demo-ck", "consumer_secret": "demo-cs",
         "token": "demo-token", "token_secret": "demo-ts"}
X_SECRET = ('{"API_KEY": "demo-ck", "API_SECRET": "demo-cs", '
            '"ACCESS_TOKEN": "demo-token", "ACCESS_TOKEN_SECRET": "demo-ts"}')

CONFIG = """[daemon]
log_level = info

[schedule]
timezone = America/New_York

[calendar]
source = {calendar}

[openai]
base_url = {openai}/v1
model = gpt-image-2

[aws]
bucket = {bucket}
table = {table}

[x]
credentials = env:X_CREDENTIALS
api_base_url = {x}
"""


def show_jobs(aws):
    items = aws.client("dynamodb").scan(TableName=servers.JOBS_TABLE,
                                        ConsistentRead=True)["Items"]
    items.sort(key=lambda i: i["job_id"]["S"])
    print("\nJob table (%s):" % servers.JOBS_TABLE)
    for i in items:
        print("  %-45s %-8s tweet %s" % (i["job_id"]["S"], i["status"]["S"],
                                         i.get("tweet_id", {}).get("S", "-")))
    return items


def main():
    if servers.missing_node():
        sys.exit("make demo: " + servers.missing_node())
    os.makedirs(OUT, exist_ok=True)
    with servers.AwsServers(secrets=False, imds=False) as aws, \
            openai_standin.OpenAIStandIn(api_key=KEY) as ai, \
            x_standin.XStandIn(CREDS) as x:
        aws.create_jobs_table()
        conf = os.path.join(OUT, "spookyd.conf")
        with open(conf, "w") as f:
            f.write(CONFIG.format(
                calendar=os.path.join(TOP, "conf", "national-days.json"),
                openai=ai.url, bucket=aws.bucket, table=servers.JOBS_TABLE,
                x=x.url))
        env = dict(os.environ, **aws.env())
        env.update(OPENAI_API_KEY=KEY, X_CREDENTIALS=X_SECRET)
        print("Running: spookyd -c %s --once --date %s\n" % (conf, DATE),
              flush=True)
        r = subprocess.run([BIN, "-c", conf, "--once", "--date", DATE,
                            "--log=stderr"], env=env)
        items = show_jobs(aws)
        print("\nPosted to X (stand-in):")
        s3 = aws.client("s3")
        cards = []
        for t in x.tweets():
            m = t["media"][0]
            print("  post %s\n    caption:  %s\n    alt text: %s\n"
                  "    image:    %s, %d bytes, %dx%d" %
                  (t["id"], t["text"], m["alt_text"], m["type"], m["size"],
                   m["w"], m["h"]))
        for i in items:
            if "s3_key" not in i:
                continue
            key = i["s3_key"]["S"]
            local = os.path.join(OUT, os.path.basename(key))
            body = s3.get_object(Bucket=aws.bucket, Key=key)["Body"].read()
            with open(local, "wb") as f:
                f.write(body)
            print("  s3://%s/%s -> %s" % (aws.bucket, key, local))
            cards.append((os.path.basename(key), i))
        page = os.path.join(OUT, "index.html")
        with open(page, "w") as f:
            f.write("<!doctype html><meta charset=utf-8><title>spookyd "
                    "demo %s</title><h1>spookyd demo: %s</h1>" % (DATE, DATE))
            for name, i in cards:
                f.write("<figure><img src=\"%s\" width=256 alt=\"%s\">"
                        "<figcaption>%s<br><small>%s</small></figcaption>"
                        "</figure>" % (html.escape(name),
                                       html.escape(i.get("caption", {}).get(
                                           "S", i["national_day"]["S"])),
                                       html.escape(i.get("caption", {}).get(
                                           "S", "")),
                                       html.escape(i["status"]["S"])))
        print("\nHTML page of the posts: %s" % page)
        sys.exit(r.returncode)


if __name__ == "__main__":
    main()
