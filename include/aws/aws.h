/*
 * The shared AWS context and the one signed call every AWS client (S3,
 * DynamoDB, Secrets Manager) goes through: region and endpoints, the
 * credential chain, SigV4 signing, retries with backoff and a quota,
 * clock-skew and expired-token recovery, error parsing.  Everything runs
 * on the uv loop through core/http; no operation-specific knowledge here.
 */
#ifndef SPOOKYD_AWS_AWS_H
#define SPOOKYD_AWS_AWS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <uv.h>

#include "aws/endpoint.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"

struct http;
struct http_resp;
struct retry_policy;

/* aws_result.rc when a condition failed (DynamoDB
 * ConditionalCheckFailedException, S3 412 PreconditionFailed): an
 * outcome, not a failure, and never retried or logged as one. */
#define AWS_CONDITION_FAILED 1

enum aws_service {
    AWS_S3 = ENDPOINT_S3,
    AWS_DYNAMODB = ENDPOINT_DYNAMODB,
    AWS_SECRETSMANAGER = ENDPOINT_SECRETSMANAGER,
};

/* What aws_new() needs; strings are copied. */
struct aws_settings {
    const char *region; /* config value; NULL: environment, then IMDS */
    const char *endpoint[ENDPOINT_N_SERVICES]; /* config URLs or NULL */
    int s3_path_style;                         /* always path-style */
    endpoint_getenv_fn env;                    /* NULL: getenv */
    /* Retry tuning per service; NULL: retry_policy_aws, and
     * retry_policy_dynamodb for DynamoDB (core/retry.h).  Kept by
     * pointer: must outlive the context. */
    const struct retry_policy *policy[ENDPOINT_N_SERVICES];
};

/* One header, signed with the request. */
struct aws_header {
    const char *name;
    const char *value;
};

/* One call.  Everything is copied by aws_call() except body. */
struct aws_request {
    enum aws_service service;
    const char *method; /* "GET", "PUT", "POST", ... */
    const char *bucket; /* S3 only: the bucket (addressing is chosen here) */
    const char *key;    /* S3 only: the raw object key (encoded here) */
    const char *path;   /* other services: wire path; NULL means "/" */
    const char *query;  /* raw query without '?', or NULL; never logged */
    const struct aws_header *headers; /* signed; not Host, X-Amz-Date,
                                       * Authorization, security token,
                                       * x-amz-content-sha256 */
    size_t n_headers;
    const void *body; /* borrowed: valid and unchanged until the
                       * callback has run or the call is cancelled */
    size_t body_len;
    const char *payload_hash;  /* hex SHA-256 of body, or NULL: hashed once
                                * here */
    long timeout_ms;           /* whole attempt; 0: core/http's default */
    size_t max_response;       /* largest body; 0: core/http's default */
    const struct log_ctx *log; /* job_id, national_day, s3_key are copied
                                * into the attempt log lines; may be NULL */
};

/* How a call ended; valid during the callback only. */
struct aws_result {
    int rc;                 /* 0 (2xx), AWS_CONDITION_FAILED, ERR_RETRY or
                             * ERR_FAIL */
    long status;            /* last HTTP status; 0 if none arrived */
    struct buf *body;       /* last response body; the callback may take
                             * it with buf_steal() */
    const char *code;       /* AWS error code ("NoSuchKey") or "" */
    const char *message;    /* AWS error message or "" (may quote the
                             * request: do not log it) */
    const char *request_id; /* x-amz-request-id / x-amzn-RequestId or "" */
    int attempts;           /* attempts sent */
    const char *err;        /* one line on failure ("" on success): what
                             * went wrong, safe to log */
    const struct http_resp *resp; /* the last response, for headers;
                                   * NULL if none arrived */
};

struct aws;
struct aws_call;

/* Called once per call, on the loop, unless the call was cancelled.  The
 * call is freed when the callback returns. */
typedef void (*aws_done_cb)(const struct aws_result *res, void *arg);

/* New context on loop using http (borrowed; must outlive it).  Region,
 * endpoints and the static part of the credential chain (environment,
 * shared credentials file) are resolved here; the IMDS parts start on
 * first need.  NULL with err on a bad setting (malformed region or
 * endpoint URL, unreadable or too open credentials file).  Free with
 * aws_free(). */
struct aws *aws_new(uv_loop_t *loop, struct http *http,
                    const struct aws_settings *settings, char err[ERR_LEN]);

/* Complete every pending call with ERR_RETRY ("AWS client shut down"),
 * then free the context.  Callbacks run inside; they must not start new
 * calls.  Not from inside a callback of this context.  Timers close
 * asynchronously: run the loop once more before uv_loop_close().  NULL is
 * a no-op. */
void aws_free(struct aws *aws);

/* Start a call: sign (SigV4, S3 rules for AWS_S3), send, retry per
 * core/retry.h with a new signature each attempt.  Waits for the region
 * and credentials when they are not known yet.  Returns a handle, or NULL
 * with err for a request that can never be sent (missing method, bucket
 * or key for S3); cb then never runs. */
struct aws_call *aws_call(struct aws *aws, const struct aws_request *req,
                          aws_done_cb cb, void *arg, char err[ERR_LEN]);

/* Stop a pending call; its callback does not run.  Not from inside that
 * callback.  NULL is a no-op. */
void aws_call_cancel(struct aws_call *call);

/* Value of a header of the last response (case-insensitive), or NULL. */
const char *aws_result_header(const struct aws_result *res, const char *name);

/* The region in use, or NULL while it is still being asked from IMDS. */
const char *aws_region(const struct aws *aws);

/* Seconds to add to the local clock to get AWS's time, learned from the
 * Date header of clock-skew errors; 0 until one is seen. */
long aws_clock_offset(const struct aws *aws);

/* Address an S3 object as aws_call() will (see endpoint_s3_object()).
 * 0 and *out (release with endpoint_target_cleanup()); ERR_RETRY while the
 * region is unknown; ERR_FAIL with err for a bad bucket or key. */
int aws_s3_target(const struct aws *aws, const char *bucket, const char *key,
                  struct endpoint_target *out, char err[ERR_LEN]);

#endif
