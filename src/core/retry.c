/*
 * retry.c: the retry decision of AWS's standard mode (api-notes section 5)
 * for every client.  Pure apart from retry_random(): the jitter and the
 * server's retry-after are arguments, and errors go to the caller's err.
 * The error-code lists are the SDKs' published ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/retry.h"

const struct retry_policy retry_policy_aws = {
    .max_attempts = 3,
    .transient_base_ms = 50,
    .throttle_base_ms = 1000,
    .cap_ms = 20000,
    .server_max_ms = 20000,
    .server_slack_ms = 5000,
    .transient_cost = 14,
    .throttle_cost = 5,
};

const struct retry_policy retry_policy_dynamodb = {
    .max_attempts = 4,
    .transient_base_ms = 25,
    .throttle_base_ms = 1000,
    .cap_ms = 20000,
    .server_max_ms = 20000,
    .server_slack_ms = 5000,
    .transient_cost = 14,
    .throttle_cost = 5,
};

const struct retry_policy retry_policy_api = {
    .max_attempts = 3,
    .transient_base_ms = 500,
    .throttle_base_ms = 1000,
    .cap_ms = 20000,
    .server_max_ms = 60000,
    .server_slack_ms = 0,
    .transient_cost = 14,
    .throttle_cost = 5,
};

static const char *const retry_throttle_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "LimitExceededException",
    "PriorRequestNotComplete",
    "RequestThrottled",
    "EC2ThrottledException",
    "RequestLimitExceeded",
    "SlowDown",
    "BandwidthLimitExceeded",
};

static const char *const retry_transient_codes[] = {
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "IDPCommunicationError",
};

static const char *const retry_skew_codes[] = {
    "RequestTimeTooSkewed",  "RequestExpired", "RequestInTheFuture",
    "AuthFailure",           "SignatureDoesNotMatch",
    "InvalidSignatureException",
};

#define RETRY_COUNT(a) (sizeof(a) / sizeof((a)[0]))

void
retry_quota_init(struct retry_quota *q, int capacity)
{
    q->capacity = capacity > 0 ? capacity : RETRY_QUOTA_TOKENS;
    q->tokens = q->capacity;
}

void
retry_state_init(struct retry_state *s)
{
    s->attempts = 0;
    s->cost = 0;
    s->skew_retried = 0;
}

/* Is the n-byte code one of list's? */
static int
retry_in(const char *code, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(list[i]) == n && memcmp(list[i], code, n) == 0)
            return 1;
    return 0;
}

static enum retry_class
retry_classify_curl(CURLcode code)
{
    switch (code) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
    case CURLE_PROXY:
    case CURLE_AGAIN:
        return RETRY_TRANSIENT;
    default:
        /* cancelled, too large, bad URL, certificate refused, ... */
        return RETRY_NO;
    }
}

/* The error code's class, or -1 when it is not a known one.  Codes come
 * bare or qualified: "ns#Name" (JSON __type) and "Name:uri"
 * (x-amzn-ErrorType) both reduce to Name. */
static int
retry_classify_code(const struct retry_outcome *o)
{
    const char *code = o->code, *hash;
    size_t n;

    if (code == NULL)
        return -1;
    if ((hash = strrchr(code, '#')) != NULL)
        code = hash + 1;
    n = strcspn(code, ":");
    if (retry_in(code, n, retry_throttle_codes,
                 RETRY_COUNT(retry_throttle_codes)))
        return RETRY_THROTTLE;
    if (retry_in(code, n, retry_transient_codes,
                 RETRY_COUNT(retry_transient_codes)))
        return RETRY_TRANSIENT;
    if (!retry_in(code, n, retry_skew_codes, RETRY_COUNT(retry_skew_codes)))
        return -1;
    /* InvalidSignatureException also means a wrong key or a bad canonical
     * request; only its time messages point at the clock. */
    if (n == strlen("InvalidSignatureException") &&
        (o->message == NULL ||
         (strstr(o->message, "Signature expired") == NULL &&
          strstr(o->message, "Signature not yet current") == NULL)))
        return RETRY_NO;
    return o->clock_corrected ? RETRY_CLOCK_SKEW : RETRY_NO;
}

enum retry_class
retry_classify(const struct retry_outcome *o)
{
    int cls;

    if (o == NULL)
        return RETRY_NO;
    if (o->curl_code != CURLE_OK)
        return retry_classify_curl(o->curl_code);
    if ((cls = retry_classify_code(o)) >= 0)
        return (enum retry_class)cls;
    if (o->status == 429)
        return RETRY_THROTTLE;
    if (o->status == 408 ||
        (o->status >= 500 && o->status <= 599 && o->status != 501 &&
         o->status != 505))
        return RETRY_TRANSIENT;
    return RETRY_NO;
}

uint64_t
retry_backoff_ms(const struct retry_policy *p, enum retry_class cls,
                 int retry, double rnd)
{
    uint64_t ceiling;

    if (cls == RETRY_TRANSIENT)
        ceiling = p->transient_base_ms;
    else if (cls == RETRY_THROTTLE)
        ceiling = p->throttle_base_ms;
    else
        return 0;
    for (int i = 1; i < retry && ceiling < p->cap_ms; i++) {
        if (ceiling > UINT64_MAX / 2)
            break;
        ceiling *= 2;
    }
    if (ceiling > p->cap_ms)
        ceiling = p->cap_ms;
    if (!(rnd > 0.0)) /* also NaN */
        rnd = 0.0;
    if (rnd >= 1.0)
        return ceiling; /* (double)ceiling may not convert back */
    return (uint64_t)(rnd * (double)ceiling);
}

/* A server's wait is not jittered (it already spreads its clients), but
 * bounded: never above server_max_ms nor computed + slack, never below
 * what our own backoff would wait. */
static uint64_t
retry_server_wait(const struct retry_policy *p, uint64_t computed,
                  uint64_t server)
{
    if (server > p->server_max_ms)
        server = p->server_max_ms;
    if (p->server_slack_ms > 0 && server > computed + p->server_slack_ms)
        server = computed + p->server_slack_ms;
    return server > computed ? server : computed;
}

/* Why a RETRY_NO outcome is not retried, and with which code to give up. */
static int
retry_refuse(const struct retry_outcome *o, char err[ERR_LEN])
{
    if (o->curl_code != CURLE_OK) {
        snprintf(err, ERR_LEN, "not retryable: %s",
                 curl_easy_strerror(o->curl_code));
        return o->curl_code == CURLE_URL_MALFORMAT ||
                       o->curl_code == CURLE_UNSUPPORTED_PROTOCOL ||
                       o->curl_code == CURLE_FILESIZE_EXCEEDED
                   ? ERR_FAIL
                   : ERR_RETRY;
    }
    snprintf(err, ERR_LEN, "not retryable: HTTP %ld%s%s", o->status,
             o->code != NULL ? " " : "", o->code != NULL ? o->code : "");
    return ERR_FAIL;
}

int
retry_next(const struct retry_policy *p, struct retry_quota *q,
           struct retry_state *s, const struct retry_outcome *o, double rnd,
           int64_t server_ms, uint64_t *delay_ms, char err[ERR_LEN])
{
    enum retry_class cls;
    int cost;

    if (p == NULL || s == NULL || o == NULL || delay_ms == NULL) {
        snprintf(err, ERR_LEN, "retry_next: missing argument");
        return ERR_FAIL;
    }
    cls = retry_classify(o);
    s->attempts++;
    s->cost = 0; /* a failed retry's tokens stay spent */
    if (cls == RETRY_NO)
        return retry_refuse(o, err);
    if (cls == RETRY_CLOCK_SKEW && s->skew_retried) {
        snprintf(err, ERR_LEN, "clock skew persists after correction");
        return ERR_RETRY;
    }
    if (s->attempts >= p->max_attempts) {
        snprintf(err, ERR_LEN, "gave up after %d attempts", s->attempts);
        return ERR_RETRY;
    }
    cost = cls == RETRY_THROTTLE ? p->throttle_cost : p->transient_cost;
    if (q != NULL) {
        if (q->tokens < cost) {
            snprintf(err, ERR_LEN,
                     "retry quota exhausted (%d tokens left, %d needed)",
                     q->tokens, cost);
            return ERR_RETRY;
        }
        q->tokens -= cost;
        s->cost = cost;
    }
    if (cls == RETRY_CLOCK_SKEW) {
        s->skew_retried = 1;
        *delay_ms = 0; /* the corrected signature is good right away */
        return 0;
    }
    *delay_ms = retry_backoff_ms(p, cls, s->attempts, rnd);
    if (server_ms >= 0)
        *delay_ms = retry_server_wait(p, *delay_ms, (uint64_t)server_ms);
    return 0;
}

void
retry_success(struct retry_quota *q, struct retry_state *s)
{
    if (q != NULL) {
        q->tokens += s->cost > 0 ? s->cost : 1;
        if (q->tokens > q->capacity)
            q->tokens = q->capacity;
    }
    s->cost = 0;
}

double
retry_random(void)
{
    return (double)arc4random() / 4294967296.0;
}
