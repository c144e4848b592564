/*
 * S3 PutObject and GetObject for spookyd's images, on top of aws_call():
 * one SHA-256 of the body serves as the signed payload hash and as the
 * x-amz-checksum-sha256 integrity header; optional SSE-KMS and write-once
 * (If-None-Match: *).  No multipart upload, no streaming from disk: bodies
 * are whole in memory.  Relies on aws/aws.h for signing, addressing and
 * retries, and on OpenSSL for the digest.
 */
#ifndef SPOOKYD_AWS_S3_H
#define SPOOKYD_AWS_S3_H

#include <stddef.h>

#include "aws/aws.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"

/* s3_put_result.rc when a write-once PUT found the key already taken
 * (S3 412 PreconditionFailed): an answer, not a failure. */
#define S3_EXISTS AWS_CONDITION_FAILED

/* Longest object key S3 accepts, in bytes of UTF-8. */
#define S3_KEY_MAX 1024
/* Hex and base64 (padded) forms of a SHA-256 digest. */
#define S3_SHA256_HEX_LEN 64
#define S3_SHA256_B64_LEN 44
/* Headers s3_put_headers() may produce. */
#define S3_PUT_MAX_HEADERS 7

/* The SHA-256 of a body in both forms S3 wants. */
struct s3_digest {
    char hex[S3_SHA256_HEX_LEN + 1];    /* payload hash for the signature */
    char b64[S3_SHA256_B64_LEN + 1]; /* x-amz-checksum-sha256 value */
};

/* Hash len bytes at body once into *out.  0, or ERR_FAIL with err when
 * OpenSSL fails. */
int s3_digest(const void *body, size_t len, struct s3_digest *out,
              char err[ERR_LEN]);

/* Check a GET body against the x-amz-checksum-sha256 value S3 returned
 * (base64).  0 when it matches or b64 is NULL; ERR_RETRY with err when it
 * does not (the body was damaged on the way: fetch again). */
int s3_checksum_verify(const char *b64, const void *body, size_t len,
                       char err[ERR_LEN]);

/* 0 when key is a usable object key: 1..S3_KEY_MAX bytes of valid UTF-8
 * without control characters; else ERR_FAIL with err. */
int s3_key_check(const char *key, char err[ERR_LEN]);

/* One object to store. */
struct s3_put_req {
    const char *bucket;
    const char *key;           /* raw key ("images/a b.png"), not encoded */
    const void *body;          /* borrowed until the callback has run or
                                * the operation is cancelled */
    size_t len;
    const char *content_type;  /* required: "image/png" */
    const char *cache_control; /* NULL or "" for none */
    const char *kms_key_id;    /* NULL: no SSE-KMS; "": SSE-KMS with the
                                * AWS-managed aws/s3 key; else a key id,
                                * key ARN or alias ARN */
    int write_once;            /* send If-None-Match: * */
    const struct s3_digest *digest; /* the body's, if the caller already
                                     * has it; NULL: computed here */
    const struct log_ctx *log; /* job fields for log lines; may be NULL */
};

/* Fill out[] with the signed headers of a PUT of req whose body hashes to
 * *d, in a fixed order: Content-Type, Cache-Control, x-amz-checksum-sha256,
 * the SSE-KMS trio, If-None-Match.  Values point into req and d.  Content-
 * Length is left to the HTTP engine (the body length; never chunked).
 * Returns the count, or ERR_FAIL with err for a missing content type or a
 * value with control characters. */
int s3_put_headers(const struct s3_put_req *req, const struct s3_digest *d,
                   struct aws_header out[S3_PUT_MAX_HEADERS],
                   char err[ERR_LEN]);

/* How a PUT ended; valid during the callback only.  Strings are "" when
 * absent. */
struct s3_put_result {
    int rc;                 /* 0, S3_EXISTS, ERR_RETRY or ERR_FAIL */
    long status;            /* last HTTP status, 0 if none */
    const char *etag;       /* quoted, as S3 sends it */
    const char *version_id; /* x-amz-version-id (versioned buckets) */
    const char *request_id;
    const char *code;       /* S3 error code ("AccessDenied") or "" */
    const char *err;        /* one loggable line on failure, else "" */
    int attempts;
};

/* How a GET ended; valid during the callback only.  Strings are "" when
 * absent. */
struct s3_get_result {
    int rc;            /* 0, ERR_RETRY or ERR_FAIL (404 NoSuchKey: the
                        * status and code say so) */
    long status;
    struct buf *body;  /* the object on success; the callback may take it
                        * with buf_steal() */
    const char *content_type;
    const char *cache_control;
    const char *etag;
    const char *request_id;
    const char *code;
    const char *err;
    int attempts;
};

typedef void (*s3_put_cb)(const struct s3_put_result *res, void *arg);
typedef void (*s3_get_cb)(const struct s3_get_result *res, void *arg);

/* A pending s3_put() or s3_get(). */
struct s3_op;

/* Store req's body at bucket/key.  Returns the pending operation, or NULL
 * with err for a request that can never succeed (bad key, missing content
 * type, control characters in a header value); cb then never runs.
 * Otherwise cb(res, arg) runs once on the loop (unless cancelled) and the
 * operation frees itself after it. */
struct s3_op *s3_put(struct aws *aws, const struct s3_put_req *req,
                     s3_put_cb cb, void *arg, char err[ERR_LEN]);

/* Fetch bucket/key, at most max_bytes of it (0: core/http's default
 * limit); a larger object fails with ERR_FAIL and an error naming the
 * limit.  The stored SHA-256 checksum, when S3 returns one, is checked.
 * Same return and callback rules as s3_put(). */
struct s3_op *s3_get(struct aws *aws, const char *bucket, const char *key,
                     size_t max_bytes, const struct log_ctx *log,
                     s3_get_cb cb, void *arg, char err[ERR_LEN]);

/* Stop a pending operation; its callback does not run.  Not from inside
 * that callback.  NULL is a no-op. */
void s3_cancel(struct s3_op *op);

#endif
