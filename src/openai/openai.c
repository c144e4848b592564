/*
 * openai.c: the Images API generations call (api-notes section 6): checks
 * the options, builds the JSON request, classifies every failure (refusal,
 * key, model, quota, rate limit, server, network), retries the transient
 * ones with retry_policy_api, and turns data[0].b64_json into image bytes
 * decoded in place inside the response buffer, so the base64 text and the
 * image never both sit in memory (peak about 1.34 x the image).  Relies on
 * core/http, jansson for the small JSON parts, OpenSSL for base64.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/retry.h"
#include "openai/openai.h"

#define OPENAI_PATH "/images/generations"
/* base64 characters per EVP_DecodeBlock() call; a multiple of 4 */
#define OPENAI_B64_CHUNK 4096
/* bytes checked per branch-free block in openai_b64_scan() */
#define OPENAI_B64_SCAN 256
/* An attempt that ran this share of the timeout used all of it (curl
 * stops at the limit, give or take a loop turn). */
#define OPENAI_FULL_TIMEOUT_PCT 90

struct openai_gen {
    struct http *http;
    struct http_req *req;
    openai_done_cb cb;
    void *arg;
    char *url;     /* for log lines; holds no secret */
    char *key_ref; /* named when the key is refused */
    char *job_id;
    long timeout_ms;
    int full_timeouts; /* attempts that used up the whole timeout */
    struct retry_state retry;
    struct openai_result res;
};

/* The parts of an {"error": {...}} body that decisions need. */
struct openai_apierr {
    char type[64];
    char code[64];
    char message[ERR_LEN];
};

/* One failed attempt, as openai_classify() sees it. */
struct openai_attempt {
    CURLcode curl_code;
    const char *curl_error; /* the engine's text for curl_code */
    long status;
    const char *body; /* the error body, or NULL */
    size_t body_len;
    const char *should_retry; /* x-should-retry, or NULL */
    long duration_ms;
    long timeout_ms;
    int full_timeouts; /* earlier attempts that hit the whole timeout */
    const char *key_ref;
};

/* What to do about it. */
struct openai_verdict {
    enum retry_class retry; /* RETRY_NO, RETRY_TRANSIENT or RETRY_THROTTLE */
    int rc;                 /* ERR_RETRY or ERR_FAIL when giving up */
    int refused;
    int quota_exhausted;
    int full_timeout; /* this attempt used up the whole timeout */
    char error[ERR_LEN];
};

/* ---- options ---- */

void
openai_opts_init(struct openai_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->output_compression = -1;
}

static int
openai_in(const char *v, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(v, *list) == 0)
            return 1;
    return 0;
}

/* 1 to max characters of [A-Za-z0-9._:-]. */
static int
openai_token_ok(const char *s, size_t max)
{
    size_t n;

    if (s == NULL)
        return 0;
    n = strlen(s);
    return n > 0 && n <= max &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789._:-") == n;
}

/* "auto" or WIDTHxHEIGHT: the form only; the API knows each model's sizes. */
static int
openai_size_ok(const char *s)
{
    size_t w, h;

    if (strcmp(s, "auto") == 0)
        return 1;
    w = strspn(s, "0123456789");
    if (w == 0 || w > 5 || s[0] == '0' || s[w] != 'x')
        return 0;
    s += w + 1;
    h = strspn(s, "0123456789");
    return h > 0 && h <= 5 && s[0] != '0' && s[h] == '\0';
}

static int
openai_url_ok(const char *u)
{
    if (u == NULL ||
        (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0))
        return 0;
    for (; *u != '\0'; u++)
        if ((unsigned char)*u <= 0x20 || *u == 0x7f || *u == '?' || *u == '#')
            return 0;
    return 1;
}

/* The key travels in a header: printable ASCII without blanks. */
static int
openai_key_ok(const char *k)
{
    if (k == NULL || *k == '\0')
        return 0;
    for (; *k != '\0'; k++)
        if ((unsigned char)*k <= 0x20 || (unsigned char)*k >= 0x7f)
            return 0;
    return 1;
}

/* Characters (code points) in s, or -1 if s is not valid UTF-8. */
static long
openai_utf8_len(const unsigned char *s)
{
    long n = 0;

    for (; *s != '\0'; n++) {
        unsigned c = *s, cp;
        int k;

        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            k = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            k = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            k = 3, cp = c & 0x07;
        else
            return -1;
        for (int i = 1; i <= k; i++) { /* stops at the NUL too */
            if ((s[i] & 0xc0) != 0x80)
                return -1;
            cp = cp << 6 | (s[i] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return -1;
        s += k + 1;
    }
    return n;
}

static int
openai_check_values(const struct openai_opts *o, char err[ERR_LEN])
{
    static const char *const qualities[] = {"auto",  "low", "medium", "high",
                                            "xhigh", "max", NULL};
    static const char *const formats[] = {"png", "jpeg", "webp", NULL};
    const char *fmt = o->output_format ? o->output_format : "png";
    int c = o->output_compression;

    if (o->size != NULL && !openai_size_ok(o->size))
        snprintf(err, ERR_LEN, "openai size must be auto or WIDTHxHEIGHT");
    else if (o->quality != NULL && !openai_in(o->quality, qualities))
        snprintf(err, ERR_LEN,
                 "openai quality must be auto, low, medium, "
                 "high, xhigh or max");
    else if (!openai_in(fmt, formats))
        snprintf(err, ERR_LEN,
                 "openai output_format must be png, jpeg or "
                 "webp (the formats X takes that spookyd can check)");
    else if (c != -1 && (c < 0 || c > 100 || strcmp(fmt, "png") == 0))
        snprintf(err, ERR_LEN,
                 "openai output_compression must be unset "
                 "(-1) or 0-100 with output_format jpeg or webp");
    else
        return 0;
    return ERR_FAIL;
}

static int
openai_check_opts(const struct openai_opts *o, char err[ERR_LEN])
{
    if (o == NULL)
        snprintf(err, ERR_LEN, "openai: no options");
    else if (!openai_url_ok(o->base_url))
        snprintf(err, ERR_LEN,
                 "openai base_url must be an http or https "
                 "URL without query or fragment");
    else if (!openai_key_ok(o->api_key))
        snprintf(err, ERR_LEN,
                 "the OpenAI API key (%s) is empty or holds "
                 "blanks or control characters",
                 o->api_key_ref ? o->api_key_ref : "unnamed");
    else if (!openai_token_ok(o->model, 128))
        snprintf(err, ERR_LEN,
                 "openai model must be a model name such as "
                 "gpt-image-2");
    else if (o->timeout_ms < 0)
        snprintf(err, ERR_LEN, "openai timeout must not be negative");
    else if (o->organization != NULL && !openai_token_ok(o->organization, 128))
        snprintf(err, ERR_LEN, "openai organization id is malformed");
    else if (o->project != NULL && !openai_token_ok(o->project, 128))
        snprintf(err, ERR_LEN, "openai project id is malformed");
    else
        return openai_check_values(o, err);
    return ERR_FAIL;
}

int
openai_check(const struct openai_opts *o, const char *prompt, char err[ERR_LEN])
{
    long chars;

    if (openai_check_opts(o, err) != 0)
        return ERR_FAIL;
    if (prompt == NULL || *prompt == '\0') {
        snprintf(err, ERR_LEN, "the image prompt is empty");
        return ERR_FAIL;
    }
    chars = openai_utf8_len((const unsigned char *)prompt);
    if (chars < 0) {
        snprintf(err, ERR_LEN, "the image prompt is not valid UTF-8");
        return ERR_FAIL;
    }
    if (chars > OPENAI_PROMPT_MAX) {
        snprintf(err, ERR_LEN,
                 "the image prompt has %ld characters, over "
                 "the API's %d",
                 chars, OPENAI_PROMPT_MAX);
        return ERR_FAIL;
    }
    return 0;
}

/* ---- request ---- */

/* The generations body (from malloc), or NULL if jansson cannot make it.
 * No response_format or style: GPT image models refuse both. */
static char *
openai_body_json(const struct openai_opts *o, const char *prompt)
{
    json_t *root = json_object();
    char *text;

    json_object_set_new(root, "model", json_string(o->model));
    json_object_set_new(root, "prompt", json_string(prompt));
    json_object_set_new(root, "n", json_integer(1));
    json_object_set_new(root, "size", json_string(o->size ? o->size : "auto"));
    json_object_set_new(root, "quality",
                        json_string(o->quality ? o->quality : "auto"));
    json_object_set_new(
        root, "output_format",
        json_string(o->output_format ? o->output_format : "png"));
    if (o->output_compression >= 0)
        json_object_set_new(root, "output_compression",
                            json_integer(o->output_compression));
    text = json_object_size(root) >= 6 ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return text;
}

/* ---- error text ---- */

/* Append text to the string in out (size bytes), control characters
 * turned into spaces, cut at a character boundary with "..." if long. */
static void
openai_append(char *out, size_t size, const char *text)
{
    size_t used = strlen(out), n = strlen(text);
    int cut = 0;

    if (used + n + 1 > size) {
        if (used + 4 > size)
            return;
        n = size - used - 4;
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--;
        cut = 1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];

        out[used + i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    memcpy(out + used + n, cut ? "..." : "", cut ? 4 : 1);
}

/* err = "prefix: message" (just prefix without a message). */
static void
openai_reason(char err[ERR_LEN], const char *prefix, const char *message)
{
    err[0] = '\0';
    openai_append(err, ERR_LEN, prefix);
    if (message != NULL && *message != '\0') {
        openai_append(err, ERR_LEN, ": ");
        openai_append(err, ERR_LEN, message);
    }
}

static void
openai_copy_str(char *out, size_t size, json_t *v)
{
    const char *s = json_string_value(v);

    snprintf(out, size, "%s", s != NULL ? s : "");
}

/* Read type, code and message; anything missing stays "". */
static void
openai_parse_error(const char *body, size_t len, struct openai_apierr *e)
{
    json_t *root, *err;

    memset(e, 0, sizeof(*e));
    if (body == NULL || len == 0)
        return;
    root = json_loadb(body, len, 0, NULL);
    err = json_object_get(root, "error");
    openai_copy_str(e->type, sizeof(e->type), json_object_get(err, "type"));
    openai_copy_str(e->code, sizeof(e->code), json_object_get(err, "code"));
    openai_copy_str(e->message, sizeof(e->message),
                    json_object_get(err, "message"));
    json_decref(root);
}

/* ---- classification ---- */

static void
openai_classify_transport(const struct openai_attempt *a,
                          struct openai_verdict *v)
{
    struct retry_outcome o = {.curl_code = a->curl_code};
    const char *why = a->curl_error ? a->curl_error : "";

    v->rc = ERR_RETRY;
    if (a->curl_code == CURLE_FILESIZE_EXCEEDED) {
        v->rc = ERR_FAIL;
        openai_reason(v->error,
                      "OpenAI's answer is too large for X's "
                      "5 MB image limit; ask for output_format=jpeg or "
                      "webp",
                      why);
    } else if (a->curl_code == CURLE_OPERATION_TIMEDOUT &&
               a->duration_ms * 100 >=
                   a->timeout_ms * OPENAI_FULL_TIMEOUT_PCT) {
        /* The image may have been made and billed: one more try only. */
        v->full_timeout = 1;
        v->retry = a->full_timeouts > 0 ? RETRY_NO : RETRY_TRANSIENT;
        snprintf(v->error, ERR_LEN, "no answer from OpenAI within %ld ms%s",
                 a->timeout_ms,
                 a->full_timeouts > 0 ? ", twice: not tried again, as "
                                        "each finished image is billed"
                                      : "");
    } else {
        v->retry =
            retry_classify(&o) == RETRY_TRANSIENT ? RETRY_TRANSIENT : RETRY_NO;
        if (a->curl_code == CURLE_URL_MALFORMAT ||
            a->curl_code == CURLE_UNSUPPORTED_PROTOCOL)
            v->rc = ERR_FAIL;
        openai_reason(v->error, "OpenAI request failed", why);
    }
}

/* By status; the error message is never quoted for 401, as OpenAI's
 * repeats part of the key. */
static void
openai_classify_status(const struct openai_attempt *a,
                       const struct openai_apierr *e, struct openai_verdict *v)
{
    const char *name = e->code[0] ? e->code : e->type;
    const char *ref = a->key_ref ? a->key_ref : "the API key";
    char prefix[96];
    long st = a->status;

    v->rc = ERR_FAIL;
    if (st == 401) {
        snprintf(v->error, ERR_LEN, "OpenAI rejected the %s (%s)",
                 strcmp(e->code, "mismatched_organization") == 0
                     ? "organization id for the API key"
                     : "API key",
                 ref);
        return;
    }
    if (st == 429) {
        v->retry = RETRY_THROTTLE;
        v->rc = ERR_RETRY;
    } else if (st == 408 || st == 409 || (st >= 500 && st <= 599)) {
        v->retry = RETRY_TRANSIENT;
        v->rc = ERR_RETRY;
    }
    snprintf(prefix, sizeof(prefix), "HTTP %ld%s%s", st, name[0] ? " " : "",
             name);
    openai_reason(v->error, prefix, e->message);
}

/* Decide about a failed attempt (anything but a complete 200).  Refusals
 * and exhausted quota are final whatever the headers say; otherwise
 * x-should-retry overrides the status, as in OpenAI's own SDKs. */
static void
openai_classify(const struct openai_attempt *a, struct openai_verdict *v)
{
    struct openai_apierr e;

    memset(v, 0, sizeof(*v));
    v->retry = RETRY_NO;
    if (a->curl_code != CURLE_OK) {
        openai_classify_transport(a, v);
        return;
    }
    openai_parse_error(a->body, a->body_len, &e);
    v->rc = ERR_FAIL;
    /* A 401's message may repeat part of the key: decide it by status
     * before any code could quote the message. */
    if (a->status != 401 && (strcmp(e.code, "moderation_blocked") == 0 ||
        strcmp(e.code, "content_policy_violation") == 0 ||
        strcmp(e.type, "image_generation_user_error") == 0)) {
        v->refused = 1;
        openai_reason(v->error, e.code[0] ? e.code : e.type, e.message);
        return;
    }
    if (a->status != 401 && (strcmp(e.code, "insufficient_quota") == 0 ||
                             strcmp(e.type, "insufficient_quota") == 0)) {
        v->quota_exhausted = 1;
        openai_reason(v->error, "insufficient_quota", e.message);
        return;
    }
    openai_classify_status(a, &e, v);
    if (a->should_retry != NULL && strcasecmp(a->should_retry, "true") == 0) {
        if (v->retry == RETRY_NO)
            v->retry = RETRY_TRANSIENT;
        v->rc = ERR_RETRY;
    } else if (a->should_retry != NULL &&
               strcasecmp(a->should_retry, "false") == 0) {
        v->retry = RETRY_NO;
    }
}

/* ---- the image out of a 200 answer ---- */

/* Index of the quote that closes the JSON string starting at start. */
static int
openai_string_end(const char *s, size_t len, size_t start, size_t *end)
{
    for (size_t pos = start; pos < len;) {
        const char *q = memchr(s + pos, '"', len - pos);
        size_t i, bs = 0;

        if (q == NULL)
            break;
        i = (size_t)(q - s);
        while (i - bs > start && s[i - bs - 1] == '\\')
            bs++;
        if (bs % 2 == 0) {
            *end = i;
            return 0;
        }
        pos = i + 1;
    }
    return ERR_FAIL;
}

static size_t
openai_skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* Find the first "b64_json" key (a real key: strings are skipped whole)
 * and its string value, whose text is s[*v0 .. *v1). */
static int
openai_find_b64(const char *s, size_t len, size_t *v0, size_t *v1)
{
    size_t i = 0, start, end;

    while (i < len) {
        const char *q = memchr(s + i, '"', len - i);

        if (q == NULL)
            break;
        start = (size_t)(q - s) + 1;
        if (openai_string_end(s, len, start, &end) != 0)
            break;
        i = openai_skip_ws(s, len, end + 1);
        if (end - start != 8 || memcmp(s + start, "b64_json", 8) != 0 ||
            i >= len || s[i] != ':')
            continue;
        i = openai_skip_ws(s, len, i + 1);
        if (i >= len || s[i] != '"')
            break;
        *v0 = i + 1;
        return openai_string_end(s, len, *v0, v1);
    }
    return ERR_FAIL;
}

/* JSON may spell '/' as "\/"; no other escape belongs in base64.
 * Compacts the len bytes at s in place; *n gets the new length. */
static int
openai_unescape(char *s, size_t len, size_t *n, char err[ERR_LEN])
{
    const char *bs = memchr(s, '\\', len);
    size_t j;

    if (bs == NULL) {
        *n = len;
        return 0;
    }
    j = (size_t)(bs - s);
    for (size_t i = j; i < len; i++) {
        if (s[i] == '\\') {
            if (i + 1 >= len || s[i + 1] != '/') {
                snprintf(err, ERR_LEN,
                         "OpenAI's data[0].b64_json holds a "
                         "JSON escape that is not base64");
                return ERR_FAIL;
            }
            i++;
        }
        s[j++] = s[i];
    }
    *n = j;
    return 0;
}

/* 1 for the 64 characters of standard base64 (RFC 4648 section 4) by
 * byte value, 0 for all else ('=' too: padding is stripped first). */
static const unsigned char openai_b64_set[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, /* 0x20: + / */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 0x30: 0-9 */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40: A-O */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, /* 0x50: P-Z */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60: a-o */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, /* 0x70: p-z */
};

/* Offset of the first byte of in[0 .. n) outside the alphabet, or n.
 * Each block is checked without a branch per byte: on random base64 such
 * branches mispredict so often that the check cost more than decoding
 * (about 6 ms per 2 MiB image instead of 1).  Only a block that holds a
 * bad byte is searched. */
static size_t
openai_b64_scan(const char *in, size_t n)
{
    for (size_t i = 0; i < n; i += OPENAI_B64_SCAN) {
        size_t end = n - i < OPENAI_B64_SCAN ? n : i + OPENAI_B64_SCAN;
        unsigned char all = 1;

        for (size_t k = i; k < end; k++)
            all &= openai_b64_set[(unsigned char)in[k]];
        if (all)
            continue;
        while (openai_b64_set[(unsigned char)in[i]])
            i++;
        return i;
    }
    return n;
}

/* Decode n characters of standard base64 at in (padding optional) into
 * out, which may be in itself or lie before it: output trails the input,
 * and each chunk goes through a stack buffer.  EVP_DecodeBlock() decodes
 * '=' as zero bits and counts them as bytes, so the padding is stripped
 * here and the last 2-3 characters are decoded on their own. */
static int
openai_b64_decode(unsigned char *out, const char *in, size_t n, size_t *out_len,
                  char err[ERR_LEN])
{
    unsigned char chunk[OPENAI_B64_CHUNK / 4 * 3];
    unsigned char quad[4] = {'A', 'A', 'A', 'A'};
    size_t pad = 0, rest, full, o = 0, bad;

    while (pad < 2 && n > 0 && in[n - 1] == '=')
        n--, pad++;
    if ((bad = openai_b64_scan(in, n)) < n) {
        snprintf(err, ERR_LEN, "invalid base64 character at offset %zu", bad);
        return ERR_FAIL;
    }
    rest = n % 4;
    if (rest == 1 || (pad > 0 && rest + pad != 4)) {
        snprintf(err, ERR_LEN, "base64 of impossible length");
        return ERR_FAIL;
    }
    full = n - rest;
    for (size_t i = 0; i < full; i += OPENAI_B64_CHUNK) {
        size_t step = full - i < OPENAI_B64_CHUNK ? full - i : OPENAI_B64_CHUNK;

        if (EVP_DecodeBlock(chunk, (const unsigned char *)in + i, (int)step) !=
            (int)(step / 4 * 3)) {
            snprintf(err, ERR_LEN, "base64 decoding failed");
            return ERR_FAIL;
        }
        memcpy(out + o, chunk, step / 4 * 3);
        o += step / 4 * 3;
    }
    if (rest > 0) {
        memcpy(quad, in + full, rest);
        if (EVP_DecodeBlock(chunk, quad, 4) != 3) {
            snprintf(err, ERR_LEN, "base64 decoding failed");
            return ERR_FAIL;
        }
        memcpy(out + o, chunk, rest - 1);
        o += rest - 1;
    }
    *out_len = o;
    return 0;
}

static long long
openai_int(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* The answer without its base64 text (body minus s[v0 .. v1)), parsed;
 * NULL if it is not JSON.  The part left out is small. */
static json_t *
openai_load_rest(const char *body, size_t len, size_t v0, size_t v1)
{
    size_t n = v0 + (len - v1);
    char *rest = mem_alloc(n + 1);
    json_t *root;

    memcpy(rest, body, v0);
    memcpy(rest + v0, body + v1, len - v1);
    root = json_loadb(rest, n, 0, NULL);
    free(rest);
    return root;
}

/* Check that the string taken out of root (NULL: not JSON) was
 * data[0].b64_json, and read the usage.  root is released. */
static int
openai_read_answer(json_t *root, struct openai_usage *u, char err[ERR_LEN])
{
    json_t *data0 = json_array_get(json_object_get(root, "data"), 0);
    json_t *b64 = json_object_get(data0, "b64_json");
    json_t *usage = json_object_get(root, "usage");
    int rc = 0;

    if (!json_is_string(b64) || json_string_length(b64) != 0) {
        snprintf(err, ERR_LEN, "OpenAI's answer %s",
                 root ? "has no data[0].b64_json" : "is not JSON");
        rc = ERR_FAIL;
    }
    u->input_tokens = openai_int(usage, "input_tokens");
    u->output_tokens = openai_int(usage, "output_tokens");
    u->total_tokens = openai_int(usage, "total_tokens");
    json_decref(root);
    return rc;
}

static int
openai_check_image(const void *img, size_t len, struct image_info *info,
                   char err[ERR_LEN])
{
    char why[ERR_LEN];

    if (image_sniff(img, len, info, why) != 0) {
        openai_reason(err, "OpenAI's answer is not a usable image", why);
        return ERR_FAIL;
    }
    if (len > OPENAI_MAX_IMAGE_BYTES) {
        snprintf(err, ERR_LEN,
                 "the %s image is %zu bytes, over X's limit "
                 "of %u: ask for output_format=jpeg or webp",
                 info->extension, len, OPENAI_MAX_IMAGE_BYTES);
        return ERR_FAIL;
    }
    return 0;
}

/* Turn a 200 body (len bytes from malloc, NUL after them) into res's
 * image and usage.  The body is consumed: it becomes the image, or is
 * freed.  0 or ERR_FAIL with err. */
static int
openai_take_image(char *body, size_t len, struct openai_result *res,
                  char err[ERR_LEN])
{
    size_t v0, v1, n, img_len;
    int rc = ERR_FAIL;

    if (openai_find_b64(body, len, &v0, &v1) != 0) {
        /* only to tell "not JSON" from "no image" */
        if (openai_read_answer(json_loadb(body, len, 0, NULL), &res->usage,
                               err) == 0)
            snprintf(err, ERR_LEN,
                     "OpenAI's answer has no readable "
                     "data[0].b64_json");
        goto out;
    }
    if (openai_unescape(body + v0, v1 - v0, &n, err) != 0 ||
        openai_read_answer(openai_load_rest(body, len, v0, v1), &res->usage,
                           err) != 0 ||
        openai_b64_decode((unsigned char *)body, body + v0, n, &img_len, err) !=
            0)
        goto out;
    body = mem_realloc(body, img_len > 0 ? img_len : 1);
    if (openai_check_image(body, img_len, &res->info, err) != 0)
        goto out;
    res->image = (unsigned char *)body;
    res->image_len = img_len;
    body = NULL;
    rc = 0;
out:
    free(body);
    return rc;
}

/* ---- the request on the loop ---- */

static void openai_on_done(struct http_req *req, struct http_resp *resp,
                           void *arg);

static void
openai_gen_free(struct openai_gen *g)
{
    if (g == NULL)
        return;
    http_req_free(g->req);
    free(g->res.image);
    free(g->url);
    free(g->key_ref);
    free(g->job_id);
    free(g);
}

static void
openai_log_ctx(const struct openai_gen *g, const struct http_resp *resp,
               struct log_ctx *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->job_id = g->job_id;
    ctx->http_method = "POST";
    ctx->url = g->url;
    ctx->request_id = g->res.request_id[0] ? g->res.request_id : NULL;
    ctx->http_status = (int)resp->status;
    ctx->duration_ms = resp->duration_ms;
    ctx->attempt = g->res.attempts;
}

/* Deliver the result, then free everything the caller did not take. */
static void
openai_finish(struct openai_gen *g, int rc, const char *error)
{
    g->res.rc = rc;
    snprintf(g->res.error, ERR_LEN, "%s", rc == 0 ? "" : error);
    g->cb(&g->res, g->arg);
    openai_gen_free(g);
}

/* Record what every answer says: status, request id, retry-after. */
static void
openai_note(struct openai_gen *g, const struct http_resp *resp)
{
    const char *rid = http_resp_header(resp, "x-request-id");
    uint64_t ms;
    size_t n = 0;

    g->res.attempts++;
    g->res.http_status = resp->status;
    /* it goes into log fields: printable ASCII only */
    while (rid != NULL && rid[n] > 0x20 && rid[n] < 0x7f &&
           n + 1 < sizeof(g->res.request_id)) {
        g->res.request_id[n] = rid[n];
        n++;
    }
    g->res.request_id[n] = '\0';
    g->res.retry_after_ms =
        http_resp_retry_after_ms(resp, time(NULL), &ms) == 0 ? (int64_t)ms : -1;
}

static void
openai_succeeded(struct openai_gen *g, struct http_resp *resp)
{
    size_t len = resp->body.len;
    char *body = buf_steal(&resp->body);
    struct openai_result *r = &g->res;
    struct log_ctx ctx;
    char err[ERR_LEN];

    openai_log_ctx(g, resp, &ctx);
    if (openai_take_image(body, len, r, err) != 0) {
        /* A 200 was billed; asking again would likely bill again. */
        log_warn(&ctx, "openai answer unusable, not retried: %s", err);
        openai_finish(g, ERR_FAIL, err);
        return;
    }
    retry_success(NULL, &g->retry);
    log_info(&ctx, "openai image: %zu bytes, %s %ux%u, %lld output tokens",
             r->image_len, r->info.content_type, r->info.width, r->info.height,
             r->usage.output_tokens);
    openai_finish(g, 0, "");
}

/* Schedule another attempt if the policy allows; 1 if one is coming. */
static int
openai_retry(struct openai_gen *g, struct http_req *req,
             struct openai_verdict *v, const struct log_ctx *ctx)
{
    /* The class was decided here (OpenAI's codes, 409, x-should-retry);
     * retry_next() counts, backs off and clamps the server's wait for
     * any outcome of that class. */
    struct retry_outcome o = {
        .curl_code = CURLE_OK,
        .status = v->retry == RETRY_THROTTLE ? 429 : 503,
    };
    char why[ERR_LEN];
    uint64_t delay;

    if (retry_next(&retry_policy_api, NULL, &g->retry, &o, retry_random(),
                   g->res.retry_after_ms, &delay, why) != 0) {
        openai_append(v->error, ERR_LEN, " (");
        openai_append(v->error, ERR_LEN, why);
        openai_append(v->error, ERR_LEN, ")");
        return 0;
    }
    if (http_start_after(g->http, req, delay, openai_on_done, g) != 0) {
        openai_append(v->error, ERR_LEN, " (no retry: HTTP engine closing)");
        return 0;
    }
    log_warn(ctx, "openai attempt failed, retrying in %llu ms: %s",
             (unsigned long long)delay, v->error);
    return 1;
}

static void
openai_failed(struct openai_gen *g, struct http_req *req,
              struct http_resp *resp)
{
    struct openai_attempt a = {
        .curl_code = resp->curl_code,
        .curl_error = resp->error,
        .status = resp->status,
        .body = resp->body.data,
        .body_len = resp->body.len,
        .should_retry = http_resp_header(resp, "x-should-retry"),
        .duration_ms = resp->duration_ms,
        .timeout_ms = g->timeout_ms,
        .full_timeouts = g->full_timeouts,
        .key_ref = g->key_ref,
    };
    struct openai_verdict v;
    struct log_ctx ctx;

    openai_log_ctx(g, resp, &ctx);
    openai_classify(&a, &v);
    g->full_timeouts += v.full_timeout;
    g->res.refused = v.refused;
    g->res.quota_exhausted = v.quota_exhausted;
    if (v.retry != RETRY_NO && openai_retry(g, req, &v, &ctx))
        return;
    log_warn(&ctx, "openai attempt failed, giving up: %s", v.error);
    openai_finish(g, v.rc, v.error);
}

static void
openai_on_done(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct openai_gen *g = arg;

    openai_note(g, resp);
    if (resp->curl_code == CURLE_OK && resp->status == 200)
        openai_succeeded(g, resp);
    else
        openai_failed(g, req, resp);
}

static int
openai_add_header(struct http_req *req, const char *name, const char *value)
{
    char *line;
    int rc;

    if (value == NULL)
        return 0;
    line = mem_printf("%s: %s", name, value);
    rc = http_req_add_header(req, line);
    mem_free_secret_str(line); /* one of them is the key */
    return rc;
}

static int
openai_build(struct openai_gen *g, const struct openai_opts *o,
             const char *prompt, char err[ERR_LEN])
{
    char *body, *bearer;
    int bad = 0;

    if ((g->req = http_req_new("POST", g->url)) == NULL) {
        snprintf(err, ERR_LEN, "openai base_url does not make a valid URL");
        return ERR_FAIL;
    }
    if ((body = openai_body_json(o, prompt)) == NULL) {
        snprintf(err, ERR_LEN, "could not encode the request as JSON");
        return ERR_FAIL;
    }
    http_req_take_body(g->req, body, strlen(body));
    bearer = mem_printf("Bearer %s", o->api_key);
    bad |= openai_add_header(g->req, "Authorization", bearer);
    mem_free_secret_str(bearer);
    bad |= openai_add_header(g->req, "Content-Type", "application/json");
    bad |= openai_add_header(g->req, "Accept", "application/json");
    bad |= openai_add_header(g->req, "OpenAI-Organization", o->organization);
    bad |= openai_add_header(g->req, "OpenAI-Project", o->project);
    http_req_set_timeouts(g->req, 0, g->timeout_ms);
    http_req_set_max_response(g->req, OPENAI_MAX_RESPONSE);
    if (bad != 0) {
        snprintf(err, ERR_LEN, "the HTTP engine refused a request header");
        return ERR_FAIL;
    }
    return 0;
}

static struct openai_gen *
openai_gen_new(struct http *h, const struct openai_opts *o, openai_done_cb cb,
               void *arg)
{
    struct openai_gen *g = mem_calloc(1, sizeof(*g));
    size_t n = strlen(o->base_url);

    while (n > 0 && o->base_url[n - 1] == '/')
        n--;
    g->http = h;
    g->cb = cb;
    g->arg = arg;
    g->url = mem_printf("%.*s%s", (int)n, o->base_url, OPENAI_PATH);
    g->key_ref = mem_strdup(o->api_key_ref ? o->api_key_ref : "the API key");
    g->job_id = mem_strdup(o->job_id);
    g->timeout_ms =
        o->timeout_ms > 0 ? o->timeout_ms : OPENAI_DEFAULT_TIMEOUT_MS;
    retry_state_init(&g->retry);
    g->res.retry_after_ms = -1;
    g->res.usage.input_tokens = -1;
    g->res.usage.output_tokens = -1;
    g->res.usage.total_tokens = -1;
    return g;
}

struct openai_gen *
openai_generate(struct http *h, const struct openai_opts *opts,
                const char *prompt, openai_done_cb cb, void *arg)
{
    struct log_ctx ctx = {0};
    struct openai_gen *g;
    char err[ERR_LEN];

    ctx.job_id = opts != NULL ? opts->job_id : NULL;
    if (h == NULL || cb == NULL) {
        log_warn(&ctx, "openai request not sent: no engine or callback");
        return NULL;
    }
    if (openai_check(opts, prompt, err) != 0) {
        log_warn(&ctx, "openai request not sent: %s", err);
        return NULL;
    }
    log_debug(&ctx, "openai prompt: %s", prompt);
    g = openai_gen_new(h, opts, cb, arg);
    if (openai_build(g, opts, prompt, err) == 0) {
        if (http_start(h, g->req, openai_on_done, g) == 0)
            return g;
        snprintf(err, ERR_LEN, "the HTTP engine refused the request");
    }
    log_warn(&ctx, "openai request not sent: %s", err);
    openai_gen_free(g);
    return NULL;
}

void
openai_cancel(struct openai_gen *g)
{
    openai_gen_free(g); /* http_req_free() cancels a busy request */
}

unsigned char *
openai_result_take_image(struct openai_result *res, size_t *len)
{
    unsigned char *img;

    if (res == NULL || res->image == NULL)
        return NULL;
    img = res->image;
    if (len != NULL)
        *len = res->image_len;
    res->image = NULL;
    res->image_len = 0;
    return img;
}
