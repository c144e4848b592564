/*
 * s3.c: S3 PutObject and GetObject over aws_call().  Builds and checks
 * the headers, hashes a body once for both the signature and the
 * integrity header, reads ETag and friends from the reply.  Addressing,
 * signing, retries and error parsing belong to aws/aws.c; this file never
 * sees credentials.  Relies on OpenSSL for SHA-256 and base64.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "aws/s3.h"
#include "core/http.h"
#include "core/mem.h"

/* What a pending operation keeps: the callback and copies of the log
 * fields its own warnings use. */
struct s3_op {
    struct aws_call *call;
    s3_put_cb put_cb;
    s3_get_cb get_cb;
    void *arg;
    size_t max_bytes;
    char *job_id;
    char *national_day;
    char *key;
};

int
s3_digest(const void *body, size_t len, struct s3_digest *out,
          char err[ERR_LEN])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0, i;

    if (EVP_Digest(len > 0 ? body : "", len, md, &md_len, EVP_sha256(),
                   NULL) != 1 ||
        md_len != 32) {
        snprintf(err, ERR_LEN, "SHA-256 failed in OpenSSL");
        return ERR_FAIL;
    }
    for (i = 0; i < md_len; i++) {
        out->hex[2 * i] = hex[md[i] >> 4];
        out->hex[2 * i + 1] = hex[md[i] & 0x0f];
    }
    out->hex[2 * md_len] = '\0';
    EVP_EncodeBlock((unsigned char *)out->b64, md, (int)md_len);
    return 0;
}

int
s3_checksum_verify(const char *b64, const void *body, size_t len,
                   char err[ERR_LEN])
{
    struct s3_digest d;

    if (b64 == NULL)
        return 0;
    if (s3_digest(body, len, &d, err) != 0)
        return ERR_RETRY;
    if (strcmp(d.b64, b64) == 0)
        return 0;
    snprintf(err, ERR_LEN, "body of %zu bytes does not match the "
             "x-amz-checksum-sha256 S3 sent", len);
    return ERR_RETRY;
}

/* Length of the UTF-8 sequence at s (at most n bytes), 0 if invalid:
 * no overlong forms, surrogates or code points above U+10FFFF. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    size_t len, i;
    unsigned long cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2, cp = s[0] & 0x1F;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        len = 3, cp = s[0] & 0x0F;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return len;
}

int
s3_key_check(const char *key, char err[ERR_LEN])
{
    const unsigned char *p = (const unsigned char *)key;
    size_t n, i, step;

    if (key == NULL || *key == '\0') {
        snprintf(err, ERR_LEN, "S3 key is empty");
        return ERR_FAIL;
    }
    n = strlen(key);
    if (n > S3_KEY_MAX) {
        snprintf(err, ERR_LEN, "S3 key is %zu bytes, over %d", n,
                 S3_KEY_MAX);
        return ERR_FAIL;
    }
    for (i = 0; i < n; i += step) {
        step = utf8_len(p + i, n - i);
        if (step == 0) {
            snprintf(err, ERR_LEN, "S3 key is not UTF-8 (byte %zu)", i);
            return ERR_FAIL;
        }
        if (p[i] < 0x20 || p[i] == 0x7F) {
            snprintf(err, ERR_LEN, "S3 key has a control character "
                     "(byte %zu)", i);
            return ERR_FAIL;
        }
    }
    return 0;
}

/* Header values go out as printable ASCII only, so nothing can split or
 * smuggle a header and the signature covers exactly what is sent. */
static int
value_check(const char *what, const char *v, char err[ERR_LEN])
{
    const char *p;

    for (p = v; *p != '\0'; p++)
        if (*p < 0x20 || *p > 0x7E) {
            snprintf(err, ERR_LEN, "%s: not printable ASCII (byte %zu)",
                     what, (size_t)(p - v));
            return ERR_FAIL;
        }
    return 0;
}

static void
add(struct aws_header out[S3_PUT_MAX_HEADERS], int *n, const char *name,
    const char *value)
{
    out[*n].name = name;
    out[*n].value = value;
    (*n)++;
}

int
s3_put_headers(const struct s3_put_req *req, const struct s3_digest *d,
               struct aws_header out[S3_PUT_MAX_HEADERS], char err[ERR_LEN])
{
    const char *cc = req->cache_control, *kms = req->kms_key_id;
    int n = 0;

    if (req->content_type == NULL || *req->content_type == '\0') {
        snprintf(err, ERR_LEN, "content type missing");
        return ERR_FAIL;
    }
    if (value_check("content type", req->content_type, err) != 0 ||
        (cc != NULL && value_check("cache control", cc, err) != 0) ||
        (kms != NULL && value_check("KMS key id", kms, err) != 0))
        return ERR_FAIL;
    if (kms != NULL && strchr(kms, ' ') != NULL) {
        snprintf(err, ERR_LEN, "KMS key id: has a space");
        return ERR_FAIL;
    }
    add(out, &n, "Content-Type", req->content_type);
    if (cc != NULL && *cc != '\0')
        add(out, &n, "Cache-Control", cc);
    add(out, &n, "x-amz-checksum-sha256", d->b64);
    if (kms != NULL) {
        add(out, &n, "x-amz-server-side-encryption", "aws:kms");
        if (*kms != '\0')
            add(out, &n, "x-amz-server-side-encryption-aws-kms-key-id", kms);
        /* An S3 bucket key cuts the KMS requests (and their cost) made
         * for objects of the bucket. */
        add(out, &n, "x-amz-server-side-encryption-bucket-key-enabled",
            "true");
    }
    if (req->write_once)
        add(out, &n, "If-None-Match", "*");
    return n;
}

static struct s3_op *
op_new(const struct log_ctx *log, const char *key)
{
    struct s3_op *op = mem_calloc(1, sizeof(*op));

    if (log != NULL) {
        op->job_id = mem_strdup(log->job_id);
        op->national_day = mem_strdup(log->national_day);
    }
    op->key = mem_strdup(key);
    return op;
}

static void
op_free(struct s3_op *op)
{
    if (op == NULL)
        return;
    free(op->job_id);
    free(op->national_day);
    free(op->key);
    free(op);
}

/* The log fields of op's warnings. */
static struct log_ctx
op_log(const struct s3_op *op, const struct aws_result *res)
{
    struct log_ctx c = {0};

    c.job_id = op->job_id;
    c.national_day = op->national_day;
    c.s3_key = op->key;
    c.request_id = res->request_id;
    c.http_status = (int)res->status;
    return c;
}

static const char *
header_or_empty(const struct aws_result *res, const char *name)
{
    const char *v = aws_result_header(res, name);

    return v != NULL ? v : "";
}

static void
put_done(const struct aws_result *res, void *arg)
{
    struct s3_op *op = arg;
    struct s3_put_result r = {0};

    r.rc = res->rc;
    r.status = res->status;
    r.etag = header_or_empty(res, "ETag");
    r.version_id = header_or_empty(res, "x-amz-version-id");
    r.request_id = res->request_id;
    r.code = res->code;
    r.err = res->err;
    r.attempts = res->attempts;
    if (r.rc == S3_EXISTS)
        r.err = "object already exists (If-None-Match)";
    op->put_cb(&r, op->arg);
    op_free(op);
}

/* Common part of s3_put() and s3_get(): a checked key, then aws_call(). */
static struct s3_op *
start(struct aws *aws, struct aws_request *ar, const struct log_ctx *log,
      struct s3_op *op, aws_done_cb done, char err[ERR_LEN])
{
    struct log_ctx ctx = {0};

    if (log != NULL)
        ctx = *log;
    if (ctx.s3_key == NULL)
        ctx.s3_key = ar->key;
    ar->service = AWS_S3;
    ar->log = &ctx;
    op->call = aws_call(aws, ar, done, op, err);
    if (op->call == NULL) {
        op_free(op);
        return NULL;
    }
    return op;
}

struct s3_op *
s3_put(struct aws *aws, const struct s3_put_req *req, s3_put_cb cb,
       void *arg, char err[ERR_LEN])
{
    struct aws_header h[S3_PUT_MAX_HEADERS];
    struct aws_request ar = {0};
    struct s3_digest own;
    const struct s3_digest *d;
    struct s3_op *op;
    int n;

    if (aws == NULL || cb == NULL || req == NULL ||
        (req->body == NULL && req->len > 0)) {
        snprintf(err, ERR_LEN, "s3_put: missing context, callback or body");
        return NULL;
    }
    if (s3_key_check(req->key, err) != 0)
        return NULL;
    d = req->digest;
    if (d == NULL && s3_digest(req->body, req->len, &own, err) != 0)
        return NULL;
    d = d != NULL ? d : &own;
    n = s3_put_headers(req, d, h, err);
    if (n < 0)
        return NULL;
    ar.method = "PUT";
    ar.bucket = req->bucket;
    ar.key = req->key;
    ar.headers = h;
    ar.n_headers = (size_t)n;
    ar.body = req->len > 0 ? req->body : "";
    ar.body_len = req->len;
    ar.payload_hash = d->hex;
    op = op_new(req->log, req->key);
    op->put_cb = cb;
    op->arg = arg;
    return start(aws, &ar, req->log, op, put_done, err);
}

/* A successful GET whose body fails the checksum, or a failed one that
 * hit the size limit, gets its own error text. */
static void
get_check(struct s3_op *op, const struct aws_result *res,
          struct s3_get_result *r, char err[ERR_LEN])
{
    struct log_ctx c = op_log(op, res);

    if (r->rc == 0 &&
        s3_checksum_verify(aws_result_header(res, "x-amz-checksum-sha256"),
                           res->body->data, res->body->len, err) != 0) {
        r->rc = ERR_RETRY;
        r->err = err;
        log_warn(&c, "S3 GET: %s", err);
    } else if (r->rc != 0 && res->resp != NULL &&
               res->resp->curl_code == CURLE_FILESIZE_EXCEEDED) {
        r->rc = ERR_FAIL;
        snprintf(err, ERR_LEN, "object is larger than the %zu-byte limit",
                 op->max_bytes > 0 ? op->max_bytes
                                   : (size_t)HTTP_MAX_RESPONSE);
        r->err = err;
    }
}

static void
get_done(const struct aws_result *res, void *arg)
{
    struct s3_op *op = arg;
    struct s3_get_result r = {0};
    char err[ERR_LEN] = "";

    r.rc = res->rc;
    r.status = res->status;
    r.body = res->body;
    r.content_type = header_or_empty(res, "Content-Type");
    r.cache_control = header_or_empty(res, "Cache-Control");
    r.etag = header_or_empty(res, "ETag");
    r.request_id = res->request_id;
    r.code = res->code;
    r.err = res->err;
    r.attempts = res->attempts;
    get_check(op, res, &r, err);
    op->get_cb(&r, op->arg);
    op_free(op);
}

struct s3_op *
s3_get(struct aws *aws, const char *bucket, const char *key,
       size_t max_bytes, const struct log_ctx *log, s3_get_cb cb, void *arg,
       char err[ERR_LEN])
{
    /* Ask for the stored checksum so a damaged body is noticed. */
    static const struct aws_header h[] = {
        {"x-amz-checksum-mode", "ENABLED"},
    };
    struct aws_request ar = {0};
    struct s3_op *op;

    if (aws == NULL || cb == NULL) {
        snprintf(err, ERR_LEN, "s3_get: missing context or callback");
        return NULL;
    }
    if (s3_key_check(key, err) != 0)
        return NULL;
    ar.method = "GET";
    ar.bucket = bucket;
    ar.key = key;
    ar.headers = h;
    ar.n_headers = 1;
    ar.max_response = max_bytes;
    op = op_new(log, key);
    op->get_cb = cb;
    op->arg = arg;
    op->max_bytes = max_bytes;
    return start(aws, &ar, log, op, get_done, err);
}

void
s3_cancel(struct s3_op *op)
{
    if (op == NULL)
        return;
    aws_call_cancel(op->call);
    op_free(op);
}
