/*
 * x.c: the X API v2 client (docs/api-notes.md section 7): credentials,
 * request bodies, OAuth-signed attempts on the HTTP engine, and the
 * upload -> alt text -> post state machine.  Relies on x/oauth1 to sign,
 * x/xerr to read errors, core/retry for backoff.  No chunked upload: one
 * image of at most 5 MiB goes in a single multipart request.
 */
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/log.h"
#include "core/mem.h"
#include "x/oauth1.h"
#include "x/x.h"
#include "x/xerr.h"
#include "x/xtext.h"

#define X_STEPS_MAX 3
/* A clock this far from X's (by a 401's Date header) is corrected. */
#define X_SKEW_TOLERANCE_S 30
/* An upload slower than this many bytes/s for X_UPLOAD_STALL_S is
 * abandoned as stalled rather than left to the whole timeout. */
#define X_UPLOAD_MIN_RATE 1024
#define X_UPLOAD_STALL_S 30

struct x {
    uv_loop_t *loop;
    struct http *engine;
    struct x_creds creds;
    char *base_url;
    char *creds_ref;
    const struct retry_policy *policy;
    long timeout_ms, upload_timeout_ms;
    struct retry_quota quota;
    long long clock_offset_s; /* X's clock minus ours, from a 401 */
    struct x_op *ops;         /* running operations */
};

/* A backoff wait: allocated apart because the timer's memory must
 * outlive uv_close() while the operation may be freed at once. */
struct x_wait {
    uv_timer_t timer;
    struct x_op *op; /* NULL once cancelled */
};

struct x_op {
    struct x *x;
    struct x_op *prev, *next;
    enum x_step steps[X_STEPS_MAX];
    int n_steps, cur;
    char *job_id;
    char *upload_body; /* multipart, kept for retries */
    size_t upload_len;
    char *upload_ctype; /* "Content-Type: multipart/form-data; ..." */
    char *alt_text;
    char *text;
    char *media_ids[X_MEDIA_IDS_MAX];
    size_t n_media;
    char *url;       /* of the current step */
    char *json_body; /* of the current step, unless it is the upload */
    struct http_req *req;
    struct x_wait *wait;
    struct retry_state retry;
    int skew_retried;
    struct x_result res;
    x_done_cb cb;
    void *arg;
};

/* ---- credentials ---- */

static const char *const x_cred_names[4] = {
    "API_KEY",
    "API_SECRET",
    "ACCESS_TOKEN",
    "ACCESS_TOKEN_SECRET",
};

static char **
x_cred_slot(struct x_creds *c, int i)
{
    char **slots[4] = {&c->consumer_key, &c->consumer_secret, &c->token,
                       &c->token_secret};

    return slots[i];
}

/* jansson frees its parse buffers and strings with this while the
 * credentials are parsed, so no copy of a secret is left in freed heap. */
static void
x_wiping_free(void *p)
{
    if (p != NULL)
        OPENSSL_cleanse(p, malloc_usable_size(p));
    free(p);
}

/* A value pasted with a newline or blank at either end, or with control
 * characters, would be signed as is and refused as a bad signature. */
static int
x_badly_trimmed(const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 1;
    return s[0] == ' ' || s[n - 1] == ' ';
}

/* Check one member; 0, or ERR_FAIL with the problem appended to bad. */
static int
x_cred_get(json_t *root, int i, char **out, char *bad, size_t size)
{
    json_t *v = json_object_get(root, x_cred_names[i]);
    const char *s = json_string_value(v);
    size_t n = strlen(bad);
    const char *why = NULL;

    if (v == NULL)
        why = "missing";
    else if (s == NULL || *s == '\0')
        why = "not a non-empty string";
    else if (x_badly_trimmed(s))
        why = "has surrounding blanks or control characters";
    if (why == NULL) {
        *out = mem_strdup(s);
        return 0;
    }
    snprintf(bad + n, size - n, "%s%s %s", n ? "; " : "", x_cred_names[i], why);
    return ERR_FAIL;
}

struct x_creds *
x_creds_parse(const char *json, char err[ERR_LEN])
{
    json_malloc_t old_malloc;
    json_free_t old_free;
    json_error_t jerr;
    struct x_creds *c = mem_calloc(1, sizeof(*c));
    char bad[ERR_LEN - sizeof("X credentials: ") + 1] = "";
    json_t *root;
    int rc = 0;

    json_get_alloc_funcs(&old_malloc, &old_free);
    json_set_alloc_funcs(malloc, x_wiping_free);
    root =
        json != NULL ? json_loads(json, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!json_is_object(root)) {
        /* jerr.text may quote the input: give the position only. */
        if (root == NULL && json != NULL)
            snprintf(err, ERR_LEN,
                     "X credentials are not valid JSON "
                     "(line %d, column %d)",
                     jerr.line, jerr.column);
        else
            snprintf(err, ERR_LEN, "X credentials are not a JSON object");
        rc = ERR_FAIL;
    }
    for (int i = 0; rc == 0 && i < 4; i++)
        x_cred_get(root, i, x_cred_slot(c, i), bad, sizeof(bad));
    if (rc == 0 && bad[0] != '\0') {
        snprintf(err, ERR_LEN, "X credentials: %s", bad);
        rc = ERR_FAIL;
    }
    json_decref(root);
    json_set_alloc_funcs(old_malloc, old_free);
    if (rc != 0) {
        x_creds_free(c);
        return NULL;
    }
    return c;
}

static void
x_creds_cleanup(struct x_creds *c)
{
    for (int i = 0; i < 4; i++) {
        mem_free_secret_str(*x_cred_slot(c, i));
        *x_cred_slot(c, i) = NULL;
    }
}

void
x_creds_free(struct x_creds *c)
{
    if (c == NULL)
        return;
    x_creds_cleanup(c);
    free(c);
}

/* ---- input checks ---- */

/* 1-19 decimal digits. */
static int
x_id_ok(const char *id)
{
    size_t n = id != NULL ? strspn(id, "0123456789") : 0;

    return n >= 1 && n <= 19 && id[n] == '\0';
}

/* Code points in valid UTF-8 s (continuation bytes not counted). */
static size_t
x_code_points(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* 0 if data looks like media_type; else ERR_FAIL with err. */
static int
x_image_check(const void *data, size_t len, const char *media_type,
              char err[ERR_LEN])
{
    const unsigned char *b = data;

    if (data == NULL || len == 0) {
        snprintf(err, ERR_LEN, "media upload: the image is empty");
        return ERR_FAIL;
    }
    if (len > X_IMAGE_MAX) {
        snprintf(err, ERR_LEN,
                 "media upload: the image is %zu bytes; X "
                 "takes at most %u",
                 len, X_IMAGE_MAX);
        return ERR_FAIL;
    }
    if (media_type == NULL || (strcmp(media_type, "image/png") != 0 &&
                               strcmp(media_type, "image/jpeg") != 0 &&
                               strcmp(media_type, "image/webp") != 0)) {
        snprintf(err, ERR_LEN,
                 "media upload: media type must be "
                 "image/png, image/jpeg or image/webp");
        return ERR_FAIL;
    }
    if ((strcmp(media_type, "image/png") == 0 &&
         (len < 8 || memcmp(b, "\x89PNG\r\n\x1a\n", 8) != 0)) ||
        (strcmp(media_type, "image/jpeg") == 0 &&
         (len < 3 || memcmp(b, "\xff\xd8\xff", 3) != 0)) ||
        (strcmp(media_type, "image/webp") == 0 &&
         (len < 12 || memcmp(b, "RIFF", 4) != 0 ||
          memcmp(b + 8, "WEBP", 4) != 0))) {
        snprintf(err, ERR_LEN, "media upload: the bytes are not %s",
                 media_type);
        return ERR_FAIL;
    }
    return 0;
}

static int
x_alt_check(const char *alt, char err[ERR_LEN])
{
    size_t n;

    if (alt == NULL || *alt == '\0') {
        snprintf(err, ERR_LEN, "alt text: empty");
        return ERR_FAIL;
    }
    n = x_code_points(alt);
    if (n > X_ALT_TEXT_MAX) {
        snprintf(err, ERR_LEN, "alt text: %zu characters; X allows %d", n,
                 X_ALT_TEXT_MAX);
        return ERR_FAIL;
    }
    return 0;
}

static int
x_ids_check(const char *const *ids, size_t n, char err[ERR_LEN])
{
    if (n > X_MEDIA_IDS_MAX || (n > 0 && ids == NULL)) {
        snprintf(err, ERR_LEN, "post: %zu media ids; X allows %d", n,
                 X_MEDIA_IDS_MAX);
        return ERR_FAIL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!x_id_ok(ids[i])) {
            snprintf(err, ERR_LEN, "post: media id %zu is not 1-19 digits",
                     i + 1);
            return ERR_FAIL;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(ids[i], ids[j]) == 0) {
                snprintf(err, ERR_LEN, "post: media id %s repeated", ids[i]);
                return ERR_FAIL;
            }
        }
    }
    return 0;
}

/* ---- request bodies ---- */

/* A fresh boundary that does not occur in data: 32 random hex digits.
 * ERR_RETRY if the CSPRNG fails. */
static int
x_boundary(const void *data, size_t len, char out[48], char err[ERR_LEN])
{
    unsigned char rnd[16];

    for (int tries = 0; tries < 4; tries++) {
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            snprintf(err, ERR_LEN,
                     "media upload: no random bytes for a "
                     "multipart boundary");
            return ERR_RETRY;
        }
        memcpy(out, "spookyd-", 8);
        for (size_t i = 0; i < sizeof(rnd); i++)
            snprintf(out + 8 + 2 * i, 3, "%02x", rnd[i]);
        if (memmem(data, len, out, strlen(out)) == NULL)
            return 0;
    }
    snprintf(err, ERR_LEN,
             "media upload: no boundary absent from the "
             "image");
    return ERR_RETRY;
}

static void
x_part_head(struct buf *b, const char *boundary, const char *name)
{
    buf_printf(b, "--%s\r\nContent-Disposition: form-data; name=\"%s\"",
               boundary, name);
}

/* multipart/form-data (RFC 7578) with parts media_category, media_type
 * and media (the raw bytes); *len gets its size.  media_type must be one
 * of the checked types: it is written into a part header. */
static char *
x_multipart(const void *data, size_t len, const char *media_type,
            const char *boundary, size_t *out_len)
{
    struct buf b;

    buf_init(&b);
    buf_reserve(&b, len + 512);
    x_part_head(&b, boundary, "media_category");
    buf_appends(&b, "\r\n\r\ntweet_image\r\n");
    x_part_head(&b, boundary, "media_type");
    buf_printf(&b, "\r\n\r\n%s\r\n", media_type);
    x_part_head(&b, boundary, "media");
    buf_printf(&b, "; filename=\"image.%s\"\r\nContent-Type: %s\r\n\r\n",
               strchr(media_type, '/') + 1, media_type);
    buf_append(&b, data, len);
    buf_printf(&b, "\r\n--%s--\r\n", boundary);
    *out_len = b.len;
    return buf_steal(&b);
}

/* Serialise and free root.  jansson's json_string() gives NULL for text
 * that is not valid UTF-8, and *_set_new() then fails (taking the
 * reference either way), so ok == 0 means "not UTF-8". */
static char *
x_json_finish(json_t *root, int ok, const char *what, char err[ERR_LEN])
{
    char *out = NULL, *s;

    if (ok && (s = json_dumps(root, JSON_COMPACT)) != NULL) {
        out = mem_strdup(s);
        free(s);
    }
    json_decref(root);
    if (out == NULL)
        snprintf(err, ERR_LEN, "%s: text is not valid UTF-8", what);
    return out;
}

/* {"id":"<id>","metadata":{"alt_text":{"text":"<alt>"}}} */
static char *
x_json_metadata(const char *media_id, const char *alt, char err[ERR_LEN])
{
    json_t *root = json_object(), *meta = json_object();
    json_t *at = json_object();
    int ok = json_object_set_new(at, "text", json_string(alt)) == 0;

    ok &= json_object_set_new(meta, "alt_text", at) == 0;
    ok &= json_object_set_new(root, "id", json_string(media_id)) == 0;
    ok &= json_object_set_new(root, "metadata", meta) == 0;
    return x_json_finish(root, ok, "alt text", err);
}

/* {"text":"<text>","media":{"media_ids":["<id>",...]}}, media left out
 * when n is 0. */
static char *
x_json_tweet(const char *text, char *const *ids, size_t n, char err[ERR_LEN])
{
    json_t *root = json_object(), *media, *arr;
    int ok = json_object_set_new(root, "text", json_string(text)) == 0;

    if (n > 0) {
        arr = json_array();
        media = json_object();
        for (size_t i = 0; i < n; i++)
            ok &= json_array_append_new(arr, json_string(ids[i])) == 0;
        ok &= json_object_set_new(media, "media_ids", arr) == 0;
        ok &= json_object_set_new(root, "media", media) == 0;
    }
    return x_json_finish(root, ok, "post", err);
}

/* ---- the client ---- */

static const char *const x_step_paths[] = {
    "/2/media/upload",
    "/2/media/metadata",
    "/2/tweets",
};
static const char *const x_step_names[] = {
    "media upload",
    "alt text",
    "post",
};

static int
x_base_url_ok(const char *url)
{
    const char *host;

    if (url == NULL)
        return 0;
    if (strncmp(url, "https://", 8) == 0)
        host = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        host = url + 7;
    else
        return 0;
    return *host != '\0' && *host != '/' && strpbrk(url, "?#@ \t\r\n") == NULL;
}

struct x *
x_new(uv_loop_t *loop, struct http *engine, const struct x_creds *creds,
      const struct x_config *cfg, char err[ERR_LEN])
{
    const char *have[4];
    struct x *x;
    size_t n;

    if (loop == NULL || engine == NULL || creds == NULL || cfg == NULL) {
        snprintf(err, ERR_LEN, "x_new: missing argument");
        return NULL;
    }
    have[0] = creds->consumer_key;
    have[1] = creds->consumer_secret;
    have[2] = creds->token;
    have[3] = creds->token_secret;
    for (int i = 0; i < 4; i++) {
        if (have[i] == NULL || *have[i] == '\0') {
            snprintf(err, ERR_LEN, "X credentials: %s missing",
                     x_cred_names[i]);
            return NULL;
        }
    }
    if (!x_base_url_ok(cfg->api_base_url)) {
        snprintf(err, ERR_LEN,
                 "X API base URL must be http(s)://host "
                 "without user info, query or fragment");
        return NULL;
    }
    x = mem_calloc(1, sizeof(*x));
    x->loop = loop;
    x->engine = engine;
    for (int i = 0; i < 4; i++)
        *x_cred_slot(&x->creds, i) = mem_strdup(have[i]);
    x->base_url = mem_strdup(cfg->api_base_url);
    n = strlen(x->base_url);
    while (n > 0 && x->base_url[n - 1] == '/')
        x->base_url[--n] = '\0';
    x->creds_ref = mem_strdup(cfg->creds_ref != NULL ? cfg->creds_ref
                                                     : "the X credentials");
    x->policy = cfg->policy != NULL ? cfg->policy : &retry_policy_api;
    x->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : X_TIMEOUT_MS;
    x->upload_timeout_ms = cfg->upload_timeout_ms > 0 ? cfg->upload_timeout_ms
                                                      : X_UPLOAD_TIMEOUT_MS;
    retry_quota_init(&x->quota, 0);
    return x;
}

void
x_free(struct x *x)
{
    if (x == NULL)
        return;
    while (x->ops != NULL)
        x_op_cancel(x->ops);
    x_creds_cleanup(&x->creds);
    free(x->base_url);
    free(x->creds_ref);
    free(x);
}

/* Our best idea of X's clock, for oauth_timestamp. */
static long long
x_now(const struct x *x)
{
    return (long long)time(NULL) + x->clock_offset_s;
}

/* ---- operations: bookkeeping ---- */

static struct x_op *
x_op_new(struct x *x, const char *job_id, x_done_cb cb, void *arg)
{
    struct x_op *op = mem_calloc(1, sizeof(*op));

    op->x = x;
    op->job_id = mem_strdup(job_id);
    op->cb = cb;
    op->arg = arg;
    return op;
}

static void
x_op_link(struct x_op *op)
{
    struct x *x = op->x;

    op->prev = NULL;
    op->next = x->ops;
    if (x->ops != NULL)
        x->ops->prev = op;
    x->ops = op;
}

static void
x_op_unlink(struct x_op *op)
{
    if (op->prev != NULL)
        op->prev->next = op->next;
    else if (op->x->ops == op)
        op->x->ops = op->next;
    if (op->next != NULL)
        op->next->prev = op->prev;
    op->prev = op->next = NULL;
}

static void
x_wait_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static void
x_wait_cancel(struct x_op *op)
{
    struct x_wait *w = op->wait;

    if (w == NULL)
        return;
    op->wait = NULL;
    w->op = NULL;
    uv_close((uv_handle_t *)&w->timer, x_wait_closed);
}

static void
x_op_free(struct x_op *op)
{
    x_wait_cancel(op);
    http_req_free(op->req);
    free(op->job_id);
    free(op->upload_body);
    free(op->upload_ctype);
    free(op->alt_text);
    free(op->text);
    for (size_t i = 0; i < op->n_media; i++)
        free(op->media_ids[i]);
    free(op->url);
    free(op->json_body);
    free(op);
}

void
x_op_cancel(struct x_op *op)
{
    if (op == NULL)
        return;
    x_op_unlink(op);
    x_op_free(op);
}

const char *
x_outcome_name(enum x_outcome o)
{
    static const char *const names[] = {
        "ok", "retry", "rate limited", "duplicate", "fail",
    };

    return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o]
                                                          : "unknown";
}

static const char *
x_op_step_name(const struct x_op *op)
{
    return x_step_names[op->steps[op->cur]];
}

/* One log line about the current request (resp may be NULL). */
static void x_log(const struct x_op *op, const struct http_resp *resp, int prio,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
x_log(const struct x_op *op, const struct http_resp *resp, int prio,
      const char *fmt, ...)
{
    struct log_ctx ctx = {0};
    char msg[ERR_LEN + 64];
    va_list ap;

    if (!log_enabled(prio))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ctx.job_id = op->job_id;
    ctx.http_method = "POST";
    ctx.url = op->url;
    ctx.tweet_id = op->res.tweet_id[0] != '\0' ? op->res.tweet_id : NULL;
    ctx.attempt = op->retry.attempts + 1;
    if (resp != NULL) {
        ctx.http_status = (int)resp->status;
        ctx.duration_ms = resp->duration_ms;
    }
    log_msg(prio, &ctx, __FILE__, __LINE__, __func__, "x: %s", msg);
}

/* End op: fill the result, log why (unless outcome is X_DONE), run the
 * callback, free op. */
static void x_end(struct x_op *op, enum x_outcome outcome,
                  const struct http_resp *resp, int prio, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
x_end(struct x_op *op, enum x_outcome outcome, const struct http_resp *resp,
      int prio, const char *fmt, ...)
{
    struct x_result *res = &op->res;
    va_list ap;

    res->outcome = outcome;
    res->rc = outcome == X_DONE                                 ? 0
              : outcome == X_RETRY || outcome == X_RATE_LIMITED ? ERR_RETRY
                                                                : ERR_FAIL;
    res->step = op->steps[op->cur];
    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(res->err, sizeof(res->err), fmt, ap);
        va_end(ap);
        x_log(op, resp, prio, "%s", res->err);
    }
    x_op_unlink(op);
    op->cb(res, op->arg);
    x_op_free(op);
}

/* ---- operations: attempts ---- */

static void x_attempt_done(struct http_req *req, struct http_resp *resp,
                           void *arg);

/* Sign and send one attempt of the current step: a fresh nonce and the
 * current time each time, so a retry is never a replay.  0, or ERR_RETRY
 * / ERR_FAIL with err filled and nothing started. */
static int
x_attempt(struct x_op *op, char err[ERR_LEN])
{
    struct x *x = op->x;
    int upload = op->steps[op->cur] == X_STEP_UPLOAD;
    struct oauth1_keys keys = {x->creds.consumer_key, x->creds.consumer_secret,
                               x->creds.token, x->creds.token_secret};
    struct oauth1_request r = {"POST", op->url, NULL, NULL, x_now(x)};
    char nonce[OAUTH1_NONCE_LEN + 1], *auth = NULL;
    struct http_req *req;
    int rc;

    if ((rc = oauth1_nonce(nonce, err)) != 0 ||
        (r.nonce = nonce, rc = oauth1_header(&keys, &r, &auth, err)) != 0)
        return rc;
    req = http_req_new("POST", op->url);
    rc = req == NULL || http_req_add_header(req, auth) != 0;
    mem_free_secret_str(auth);
    rc |= http_req_add_header(req, "Accept: application/json") != 0;
    rc |= http_req_add_header(req, upload
                                       ? op->upload_ctype
                                       : "Content-Type: application/json") != 0;
    http_req_set_body(req, upload ? op->upload_body : op->json_body,
                      upload ? op->upload_len : strlen(op->json_body));
    /* A nonce is good once: libcurl must not resend this on its own. */
    http_req_set_fresh_connect(req);
    http_req_set_timeouts(req, 0,
                          upload ? x->upload_timeout_ms : x->timeout_ms);
    if (upload)
        http_req_set_low_speed(req, X_UPLOAD_MIN_RATE, X_UPLOAD_STALL_S);
    if (rc != 0 || http_start(x->engine, req, x_attempt_done, op) != 0) {
        http_req_free(req);
        snprintf(err, ERR_LEN, "%s: the HTTP engine refused the request",
                 x_op_step_name(op));
        return ERR_RETRY;
    }
    op->req = req;
    op->res.attempts++;
    return 0;
}

static void
x_wait_fire(uv_timer_t *timer)
{
    struct x_wait *w = timer->data;
    struct x_op *op = w->op;
    char err[ERR_LEN];
    int rc;

    x_wait_cancel(op);
    if ((rc = x_attempt(op, err)) != 0)
        x_end(op, rc == ERR_FAIL ? X_FAIL : X_RETRY, NULL, LOG_WARNING, "%s",
              err);
}

static void
x_wait_start(struct x_op *op, uint64_t delay_ms)
{
    struct x_wait *w = mem_calloc(1, sizeof(*w));

    uv_timer_init(op->x->loop, &w->timer);
    w->timer.data = w;
    w->op = op;
    op->wait = w;
    uv_timer_start(&w->timer, x_wait_fire, delay_ms, 0);
}

/* Set up the current step (URL, JSON body, retry state) and send its
 * first attempt.  0, or an error code with err filled. */
static int
x_step_begin(struct x_op *op, char err[ERR_LEN])
{
    enum x_step step = op->steps[op->cur];

    free(op->url);
    free(op->json_body);
    op->json_body = NULL;
    op->url = mem_printf("%s%s", op->x->base_url, x_step_paths[step]);
    retry_state_init(&op->retry);
    if (step == X_STEP_METADATA)
        op->json_body = x_json_metadata(op->res.media_id, op->alt_text, err);
    else if (step == X_STEP_TWEET)
        op->json_body = x_json_tweet(op->text, op->media_ids, op->n_media, err);
    if (step != X_STEP_UPLOAD && op->json_body == NULL)
        return ERR_FAIL;
    return x_attempt(op, err);
}

/* The current step succeeded: on to the next, or the end. */
static void
x_step_done(struct x_op *op)
{
    char err[ERR_LEN];
    int rc;

    if (op->cur + 1 == op->n_steps) {
        x_end(op, X_DONE, NULL, LOG_INFO, NULL);
        return;
    }
    op->cur++;
    if (op->steps[op->cur] == X_STEP_TWEET && op->n_media == 0)
        op->media_ids[op->n_media++] = mem_strdup(op->res.media_id);
    if ((rc = x_step_begin(op, err)) != 0)
        x_end(op, rc == ERR_FAIL ? X_FAIL : X_RETRY, NULL, LOG_WARNING, "%s",
              err);
}

/* Copy the reply's data.id into out if it is an X id. */
static int
x_reply_id(const struct http_resp *resp, char out[X_ID_LEN])
{
    json_t *root = json_loadb(resp->body.data != NULL ? resp->body.data : "",
                              resp->body.len, 0, NULL);
    const char *id =
        json_string_value(json_object_get(json_object_get(root, "data"), "id"));
    int ok = x_id_ok(id);

    if (ok)
        snprintf(out, X_ID_LEN, "%s", id);
    json_decref(root);
    return ok ? 0 : ERR_FAIL;
}

/* 0 if a 2xx reply is the success the step expects, filling the ids. */
static int
x_take_reply(struct x_op *op, const struct http_resp *resp)
{
    struct xerr_problem p;

    switch (op->steps[op->cur]) {
    case X_STEP_UPLOAD:
        return x_reply_id(resp, op->res.media_id);
    case X_STEP_TWEET:
        return x_reply_id(resp, op->res.tweet_id);
    case X_STEP_METADATA:
        break;
    }
    return xerr_parse(resp->body.data, resp->body.len, &p) == 0 ? ERR_FAIL : 0;
}

/* Try the step again after a backoff if the policy allows; else end. */
static void
x_retry_or_end(struct x_op *op, const struct http_resp *resp, const char *why)
{
    struct retry_outcome o = {resp->curl_code, resp->status, NULL, NULL, 0};
    struct x *x = op->x;
    uint64_t delay_ms, server;
    int64_t server_ms = -1;
    char rerr[ERR_LEN];
    int rc;

    if (http_resp_retry_after_ms(resp, time(NULL), &server) == 0)
        server_ms = server > INT64_MAX ? INT64_MAX : (int64_t)server;
    rc = retry_next(x->policy, &x->quota, &op->retry, &o, retry_random(),
                    server_ms, &delay_ms, rerr);
    if (rc != 0) {
        x_end(op, rc == ERR_FAIL ? X_FAIL : X_RETRY, resp, LOG_WARNING,
              "%s: %s (%s)", x_op_step_name(op), why, rerr);
        return;
    }
    x_log(op, resp, LOG_WARNING, "%s: %s; retrying in %llu ms",
          x_op_step_name(op), why, (unsigned long long)delay_ms);
    x_wait_start(op, delay_ms);
}

/* After a 401: if X's Date says our clock is off, adopt X's time and
 * report 1 (once per operation), so the caller can sign again. */
static int
x_clock_corrected(struct x_op *op, const struct http_resp *resp)
{
    time_t date;
    long long skew;

    if (op->skew_retried || resp->status != 401 ||
        http_resp_date(resp, &date) != 0)
        return 0;
    skew = (long long)date - (long long)time(NULL);
    if (llabs(skew - op->x->clock_offset_s) <= X_SKEW_TOLERANCE_S)
        return 0;
    op->x->clock_offset_s = skew;
    op->skew_retried = 1;
    return 1;
}

static void
x_rate_limited(struct x_op *op, const struct http_resp *resp, const char *why)
{
    struct xerr_limits l = {
        http_resp_header(resp, "x-rate-limit-reset"),
        http_resp_header(resp, "x-rate-limit-remaining"),
        http_resp_header(resp, "x-user-limit-24hour-reset"),
        http_resp_header(resp, "x-user-limit-24hour-remaining"),
        http_resp_header(resp, "x-app-limit-24hour-reset"),
        http_resp_header(resp, "x-app-limit-24hour-remaining"),
    };
    time_t date;
    long long now =
        http_resp_date(resp, &date) == 0 ? (long long)date : x_now(op->x);

    op->res.wait_ms = xerr_rate_limit_wait_ms(&l, now, retry_random());
    x_end(op, X_RATE_LIMITED, resp, LOG_NOTICE,
          "%s: rate limited (%s); try again in %llu s", x_op_step_name(op), why,
          (unsigned long long)(op->res.wait_ms + 999) / 1000);
}

static void
x_auth_failed(struct x_op *op, const struct http_resp *resp, const char *why)
{
    char err[ERR_LEN];
    int rc;

    if (x_clock_corrected(op, resp)) {
        x_log(op, resp, LOG_NOTICE,
              "%s: %s; our clock is %lld s off X's, "
              "signing again with X's time",
              x_op_step_name(op), why, -op->x->clock_offset_s);
        if ((rc = x_attempt(op, err)) != 0)
            x_end(op, rc == ERR_FAIL ? X_FAIL : X_RETRY, NULL, LOG_WARNING,
                  "%s", err);
        return;
    }
    op->res.auth_failed = 1;
    x_end(op, X_FAIL, resp, LOG_ERR,
          "%s: X refused the credentials from %s (%s)", x_op_step_name(op),
          op->x->creds_ref, why);
}

/* A reply arrived: success, or act on its class. */
static void
x_replied(struct x_op *op, const struct http_resp *resp)
{
    const char *name = x_op_step_name(op);
    struct xerr_problem p;
    enum xerr_class cls;
    char why[ERR_LEN];
    int have;

    if (resp->status >= 200 && resp->status <= 299 &&
        x_take_reply(op, resp) == 0) {
        retry_success(&op->x->quota, &op->retry);
        if (op->steps[op->cur] == X_STEP_UPLOAD)
            x_log(op, resp, LOG_INFO, "%s: media id %s", name,
                  op->res.media_id);
        else
            x_log(op, resp, LOG_INFO, "%s: %s", name,
                  op->steps[op->cur] == X_STEP_TWEET ? "posted" : "set");
        x_step_done(op);
        return;
    }
    have = xerr_parse(resp->body.data, resp->body.len, &p) == 0;
    cls = xerr_classify(resp->status, have ? &p : NULL);
    xerr_describe(resp->status, have ? &p : NULL, why, sizeof(why));
    switch (cls) {
    case XERR_RATE_LIMITED:
        x_rate_limited(op, resp, why);
        break;
    case XERR_CREDITS:
        op->res.credits_depleted = 1;
        x_end(op, X_FAIL, resp, LOG_ERR,
              "%s: X account out of credits "
              "(%s)",
              name, why);
        break;
    case XERR_AUTH:
        x_auth_failed(op, resp, why);
        break;
    case XERR_DUPLICATE:
        x_end(op, X_DUPLICATE, resp, LOG_NOTICE,
              "%s: X already has a "
              "post with this text (%s)",
              name, why);
        break;
    case XERR_TRANSIENT:
        x_retry_or_end(op, resp, why);
        break;
    case XERR_NONE:
        /* XXX: a 2xx post reply without an id ends as X_FAIL although the
         * post may exist; a later x_tweet() would then meet X_DUPLICATE. */
        x_end(op, X_FAIL, resp, LOG_WARNING,
              "%s: HTTP %ld without the "
              "expected data.id",
              name, resp->status);
        break;
    case XERR_PERMANENT:
        x_end(op, X_FAIL, resp, LOG_WARNING, "%s: %s", name, why);
        break;
    }
}

static void
x_attempt_done(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct x_op *op = arg;

    op->req = NULL;
    op->res.http_status = resp->status;
    if (resp->curl_code != CURLE_OK)
        x_retry_or_end(op, resp, resp->error);
    else
        x_replied(op, resp);
    http_req_free(req); /* resp lives in req: freed last */
}

/* ---- operations: the public calls ---- */

/* Valid UTF-8, as jansson checks it for every string it is given. */
static int
x_utf8_ok(const char *s)
{
    json_t *j = json_string(s);

    json_decref(j);
    return j != NULL;
}

static int
x_text_check(const char *text, size_t n_media, char err[ERR_LEN])
{
    if (text == NULL || !x_utf8_ok(text)) {
        snprintf(err, ERR_LEN, "post: text missing or not valid UTF-8");
        return ERR_FAIL;
    }
    if (*text == '\0') {
        if (n_media > 0)
            return 0;
        snprintf(err, ERR_LEN, "post: empty text and no media");
        return ERR_FAIL;
    }
    /* X's weighted count, so an over-long caption costs no upload; its
     * messages call the text "caption". */
    return xtext_check(text, err) != 0 ? ERR_FAIL : 0;
}

static int
x_op_set_image(struct x_op *op, const void *image, size_t len,
               const char *media_type, char err[ERR_LEN])
{
    char boundary[48];
    int rc;

    if ((rc = x_image_check(image, len, media_type, err)) != 0 ||
        (rc = x_boundary(image, len, boundary, err)) != 0)
        return rc;
    op->upload_body =
        x_multipart(image, len, media_type, boundary, &op->upload_len);
    op->upload_ctype = mem_printf("Content-Type: multipart/form-data; "
                                  "boundary=%s",
                                  boundary);
    return 0;
}

/* Link op and send its first request; on failure op is freed and NULL
 * returned (the callback never runs). */
static struct x_op *
x_op_start(struct x_op *op, char err[ERR_LEN])
{
    x_op_link(op);
    if (x_step_begin(op, err) != 0) {
        x_op_cancel(op);
        return NULL;
    }
    return op;
}

static int
x_args_ok(const struct x *x, x_done_cb cb, char err[ERR_LEN])
{
    if (x == NULL || cb == NULL) {
        snprintf(err, ERR_LEN, "x: missing client or callback");
        return 0;
    }
    return 1;
}

struct x_op *
x_media_upload(struct x *x, const void *image, size_t len,
               const char *media_type, const char *job_id, x_done_cb cb,
               void *arg, char err[ERR_LEN])
{
    struct x_op *op;

    if (!x_args_ok(x, cb, err))
        return NULL;
    op = x_op_new(x, job_id, cb, arg);
    op->steps[op->n_steps++] = X_STEP_UPLOAD;
    if (x_op_set_image(op, image, len, media_type, err) != 0) {
        x_op_free(op);
        return NULL;
    }
    return x_op_start(op, err);
}

struct x_op *
x_media_metadata(struct x *x, const char *media_id, const char *alt_text,
                 const char *job_id, x_done_cb cb, void *arg, char err[ERR_LEN])
{
    struct x_op *op;

    if (!x_args_ok(x, cb, err))
        return NULL;
    if (!x_id_ok(media_id)) {
        snprintf(err, ERR_LEN, "alt text: media id is not 1-19 digits");
        return NULL;
    }
    if (x_alt_check(alt_text, err) != 0)
        return NULL;
    op = x_op_new(x, job_id, cb, arg);
    op->steps[op->n_steps++] = X_STEP_METADATA;
    op->alt_text = mem_strdup(alt_text);
    snprintf(op->res.media_id, sizeof(op->res.media_id), "%s", media_id);
    return x_op_start(op, err);
}

struct x_op *
x_tweet(struct x *x, const char *text, const char *const *media_ids, size_t n,
        const char *job_id, x_done_cb cb, void *arg, char err[ERR_LEN])
{
    struct x_op *op;

    if (!x_args_ok(x, cb, err) || x_ids_check(media_ids, n, err) != 0 ||
        x_text_check(text, n, err) != 0)
        return NULL;
    op = x_op_new(x, job_id, cb, arg);
    op->steps[op->n_steps++] = X_STEP_TWEET;
    op->text = mem_strdup(text);
    for (size_t i = 0; i < n; i++)
        op->media_ids[op->n_media++] = mem_strdup(media_ids[i]);
    if (n > 0)
        snprintf(op->res.media_id, sizeof(op->res.media_id), "%s",
                 media_ids[0]);
    return x_op_start(op, err);
}

struct x_op *
x_post_image(struct x *x, const struct x_post *post, x_done_cb cb, void *arg,
             char err[ERR_LEN])
{
    int alt = post != NULL && post->alt_text != NULL && *post->alt_text != '\0';
    struct x_op *op;

    if (!x_args_ok(x, cb, err))
        return NULL;
    if (post == NULL || x_text_check(post->text, 1, err) != 0 ||
        (alt && x_alt_check(post->alt_text, err) != 0)) {
        if (post == NULL)
            snprintf(err, ERR_LEN, "x: missing post");
        return NULL;
    }
    op = x_op_new(x, post->job_id, cb, arg);
    op->steps[op->n_steps++] = X_STEP_UPLOAD;
    if (alt)
        op->steps[op->n_steps++] = X_STEP_METADATA;
    op->steps[op->n_steps++] = X_STEP_TWEET;
    op->alt_text = alt ? mem_strdup(post->alt_text) : NULL;
    op->text = mem_strdup(post->text);
    if (x_op_set_image(op, post->image, post->image_len, post->media_type,
                       err) != 0) {
        x_op_free(op);
        return NULL;
    }
    return x_op_start(op, err);
}
