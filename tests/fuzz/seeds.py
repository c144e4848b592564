#!/usr/bin/python3
"""Writes the libFuzzer seed corpora under tests/fuzz/corpus/<target>/.

Run from anywhere: /usr/bin/python3 tests/fuzz/seeds.py.  Seeds are small,
real-looking inputs: the shipped conf/spookyd.conf and calendar, the
calendar test vectors, the error and success bodies quoted in
/work/shared/docs/api-notes.md (sections 2-7), a tiny PNG from
tests/lib/pngmake.py and hand-made JPEG/WebP headers shaped like the ones
in tests/unit/test_image.c, texts from tests/vectors/xtext.  Existing
files of a target are replaced, so the corpus is exactly what this writes.
"""
import base64
import json
import os
import re
import shutil
import struct
import sys
import zlib

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(TOP, "tests", "fuzz", "corpus")
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
import pngmake  # noqa: E402


def read(path):
    with open(os.path.join(TOP, path), "rb") as f:
        return f.read()


def j(obj):
    return json.dumps(obj, ensure_ascii=False).encode()


def write(target, seeds):
    d = os.path.join(OUT, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in seeds.items():
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


CONF = read("conf/spookyd.conf")
MINIMAL_CONF = b"""[aws]
bucket = spooky
table = "spooky-jobs"   ; quoted
[x]
credentials = file:/etc/spookyd/x.json
"""
BAD_CONF = b"""[schedule]
cron = 0 25 * * *
timezone = Mars/Olympus
[openai]
model = dall-e-3
model = gpt-image-2
size = 4000x4000
[aws]
bucket
[nope]
key = value
"""
FULL_CONF = b"""# every section, odd but valid spellings
[daemon]
log_level = debug
max_parallel = 64
[schedule]
cron = 30 0 8 * * 1-5
timezone = Australia/Lord_Howe
catch_up = 90m
[calendar]
source = s3://spooky-bucket/national-days.json
prompt = "A spooky picture of {day}; # not a comment"
caption = {{literal}} {day} {hashtag} {date}
alt_text = "  padded \\"quoted\\" text  "
[openai]
api_key = file:/run/credentials/spookyd.service/openai
base_url = http://127.0.0.1:8080/v1
model = gpt-image-2.6-flare
size = 1536x1024
quality = xhigh
output_format = webp
output_compression = 80
timeout = 2m
[aws]
region = eu-west-1
bucket = my.dotted.bucket
table = spooky-jobs
prefix =
kms_key_id = alias/spooky
retention = 30
s3_endpoint = http://127.0.0.1:4569
dynamodb_endpoint = http://127.0.0.1:4567
s3_path_style = yes
[x]
credentials = env:X_CREDENTIALS
api_base_url = https://api.twitter.com
poll_interval = 5m
post_spacing = 30s
max_attempts = 1
review = yes
"""


def cfg_ini():
    write("cfg", {"spookyd.conf": CONF, "minimal.conf": MINIMAL_CONF,
                  "bad.conf": BAD_CONF, "full.conf": FULL_CONF})
    write("ini", {
        "spookyd.conf": CONF, "full.conf": FULL_CONF, "bad.conf": BAD_CONF,
        "syntax.ini": b"key = outside\n[Bad Section]\n[ok] # c\n[ok] x\n"
                      b"[ok\nBad = 1\nno equals\nv = \"open\nv = \"a\" b\n"
                      b"  ; indented comment\r\nv = a;b # c\n",
        "nul.ini": b"[s]\nk = a\x00b\nk2 = v",
    })


def calendar():
    write("calendar", {
        "national-days.json": read("conf/national-days.json"),
        "good.json": read("tests/vectors/calendar/good.json"),
        "bad-day.json": read("tests/vectors/calendar/bad-day.json"),
        "names.json": j({"october": {"31": ["Caramel Apple", "Magic"],
                                     "30": ["Candy Corn", "Candy  Corn"]},
                         "march": {"14": ["Pi", "\u00c9clair"]}}),
        "bad-name.json": j({"may": {"4": ["Star Wars", " Star Wars"]}}),
        "syntax.json": b'{"june": {"1": ["Donut"]},',
    })


def cron():
    exprs = ["0 8 * * mon-fri", "30 0 8 * * 1-5", "*/15 9-17 * * *",
             "0 0 29 2 *", "0 0 30 2 *", "0 2 * * sun", "30 2 8 3 *",
             "0 0 1,15 * fri", "0 12 * jan-mar,oct-dec 0,7",
             "5/10 * * * *", "0 8 * * fri-sun", "59 23 31 12 *",
             "0 0 * * 8", "*/0 * * * *", "1,,2 * * * *", "0 0 * * 5#2",
             "0 8 * *", "@daily"]
    write("cron", {"expr%02d" % i: e for i, e in enumerate(exprs)})


def template():
    write("template", {
        "caption": "National {day} Day! {hashtag}",
        "alt": "A spooky illustration celebrating National {day} Day.",
        "prompt-day": b"A spooky picture for National {day} Day, {date}."
                      b"\x00Pi\xc3\xb1a Colada",
        "braces": "{{literal}} and }} and {day}",
        "unknown": "{dya} {day",
        "stray": "oops } {",
        "badutf8": b"caf\xc3 {day}\x00Don't Cry Over Spilled Milk",
        "emoji-day": "{hashtag}\x00Jack-o'-Lantern \U0001F383",
    })


JOB_ITEM = {
    "job_id": {"S": "2026-10-31_0_Caramel"},
    "timestamp": {"N": "1793448000000"},
    "status": {"S": "uploaded"},
    "date": {"S": "2026-10-31"},
    "national_day": {"S": "Caramel"},
    "day_index": {"N": "0"},
    "prompt": {"S": "A spooky picture for National Caramel Day."},
    "model": {"S": "gpt-image-2"},
    "s3_key": {"S": "images/2026-10-31_0_Caramel.png"},
    "content_type": {"S": "image/png"},
    "bytes": {"N": "1048576"},
    "attempts": {"N": "1"},
    "lease_owner": {"S": "host:1234:abcd"},
    "lease_expires": {"N": "1793448600"},
}


def ddbjson():
    write("ddbjson", {
        "job.json": j(JOB_ITEM),
        "types.json": j({
            "m": {"M": {"l": {"L": [{"S": "x"}, {"N": "-1.5E-3"},
                                    {"BOOL": False}, {"NULL": True}]}}},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.0"]},
            "b": {"B": "AAEC"}, "bs": {"BS": ["AA==", "AQ=="]},
            "n": {"N": "99999999999999999999999999999999999999"}}),
        "bad-number.json": j({"n": {"N": "1e999"}}),
        # found by fuzz_ddbjson: a 60-digit exponent overflowed a long
        "regress-long-exponent.json": j({"n": {"N": "1e" + "9" * 60}}),
        "bad-type.json": j({"a": {"S": "x", "N": "1"}, "b": {"Q": 1}}),
        "key.json": j({"job_id": {"S": "2026-10-31_1_Magic"},
                       "timestamp": {"N": "1793448000001"}}),
    })


S3_NOSUCHKEY = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>'
                b'NoSuchKey</Code><Message>The specified key does not exist.'
                b'</Message><Key>images/2026-10-31_0_Caramel.png</Key>'
                b'<RequestId>4442587FB7D0A2F9</RequestId><HostId>aGVsbG8='
                b'</HostId></Error>')
S3_SIGNATURE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>'
                b'SignatureDoesNotMatch</Code><Message>The request signature '
                b'we calculated does not match the signature you provided. '
                b'Check your key and signing method.</Message><StringToSign>'
                b'AWS4-HMAC-SHA256\n20261031T080000Z\n20261031/us-east-1/s3/'
                b'aws4_request\n1e2f</StringToSign><CanonicalRequest>PUT\n/x'
                b'</CanonicalRequest><RequestId>A1B2</RequestId></Error>')
S3_SKEW = (b'<Error><Code>RequestTimeTooSkewed</Code><Message>The difference '
           b'between the request time and the current time is too large.'
           b'</Message><RequestId>&lt;id&amp;&gt;</RequestId></Error>')


def crc_seed(body):
    return b"%d\n" % (zlib.crc32(body) & 0xFFFFFFFF) + body


def awserr():
    ccf = j({"__type": "com.amazonaws.dynamodb.v20120810#"
                       "ConditionalCheckFailedException",
             "message": "The conditional request failed"})
    write("awserr", {
        "s3-nosuchkey.xml": S3_NOSUCHKEY,
        "s3-signature.xml": S3_SIGNATURE,
        "s3-skew.xml": S3_SKEW,
        "ddb-ccf.json": ccf,
        "ddb-throttle.json": j({"__type": "com.amazon.coral.service#"
                                          "ThrottlingException:http://internal",
                                "Message": "Rate exceeded"}),
        "ddb-validation.json": j({"__type": "com.amazon.coral.validate#"
                                            "ValidationException",
                                  "message": "One or more parameter values "
                                             "were invalid"}),
        "sm-notfound.json": j({"__type": "ResourceNotFoundException",
                               "Message": "Secrets Manager can't find the "
                                          "specified secret."}),
        "sig-expired.json": j({"__type": "InvalidSignatureException",
                               "message": "Signature expired: 20261031T080000Z "
                                          "is now earlier than ..."}),
        "errortype-line": b"ExpiredTokenException:http://internal.amazon.com/"
                          b"\n{\"message\":\"The security token included in "
                          b"the request is expired\"}",
        "crc-ok": crc_seed(ccf),
        "crc-empty": crc_seed(b"{}"),
        "crc-bad": b"12345678901\n{}",
    })


def tiny_png():
    return pngmake.make_png(4, 3)


def tiny_jpeg(w=8, h=6):
    app0 = bytes([0xff, 0xe0, 0x00, 0x10]) + b"JFIF\x00" + bytes(
        [1, 1, 0, 0, 1, 0, 1, 0, 0])
    dqt = bytes([0xff, 0xdb, 0x00, 0x07, 0x00, 1, 2, 3, 4])
    sof = bytes([0xff, 0xc0, 0x00, 0x0b, 0x08, h >> 8, h & 0xff, w >> 8,
                 w & 0xff, 0x01, 0x01, 0x11, 0x00])
    sos = bytes([0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00,
                 0x12, 0x34, 0xff, 0x00, 0x56, 0xff, 0xd9])
    return b"\xff\xd8" + app0 + dqt + sof + sos


def webp(fourcc, payload):
    pad = b"\x00" if len(payload) & 1 else b""
    return (b"RIFF" + struct.pack("<I", 4 + 8 + len(payload) + len(pad))
            + b"WEBP" + fourcc + struct.pack("<I", len(payload)) + payload
            + pad)


def webp_vp8x(w=16, h=9):
    return webp(b"VP8X", bytes([0x10, 0, 0, 0]) + (w - 1).to_bytes(3, "little")
                + (h - 1).to_bytes(3, "little"))


def webp_vp8l(w=16, h=9):
    bits = (w - 1) | (h - 1) << 14
    return webp(b"VP8L", b"\x2f" + struct.pack("<I", bits) + b"\0\0\0\0")


def webp_vp8(w=16, h=9):
    return webp(b"VP8 ", bytes([0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a,
                                w & 0xff, (w >> 8) | 0x40, h & 0xff, h >> 8,
                                0, 0, 0, 0]))


def image():
    write("image", {"tiny.png": tiny_png(), "tiny.jpg": tiny_jpeg(),
                    "vp8x.webp": webp_vp8x(), "vp8l.webp": webp_vp8l(),
                    "vp8.webp": webp_vp8(),
                    "truncated.png": tiny_png()[:-5],
                    "gif": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"})


def openai_ok(img, slash_escape=False):
    b64 = base64.b64encode(img).decode()
    body = json.dumps({
        "created": 1764720000, "data": [{"b64_json": b64}],
        "background": "opaque", "output_format": "png", "quality": "high",
        "size": "1024x1024",
        "usage": {"input_tokens": 50, "input_tokens_details":
                  {"text_tokens": 50, "image_tokens": 0},
                  "output_tokens": 4160, "total_tokens": 4210}})
    if slash_escape:
        body = body.replace("/", "\\/")
    return body.encode()


def openai_err(message, type_, code, **extra):
    e = {"message": message, "type": type_, "param": None, "code": code}
    e.update(extra)
    return j({"error": e})


def openai():
    write("openai", {
        "ok-png.json": openai_ok(tiny_png()),
        "ok-jpeg-escaped.json": openai_ok(tiny_jpeg(), slash_escape=True),
        "ok-webp.json": openai_ok(webp_vp8l()),
        "refused.json": openai_err(
            "Your request was rejected by the safety system. "
            "safety_violations=[violence].", "image_generation_user_error",
            "moderation_blocked",
            moderation_details={"moderation_stage": "input",
                                "categories": ["violence"]}),
        "quota.json": openai_err("You exceeded your current quota.",
                                 "insufficient_quota", "insufficient_quota"),
        "ratelimit.json": openai_err("Rate limit reached for images per "
                                     "minute.", "requests",
                                     "rate_limit_exceeded"),
        "badkey.json": openai_err("Incorrect API key provided: sk-proj-****"
                                  "cdef. You can find your API key at ...",
                                  "invalid_request_error", "invalid_api_key"),
        "model.json": openai_err("The model `gpt-image-1` does not exist.",
                                 "invalid_request_error", "model_not_found"),
        "server.json": openai_err("The server had an error.", "server_error",
                                  None),
        "no-data.json": j({"created": 1764720000, "data": []}),
    })


def httpdate():
    write("httpdate", {
        "imf": "Sun, 06 Nov 1994 08:49:37 GMT",
        "rfc850": "Sunday, 06-Nov-94 08:49:37 GMT",
        "asctime": "Sun Nov  6 08:49:37 1994",
        "leap": "Thu, 29 Feb 2024 23:59:60 GMT",
        "future": "Fri, 31 Dec 9999 23:59:59 GMT",
        "delay": "120",
        "fraction": "1.5",
        "padded": "  Sat, 31 Oct 2026 08:00:00 GMT  ",
    })


def httphdr():
    write("httphdr", {
        "s3-put": b"HTTP/1.1 200 OK\r\nx-amz-id-2: aGVsbG8=\r\n"
                  b"x-amz-request-id: 4442587FB7D0A2F9\r\n"
                  b"Date: Sat, 31 Oct 2026 08:00:01 GMT\r\n"
                  b"ETag: \"1b2cf535f27731c974343645a3985328\"\r\n"
                  b"x-amz-server-side-encryption: aws:kms\r\n"
                  b"Content-Length: 0\r\nServer: AmazonS3\r\n\r\n",
        "ddb-throttle": b"HTTP/1.1 400 Bad Request\r\n"
                        b"x-amzn-RequestId: ABCDEF\r\n"
                        b"x-amz-crc32: 2745614147\r\n"
                        b"x-amzn-ErrorType: ThrottlingException:http://x/\r\n"
                        b"x-amz-retry-after: 1500\r\n"
                        b"Content-Type: application/x-amz-json-1.0\r\n\r\n",
        "openai-429": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/2 429\r\n"
                      b"retry-after-ms: 1500.5\r\nretry-after: 2\r\n"
                      b"x-should-retry: true\r\nx-request-id: req_123\r\n"
                      b"x-ratelimit-reset-requests: 6m0s\r\n\r\n",
        "x-429-folded": b"HTTP/1.1 429 Too Many Requests\r\n"
                        b"x-rate-limit-reset: 1764720900\r\n"
                        b"x-rate-limit-remaining: 0\r\n"
                        b"Retry-After: Sat, 31 Oct 2026\r\n"
                        b"\t 08:15:00 GMT\r\ncontent-type: application/"
                        b"problem+json\r\n\r\n",
        # found by fuzz_httphdr: a NUL in a value shifted the pairs
        "regress-nul": b"HTTP/1.1 200 OK\r\nDate: Sun, 03 N\x00ov\r\n"
                       b"Retry-After: 120\r\nx-amz-crc32: 27\r\n",
    })


IMDS = {"Code": "Success", "LastUpdated": "2026-12-03T12:00:00Z",
        "Type": "AWS-HMAC", "AccessKeyId": "ASIAIOSFODNN7EXAMPLE",
        "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "Token": "IQoJb3JpZ2luX2VjEXAMPLETOKEN==",
        "Expiration": "2026-12-03T18:00:00Z"}


def imds():
    frac = dict(IMDS, Expiration="2026-12-03T18:00:00.123+00:00")
    fail = dict(IMDS, Code="AssumeRoleUnauthorizedAccess")
    del fail["Token"]
    write("imds", {"success.json": j(IMDS), "fraction.json": j(frac),
                   "failure.json": j(fail),
                   "bad-date.json": j(dict(IMDS, Expiration="tomorrow"))})


def credsfile():
    write("credsfile", {
        "two-profiles": b"# shared credentials\n[default]\n"
                        b"aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                        b"aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfi"
                        b"CYEXAMPLEKEY\n\n[prod]\n; session keys\n"
                        b"AWS_ACCESS_KEY_ID = ASIAEXAMPLE\n"
                        b"aws_secret_access_key = secret\n"
                        b"aws_session_token = token==\n",
        "lacks-secret": b"[default]\naws_access_key_id = AKIAEXAMPLE\n",
        "malformed": b"[default\naws_access_key_id\n",
        "other-profile": b"[  prod  ]\r\naws_access_key_id = A\r\n"
                         b"aws_secret_access_key = B\r\n",
    })


def oauth1():
    write("oauth1", {
        "x-docs": b"https://api.twitter.com/1.1/statuses/update.json?"
                  b"include_entities=true\nstatus=Hello%20Ladies%20%2B%20"
                  b"Gentlemen%2C%20a%20signed%20OAuth%20request%21",
        "rfc5849": b"http://example.com/request?b5=%3D%253D&a3=a&c%40=&"
                   b"a2=r%20b\nc2&a3=2+q",
        "tweets": b"https://api.x.com/2/tweets",
        "upload": b"https://api.x.com/2/media/upload?media_category="
                  b"tweet_image",
        "port": b"HTTP://Example.COM:80/r%20v/X?id=123&Id=1&id=0",
        "https-port": b"https://api.x.com:8443/2/tweets?a=%E2%98%83",
        "bad-escape": b"https://api.x.com/2/tweets?q=%G1\nx=%",
        "userinfo": b"https://user:pw@api.x.com/",
    })


def xtext_texts():
    out = []
    text = read("tests/vectors/xtext/validate-v3.txt").decode()
    for line in text.split("\n"):
        if line.startswith("text: "):
            t = line[6:]
            t = re.sub(r"\\U([0-9A-Fa-f]{8})",
                       lambda m: chr(int(m.group(1), 16)), t)
            t = re.sub(r"\\u([0-9A-Fa-f]{4})",
                       lambda m: chr(int(m.group(1), 16)), t)
            t = t.replace("\\n", "\n").replace("\\\\", "\\")
            out.append(t.encode("utf-8", "surrogatepass"))
    return out


def xtext():
    seeds = {"vector%02d" % i: t for i, t in enumerate(xtext_texts()[:14])}
    seeds.update({
        "caption": "National Pi\u00f1a Colada Day! #NationalPi\u00f1aColadaDay",
        "family": "\U0001F468\u200d\U0001F469\u200d\U0001F467 "
                  "\U0001F44D\U0001F3FD \U0001F1FA\U0001F1F8 1\ufe0f\u20e3",
        "bom": "a\ufeffb\ufffe",
        "badutf8": b"caf\xc3 \xed\xa0\x80",
    })
    write("xtext", seeds)


def x():
    write("x", {
        "duplicate.json": j({"detail": "You are not allowed to create a Tweet "
                                       "with duplicate content.",
                             "type": "about:blank", "title": "Forbidden",
                             "status": 403}),
        "credits.json": j({"account_id": 1234567890,
                           "title": "CreditsDepleted",
                           "detail": "Your enrolled account [1234567890] does "
                                     "not have any credits to fulfill this "
                                     "request.",
                           "type": "https://api.twitter.com/2/problems/"
                                   "credits"}),
        "unauthorized.json": j({"title": "Unauthorized", "type": "about:blank",
                                "status": 401, "detail": "Unauthorized"}),
        "invalid.json": j({"errors": [{"parameters": {"media.media_ids":
                                                      ["123"]},
                                       "message": "media id 123 not found"}],
                           "title": "Invalid Request",
                           "detail": "One or more parameters to your request "
                                     "was invalid.",
                           "type": "https://api.x.com/2/problems/"
                                   "invalid-request"}),
        "errors-200.json": j({"data": {"id": "1"},
                              "errors": [{"title": "Not Found Error",
                                          "type": "https://api.x.com/2/"
                                                  "problems/resource-not-found",
                                          "detail": "Could not find"}]}),
        "upload.json": j({"data": {"id": "1880028106020515840",
                                   "media_key": "3_1880028106020515840",
                                   "size": 1048576, "expires_after_secs": 86400,
                                   "image": {"image_type": "image/png",
                                             "w": 1024, "h": 1024}}}),
        "tweet.json": j({"data": {"id": "1880028106020515841",
                                  "text": "National Caramel Day! "
                                          "#NationalCaramelDay",
                                  "edit_history_tweet_ids":
                                      ["1880028106020515841"]}}),
        "creds.json": j({"API_KEY": "xvz1evFS4wEEPTGEFPHBog",
                         "API_SECRET": "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3"
                                       "Z7kBw",
                         "ACCESS_TOKEN": "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9"
                                         "EyMZeS9weJAEb",
                         "ACCESS_TOKEN_SECRET": "LswwdoUaIvS8ltyTt5jkRh4J50vU"
                                                "PVVHtR2YPi5kE"}),
        "creds-bad.json": j({"API_KEY": " padded", "API_SECRET": "",
                             "ACCESS_TOKEN": 5}),
        "limits": b"1764720900\n0\n1764800000\n0\n1764790000\n10\n",
        "limits-none": b"\n\n\n\nsoon\n",
    })


def secrets():
    creds = {"API_KEY": "k", "API_SECRET": "s", "ACCESS_TOKEN": "t",
             "ACCESS_TOKEN_SECRET": "ts"}
    base = {"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
                   "spookyd/x-AbCdEf", "Name": "spookyd/x",
            "VersionId": "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE",
            "VersionStages": ["AWSCURRENT"], "CreatedDate": 1764720000.123}
    write("secrets", {
        "string.json": j(dict(base, SecretString=json.dumps(creds))),
        "binary.json": j(dict(base, SecretBinary=base64.b64encode(
            b"sk-proj-TESTKEY\x00\xff").decode())),
        "binary-pad.json": j(dict(base, SecretBinary="YQ==")),
        "binary-bad.json": j(dict(base, SecretBinary="YQ=a")),
        "neither.json": j(base),
    })


def main():
    for make in (cfg_ini, calendar, cron, template, ddbjson, awserr, image,
                 openai, httpdate, httphdr, imds, credsfile, oauth1, xtext, x,
                 secrets):
        make()
    total = sum(os.path.getsize(os.path.join(dp, f))
                for dp, _, fs in os.walk(OUT) for f in fs)
    print("seeds written to %s: %d bytes" % (OUT, total))


if __name__ == "__main__":
    main()
