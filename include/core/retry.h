/*
 * When and how long to wait before trying a failed request again, modelled
 * on the AWS SDKs' "standard" retry mode (api-notes section 5): classify
 * the attempt, back off with full jitter, honour a server's retry-after,
 * cap the attempts and share a retry quota per client.  Pure: the random
 * number and the server's wait come in as arguments; nothing is logged.
 */
#ifndef SPOOKYD_CORE_RETRY_H
#define SPOOKYD_CORE_RETRY_H

#include <stdint.h>

#include <curl/curl.h>

#include "core/err.h"

/* What kind of failure an attempt was. */
enum retry_class {
    RETRY_NO,         /* do not try again: the request itself is wrong */
    RETRY_TRANSIENT,  /* network trouble, timeout or server-side failure */
    RETRY_THROTTLE,   /* the service asked us to slow down */
    RETRY_CLOCK_SKEW, /* rejected for our clock, which is now corrected */
};

/* A finished attempt, as the client saw it. */
struct retry_outcome {
    CURLcode curl_code;  /* transport result; CURLE_OK if a reply came */
    long status;         /* HTTP status, 0 if none */
    const char *code;    /* service error code or NULL, bare ("SlowDown")
                          * or qualified ("ns#ThrottlingException",
                          * "ThrottlingException:http://...") */
    const char *message; /* service error message or NULL */
    int clock_corrected; /* the caller found its clock off (Date header)
                          * and corrected its offset before this call */
};

/* Tuning of one client's retries.  Delays in milliseconds. */
struct retry_policy {
    int max_attempts;           /* in all, the first one included */
    uint64_t transient_base_ms; /* backoff base for RETRY_TRANSIENT */
    uint64_t throttle_base_ms;  /* backoff base for RETRY_THROTTLE */
    uint64_t cap_ms;            /* ceiling of the computed backoff */
    uint64_t server_max_ms;     /* longest server-asked wait honoured */
    uint64_t server_slack_ms;   /* if not 0, a server-asked wait is also
                                 * capped at computed + this (AWS: 5 s) */
    int transient_cost;         /* quota tokens a transient retry takes */
    int throttle_cost;          /* quota tokens a throttled retry takes */
};

/* AWS standard mode, 2026 revision: 3 attempts, bases 50 ms and 1 s, cap
 * 20 s, x-amz-retry-after within [computed, computed + 5 s], costs 14/5. */
extern const struct retry_policy retry_policy_aws;
/* The same for DynamoDB: 4 attempts, transient base 25 ms. */
extern const struct retry_policy retry_policy_dynamodb;
/* OpenAI and X: 3 attempts, bases 500 ms and 1 s, cap 20 s, a server's
 * Retry-After honoured up to 60 s. */
extern const struct retry_policy retry_policy_api;

#define RETRY_QUOTA_TOKENS 500

/* Retry tokens shared by every request of one client.  When it runs dry,
 * failures stop being retried (first attempts are never held back), so a
 * struggling service is not hammered by every request at once. */
struct retry_quota {
    int tokens;
    int capacity;
};

/* Full bucket of capacity tokens (RETRY_QUOTA_TOKENS if <= 0). */
void retry_quota_init(struct retry_quota *q, int capacity);

/* Retry bookkeeping of one operation (all attempts of one request). */
struct retry_state {
    int attempts;     /* attempts finished */
    int cost;         /* tokens taken for the retry now running, or 0 */
    int skew_retried; /* a clock-skew retry has been used */
};

/* Fresh state before the first attempt. */
void retry_state_init(struct retry_state *s);

/* Class of a finished, failed attempt.  Transport errors (connect, DNS,
 * reset, timeout, truncated body) are transient; then the error code wins
 * over the status (a 400 ThrottlingException throttles, a 503 SlowDown
 * too); then 429 throttles, 408 and 5xx but 501/505 are transient; every
 * other status, a response too large, a cancelled transfer or a TLS
 * verification failure is RETRY_NO.  Skew codes (RequestTimeTooSkewed,
 * RequestExpired, RequestInTheFuture, AuthFailure, SignatureDoesNotMatch,
 * and InvalidSignatureException whose message says "Signature expired" or
 * "Signature not yet current") give RETRY_CLOCK_SKEW only when
 * clock_corrected is set, else RETRY_NO. */
enum retry_class retry_classify(const struct retry_outcome *o);

/* Full-jitter backoff: rnd x min(cap, base x 2^(retry - 1)) for the
 * retry-th retry (1 for the first), base chosen by cls; rnd in [0, 1]
 * (clamped; NaN counts as 0).  0 for RETRY_NO and RETRY_CLOCK_SKEW. */
uint64_t retry_backoff_ms(const struct retry_policy *p, enum retry_class cls,
                          int retry, double rnd);

/* Decide after a failed attempt (counted here, so call it once per
 * failure).  Returns 0 with *delay_ms when the request should run again:
 * the backoff, or a server-given wait server_ms (negative: none) clamped
 * to the policy but never below the backoff, or 0 for the single
 * clock-skew retry.  Otherwise returns what the caller should give up
 * with, err saying why: ERR_FAIL when the request can never succeed (an
 * HTTP 4xx, a malformed URL, a response too large), ERR_RETRY when a later
 * try might (attempts used up, quota empty, cancelled, TLS trouble).  q
 * may be NULL (no quota). */
int retry_next(const struct retry_policy *p, struct retry_quota *q,
               struct retry_state *s, const struct retry_outcome *o,
               double rnd, int64_t server_ms, uint64_t *delay_ms,
               char err[ERR_LEN]);

/* Record that an attempt succeeded: a retry gives its tokens back, a
 * first-try success adds one (up to capacity).  q may be NULL. */
void retry_success(struct retry_quota *q, struct retry_state *s);

/* A uniform random number in [0, 1) from the system's CSPRNG, for the rnd
 * arguments above; the only function here that is not pure. */
double retry_random(void);

#endif
