"""Stand-in for OpenAI's Images API (POST /v1/images/generations), for tests.

It checks each request the way the real API does as far as docs/api-notes.md
section 6 describes it (Bearer key, JSON body, current GPT image model,
parameter names, types and ranges) and answers with the real shapes: a real
PNG in data[0].b64_json, or an {"error": {...}} body.  It does not stream,
edit, or make JPEG/WebP/GIF/SVG (such valid requests get a 400 that says
so).  It relies on tests/lib/standin.py (faults, log) and pngmake.py.

In-process:
    ai = OpenAIStandIn(api_key="sk-test").start()   # ai.url + "/v1"
    ai.configure(latency_ms=50, image_bytes=2_500_000,
                 moderation=["gore", {"match": "blood", "stage": "output"}])
    ai.script([{"kind": "rate_limit", "retry_after_ms": 1500},
               {"kind": "quota", "match": "pumpkin"}])
    ai.calls(prompt="...")  -> [{"prompt", "model", "size", "status",
                                 "billed", "request_id", "time"}]
    ai.warm("1024x1024")    # draw the picture before a benchmark
Over HTTP (subprocess, see main): POST /__control/openai/config (JSON of
configure()'s keywords), POST /__control/openai/script (JSON list),
GET /__control/openai/calls.  /__control/reset clears calls and script
and restores the constructor's configuration.

Script entries (each fires on `times` matching requests, default 1, after
the request has passed every check; "match" = prompt substring):
    rate_limit  429 rate_limit_exceeded, retry-after-ms/retry-after headers
                ("retry_after_ms", default 1000)
    quota       429 insufficient_quota
    server_error 500 server_error;  overloaded  503
    moderation  400 moderation_blocked ("stage": input|output)
"""

import base64
import copy
import hashlib
import json
import math
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pngmake  # noqa: E402
import standin  # noqa: E402

# docs/api-notes.md section 6, "Models" (~2026-11).
CURRENT_MODELS = (
    "gpt-image-2.6-sunburst", "gpt-image-2.6-flare",
    "gpt-image-2.5-sunburst", "gpt-image-2.5-flare",
    "gpt-image-2.5-sunburst-2026-09-08", "gpt-image-2.5-flare-2026-09-08",
    "gpt-image-2", "gpt-image-2-2026-04-21",
    "gpt-image-1.5", "gpt-image-1-mini", "chatgpt-image-latest",
)
FIXED_SIZES = ("1024x1024", "1536x1024", "1024x1536")
QUALITIES = ("auto", "low", "medium", "high")
QUALITIES_26 = QUALITIES + ("xhigh", "max")
FORMATS = ("png", "jpeg", "webp")
FORMATS_26 = FORMATS + ("gif", "svg")
PARAMS = ("model", "prompt", "n", "size", "quality", "output_format",
          "output_compression", "background", "moderation", "complexity",
          "stream", "partial_images", "safety_identifier", "user")
PROMPT_MAX = 32000
# Output tokens per 1024x1024 image by quality (plausible, not billed).
TOKENS_PER_MP = {"low": 272, "medium": 1056, "high": 4160, "xhigh": 6240,
                 "max": 8320}

DEFAULTS = {"latency_ms": 0, "image_bytes": None, "moderation": [],
            "strict_n": True}


def _err(status, message, etype="invalid_request_error", param=None,
         code=None, extra=None):
    body = {"message": message, "type": etype, "param": param, "code": code}
    body.update(extra or {})
    return status, {"error": body}


def _quote_list(values):
    q = ["'%s'" % v for v in values]
    return ", ".join(q[:-1]) + ", and " + q[-1]


def _type_name(v):
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a decimal"
    if isinstance(v, str):
        return "a string"
    if v is None:
        return "null"
    return "an array" if isinstance(v, list) else "an object"


def _bad_type(name, want, v):
    return _err(400, "Invalid type for '%s': expected %s, but got %s"
                " instead." % (name, want, _type_name(v)),
                param=name, code="invalid_type")


def _bad_value(name, v, allowed):
    return _err(400, "Invalid value: '%s'. Supported values are: %s."
                % (v, _quote_list(allowed)), param=name, code="invalid_value")


def is_gpt_image_2(model):
    """gpt-image-2 and later accept free WxH sizes."""
    return model.startswith("gpt-image-2")


def is_26(model):
    return model.startswith("gpt-image-2.6")


def parse_size(size, model):
    """(w, h) for a size string, or None if the model refuses it."""
    if size == "auto":
        return (1024, 1024)
    if size in FIXED_SIZES:
        w, h = size.split("x")
        return (int(w), int(h))
    if not is_gpt_image_2(model):
        return None
    parts = size.split("x")
    if len(parts) != 2 or not all(p.isdigit() and p[0] != "0"
                                  for p in parts):
        return None
    w, h = int(parts[0]), int(parts[1])
    if w % 16 or h % 16 or max(w, h) > 3840 or w * h > 3840 * 2160:
        return None
    if max(w, h) > 3 * min(w, h):
        return None
    return (w, h)


def validate(body, models, strict_n=True):
    """Checks a parsed generations body.  Returns (None, params) with the
    defaults filled in, or ((status, error_body), None)."""
    if not isinstance(body, dict):
        return _err(400, "Invalid type for request body: expected an"
                    " object, but got %s instead." % _type_name(body)), None
    for k in body:
        if k not in PARAMS:
            return _err(400, "Unknown parameter: '%s'." % k, param=k,
                        code="unknown_parameter"), None
    for k in ("model", "prompt"):
        if k not in body:
            return _err(400, "Missing required parameter: '%s'." % k,
                        param=k, code="missing_required_parameter"), None
    model, prompt = body["model"], body["prompt"]
    if not isinstance(model, str):
        return _bad_type("model", "a string", model), None
    if model not in models:
        return _err(404, "The model `%s` does not exist or you do not have"
                    " access to it." % model, code="model_not_found"), None
    e = _check_prompt(prompt) or _check_n(body.get("n", 1), strict_n)
    if e:
        return e, None
    p = {"model": model, "prompt": prompt, "n": body.get("n", 1)}
    e = _check_options(body, model, p)
    return (e, None) if e else (None, p)


def _check_prompt(prompt):
    if not isinstance(prompt, str):
        return _bad_type("prompt", "a string", prompt)
    if not prompt:
        return _err(400, "Invalid 'prompt': empty string. Expected a string"
                    " with minimum length 1, but got an empty string"
                    " instead.", param="prompt", code="empty_string")
    if len(prompt) > PROMPT_MAX:
        return _err(400, "Invalid 'prompt': string too long. Expected a"
                    " string with maximum length %d, but got a string with"
                    " length %d instead." % (PROMPT_MAX, len(prompt)),
                    param="prompt", code="string_above_max_length")
    return None


def _check_n(n, strict_n):
    if not isinstance(n, int) or isinstance(n, bool):
        return _bad_type("n", "an integer", n)
    if n < 1:
        return _err(400, "Invalid 'n': integer below minimum value."
                    " Expected a value >= 1, but got %d instead." % n,
                    param="n", code="integer_below_min_value")
    if n > 10:
        return _err(400, "Invalid 'n': integer above maximum value."
                    " Expected a value <= 10, but got %d instead." % n,
                    param="n", code="integer_above_max_value")
    if strict_n and n != 1:
        # Valid for the real API, but every extra image is billed.
        return _err(400, "stand-in: spookyd must ask for n=1 (got %d)" % n,
                    param="n", code="standin_policy")
    return None


def _enum(body, name, allowed, default, p):
    v = body.get(name, default)
    if not isinstance(v, str):
        return _bad_type(name, "a string", v)
    if v not in allowed:
        return _bad_value(name, v, allowed)
    p[name] = v
    return None


def _check_options(body, model, p):
    sizes = ("auto",) + FIXED_SIZES
    e = (_enum(body, "quality", QUALITIES_26 if is_26(model) else QUALITIES,
               "auto", p)
         or _enum(body, "output_format", FORMATS_26 if is_26(model)
                  else FORMATS, "png", p)
         or _enum(body, "background", ("auto", "opaque", "transparent"),
                  "auto", p)
         or _enum(body, "moderation", ("auto", "low"), "auto", p))
    if e:
        return e
    size = body.get("size", "auto")
    if not isinstance(size, str):
        return _bad_type("size", "a string", size)
    p["wh"] = parse_size(size, model)
    if p["wh"] is None:
        return _bad_value("size", size, sizes)
    p["size"] = size
    if "complexity" in body:
        if not is_26(model):
            return _err(400, "Unknown parameter: 'complexity'.",
                        param="complexity", code="unknown_parameter")
        e = _enum(body, "complexity", ("low", "medium", "high"), "high", p)
        if e:
            return e
    return _check_misc(body, p)


def _check_misc(body, p):
    if "output_compression" in body:
        c = body["output_compression"]
        if not isinstance(c, int) or isinstance(c, bool):
            return _bad_type("output_compression", "an integer", c)
        if not 0 <= c <= 100 or p["output_format"] not in ("jpeg", "webp"):
            return _err(400, "Invalid 'output_compression': must be 0-100"
                        " and needs output_format jpeg or webp.",
                        param="output_compression", code="invalid_value")
    if (p["background"] == "transparent"
            and p["output_format"] not in ("png", "webp")):
        return _err(400, "Transparent background requires output_format"
                    " png or webp.", param="background", code="invalid_value")
    for k in ("safety_identifier", "user"):
        if k in body and not isinstance(body[k], str):
            return _bad_type(k, "a string", body[k])
    if "partial_images" in body:
        v = body["partial_images"]
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 3:
            return _err(400, "Invalid 'partial_images': expected 0-3.",
                        param="partial_images", code="invalid_value")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        return _bad_type("stream", "a boolean", stream)
    if stream or p["output_format"] != "png":
        return _err(400, "stand-in: stream=%s output_format=%s is valid for"
                    " the real API but this stand-in only makes single png"
                    " answers" % (stream, p["output_format"]),
                    code="standin_unsupported")
    return None


class OpenAIStandIn(standin.StandIn):
    """See the module docstring."""

    def __init__(self, api_key, port=0, host="127.0.0.1",
                 models=CURRENT_MODELS, organization=None, **config):
        super().__init__(port, host)
        if not api_key:
            raise ValueError("api_key must be set")
        self.api_key = api_key
        self.models = tuple(models)
        self.organization = organization
        self._initial = dict(DEFAULTS)
        self._check_config(config)
        self._initial.update(config)
        self._cfg = copy.deepcopy(self._initial)
        self._calls = []
        self._script = []
        self._images = {}
        self._slock = threading.Lock()

    # -- test API --
    def configure(self, **config):
        """Change latency_ms, image_bytes, moderation, strict_n."""
        self._check_config(config)
        with self._slock:
            self._cfg.update(copy.deepcopy(config))

    def script(self, entries):
        """Replace the scripted replies (see the module docstring)."""
        for e in entries:
            if not isinstance(e, dict) or e.get("kind") not in (
                    "rate_limit", "quota", "server_error", "overloaded",
                    "moderation"):
                raise ValueError("script entry needs a known kind: %r" % e)
        with self._slock:
            self._script = [dict(e, left=e.get("times", 1)) for e in entries]

    def warm(self, *sizes):
        """Make the cached pictures for these "WxH" sizes now, so the first
        request of a benchmark does not pay for drawing them."""
        with self._slock:
            image_bytes = self._cfg["image_bytes"]
        for size in sizes:
            w, h = (int(v) for v in size.split("x"))
            self._image((w, h), image_bytes, "")

    def calls(self, prompt=None):
        """Every generations request seen (also rejected ones), oldest
        first; with prompt, only those whose prompt is exactly that."""
        with self._slock:
            return [dict(c) for c in self._calls
                    if prompt is None or c["prompt"] == prompt]

    def reset(self):
        super().reset()
        with self._slock:
            self._cfg = copy.deepcopy(self._initial)
            self._calls = []
            self._script = []

    @staticmethod
    def _check_config(config):
        unknown = set(config) - set(DEFAULTS)
        if unknown:
            raise ValueError("unknown config keys: %s" % sorted(unknown))
        ib = config.get("image_bytes")
        if ib is not None and (not isinstance(ib, int) or ib < 0):
            raise ValueError("image_bytes must be a non-negative integer")
        lat = config.get("latency_ms", 0)
        if not isinstance(lat, (int, float)) or lat < 0:
            raise ValueError("latency_ms must be >= 0")
        for m in config.get("moderation", []):
            if isinstance(m, dict):
                m = m.get("match")
            if not isinstance(m, str) or not m:
                raise ValueError("moderation entries: a non-empty string"
                                 " or {\"match\": string, \"stage\": ...}")

    # -- HTTP --
    def authorize(self, req):
        if not req.path.startswith("/v1/"):
            return None
        rid = _request_id()
        auth = req.headers.get_all("Authorization") or []
        if len(auth) != 1 or not auth[0].startswith("Bearer "):
            return self._reject(req, rid, *_err(
                401, "You didn't provide an API key. You need to provide"
                " your API key in an Authorization header using Bearer auth"
                " (i.e. Authorization: Bearer YOUR_KEY)."))
        key = auth[0][len("Bearer "):]
        if key != self.api_key:
            return self._reject(req, rid, *_err(
                401, "Incorrect API key provided: %s. You can find your API"
                " key at https://platform.openai.com/account/api-keys."
                % _redact(key), code="invalid_api_key"))
        org = req.headers.get("OpenAI-Organization")
        if self.organization and org != self.organization:
            return self._reject(req, rid, *_err(
                401, "OpenAI-Organization header should match organization"
                " for API key", code="mismatched_organization"))
        req.request_id = rid
        return None

    def handle(self, req):
        rid = getattr(req, "request_id", None) or _request_id()
        if req.method != "POST" or req.path != "/v1/images/generations":
            return self._reject(req, rid, *_err(
                404, "Invalid URL (%s %s)" % (req.method, req.path)))
        ctype = (req.headers.get("Content-Type") or "").split(";")[0]
        if ctype.strip().lower() != "application/json":
            return self._reject(req, rid, *_err(
                400, "Invalid Content-Type header (%s), expected"
                " application/json." % (ctype or "none")))
        try:
            body = json.loads(req.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self._reject(req, rid, *_err(
                400, "We could not parse the JSON body of your request. The"
                " OpenAI API expects a JSON payload."))
        with self._slock:
            cfg = copy.deepcopy(self._cfg)
        err, p = validate(body, self.models, cfg["strict_n"])
        if err:
            return self._reject(req, rid, *err)
        return self._generate(req, rid, p, cfg)

    def _generate(self, req, rid, p, cfg):
        t0 = time.monotonic()
        blocked = _moderation_hit(cfg["moderation"], p["prompt"], "input")
        if blocked:
            return self._reject(req, rid, *_moderation_error(blocked, rid,
                                                             "input"))
        scripted = self._scripted(p["prompt"])
        time.sleep(cfg["latency_ms"] / 1000.0)
        if scripted:
            return self._reject(req, rid, *_script_error(scripted, rid),
                                extra_headers=_script_headers(scripted))
        blocked = _moderation_hit(cfg["moderation"], p["prompt"], "output")
        if blocked:
            return self._reject(req, rid, *_moderation_error(blocked, rid,
                                                             "output"))
        png = self._image(p["wh"], cfg["image_bytes"], p["prompt"])
        out = _answer(p, png, int(self.clock()))
        self._record(req, rid, 200, p["prompt"], p, billed=True)
        ms = int((time.monotonic() - t0) * 1000)
        return standin.json_response(200, out, headers=_headers(rid, ms))

    def _scripted(self, prompt):
        with self._slock:
            for e in self._script:
                if e["left"] > 0 and e.get("match", "") in prompt:
                    e["left"] -= 1
                    return dict(e)
        return None

    def _image(self, wh, image_bytes, prompt):
        # The picture is cached per size; a comment with the prompt's hash
        # makes every prompt's bytes distinct, so tests can tell them apart.
        tag = "prompt-sha256=" + _sha256(prompt)
        key = (wh, image_bytes)
        with self._slock:
            base = self._images.get(key)
        if base is None:
            target = None
            if image_bytes is not None:
                target = image_bytes - pngmake.comment_chunk_len(tag)
            base = pngmake.make_png(wh[0], wh[1], target)
            with self._slock:
                self._images[key] = base
        return pngmake.with_comment(base, tag)

    def _reject(self, req, rid, status, body, extra_headers=()):
        prompt = _prompt_of(req.body)
        self._record(req, rid, status, prompt, None, billed=False)
        hdrs = _headers(rid, 1) + list(extra_headers)
        return standin.json_response(status, body, headers=hdrs)

    def _record(self, req, rid, status, prompt, p, billed):
        with self._slock:
            self._calls.append({
                "time": self.clock(), "request_id": rid, "status": status,
                "prompt": prompt, "model": p["model"] if p else None,
                "size": p["size"] if p else None, "billed": billed})

    def control(self, req, name):
        if name == "openai/calls" and req.method == "GET":
            return standin.json_response(200, self.calls())
        if name == "openai/config" and req.method == "POST":
            self.configure(**json.loads(req.body or b"{}"))
            return standin.json_response(200, {})
        if name == "openai/script" and req.method == "POST":
            self.script(json.loads(req.body or b"[]"))
            return standin.json_response(200, {})
        return None


def _answer(p, png, created):
    w, h = p["wh"]
    quality = "high" if p["quality"] == "auto" else p["quality"]
    text_tokens = len(p["prompt"]) // 4 + 1
    out_tokens = math.ceil(TOKENS_PER_MP[quality] * w * h / (1024 * 1024))
    return {
        "created": created,
        "data": [{"b64_json": base64.b64encode(png).decode("ascii")}],
        "background": ("opaque" if p["background"] == "auto"
                       else p["background"]),
        "output_format": p["output_format"],
        "quality": quality,
        "size": "%dx%d" % (w, h),
        "usage": {
            "input_tokens": text_tokens,
            "input_tokens_details": {"text_tokens": text_tokens,
                                     "image_tokens": 0},
            "output_tokens": out_tokens,
            "output_tokens_details": {"text_tokens": 0,
                                      "image_tokens": out_tokens},
            "total_tokens": text_tokens + out_tokens,
        },
    }


def _moderation_hit(rules, prompt, stage):
    low = prompt.lower()
    for r in rules:
        if isinstance(r, str):
            r = {"match": r}
        if r.get("stage", "input") == stage and r["match"].lower() in low:
            return r
    return None


def _moderation_error(rule, rid, stage):
    cats = rule.get("categories", ["violence"])
    return _err(400, "Your request was rejected by the safety system. If you"
                " believe this is an error, contact us at help.openai.com"
                " and include the request ID %s. safety_violations=[%s]."
                % (rid, ", ".join(cats)),
                etype="image_generation_user_error", code="moderation_blocked",
                extra={"moderation_details": {"moderation_stage": stage,
                                              "categories": cats}})


def _script_error(e, rid):
    kind = e["kind"]
    if kind == "rate_limit":
        return _err(429, "Rate limit reached for images per minute (IPM):"
                    " Limit 5, Used 5, Requested 1. Please try again in"
                    " %.3fs." % (e.get("retry_after_ms", 1000) / 1000.0),
                    etype="requests", code="rate_limit_exceeded")
    if kind == "quota":
        return _err(429, "You exceeded your current quota, please check your"
                    " plan and billing details.", etype="insufficient_quota",
                    code="insufficient_quota")
    if kind == "server_error":
        return _err(500, "The server had an error while processing your"
                    " request. Sorry about that!", etype="server_error")
    if kind == "overloaded":
        return _err(503, "The engine is currently overloaded, please try"
                    " again later.", etype="server_error")
    return _moderation_error(e, rid, e.get("stage", "input"))


def _script_headers(e):
    if e["kind"] != "rate_limit":
        return []
    ms = e.get("retry_after_ms", 1000)
    return [("retry-after-ms", str(ms)),
            ("retry-after", str(max(1, math.ceil(ms / 1000.0)))),
            ("x-ratelimit-remaining-requests", "0")]


def _headers(rid, ms):
    return [("x-request-id", rid), ("openai-processing-ms", str(ms)),
            ("openai-version", "2020-10-01")]


def _request_id():
    return "req_" + os.urandom(16).hex()


def _redact(key):
    if len(key) <= 8:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


def _sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _prompt_of(body):
    try:
        p = json.loads(body.decode("utf-8")).get("prompt")
        return p if isinstance(p, str) else None
    except (UnicodeDecodeError, ValueError, AttributeError):
        return None


def _add_args(p):
    p.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY"),
                   help="expected Bearer key (default: $OPENAI_API_KEY)")
    p.add_argument("--latency-ms", type=float, default=0)
    p.add_argument("--image-bytes", type=int, default=None)
    p.add_argument("--moderation", action="append", default=[],
                   help="prompt substring the safety system refuses")


def _factory(args):
    return OpenAIStandIn(args.api_key, args.port, args.host,
                         latency_ms=args.latency_ms,
                         image_bytes=args.image_bytes,
                         moderation=args.moderation)


if __name__ == "__main__":
    standin.main(_factory, _add_args)
