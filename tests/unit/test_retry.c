/*
 * Unit tests for core/retry.c: classification of many status/code/curl
 * combinations, backoff bounds and jitter, server-given waits, attempt
 * caps, clock-skew handling and the retry quota.  All pure: no loop, no
 * clock.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/retry.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char skew_expired[] =
    "Signature expired: 20261203T120000Z is now earlier than "
    "20261203T121500Z (20261203T123000Z - 15 min.)";
static const char skew_future[] =
    "Signature not yet current: 20261203T130000Z is still later than "
    "20261203T124500Z (20261203T123000Z + 15 min.)";
static const char bad_sig[] =
    "The request signature we calculated does not match the signature "
    "you provided.";

static const struct {
    CURLcode curl_code;
    long status;
    const char *code, *message;
    int corrected;
    enum retry_class want;
} rows[] = {
    /* transport failures */
    {CURLE_COULDNT_CONNECT, 0, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_COULDNT_RESOLVE_HOST, 0, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_OPERATION_TIMEDOUT, 0, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_OPERATION_TIMEDOUT, 200, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_RECV_ERROR, 200, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_SEND_ERROR, 0, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_GOT_NOTHING, 0, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_PARTIAL_FILE, 200, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_SSL_CONNECT_ERROR, 0, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_HTTP2_STREAM, 0, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_HTTP2, 0, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_PEER_FAILED_VERIFICATION, 0, NULL, NULL, 0, RETRY_NO},
    {CURLE_URL_MALFORMAT, 0, NULL, NULL, 0, RETRY_NO},
    {CURLE_UNSUPPORTED_PROTOCOL, 0, NULL, NULL, 0, RETRY_NO},
    {CURLE_FILESIZE_EXCEEDED, 200, NULL, NULL, 0, RETRY_NO},
    {CURLE_ABORTED_BY_CALLBACK, 0, NULL, NULL, 0, RETRY_NO},
    {CURLE_WRITE_ERROR, 200, NULL, NULL, 0, RETRY_NO},
    /* a transport failure outranks a status and code seen before it */
    {CURLE_PEER_FAILED_VERIFICATION, 503, "SlowDown", NULL, 0, RETRY_NO},
    /* statuses without a known code */
    {CURLE_OK, 200, NULL, NULL, 0, RETRY_NO},
    {CURLE_OK, 204, NULL, NULL, 0, RETRY_NO},
    {CURLE_OK, 301, NULL, NULL, 0, RETRY_NO},
    {CURLE_OK, 400, NULL, NULL, 0, RETRY_NO},
    {CURLE_OK, 401, NULL, NULL, 0, RETRY_NO},
    {CURLE_OK, 403, NULL, NULL, 0, RETRY_NO},
    {CURLE_OK, 404, NULL, NULL, 0, RETRY_NO},
    {CURLE_OK, 409, NULL, NULL, 0, RETRY_NO},
    {CURLE_OK, 413, NULL, NULL, 0, RETRY_NO},
    {CURLE_OK, 408, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_OK, 429, NULL, NULL, 0, RETRY_THROTTLE},
    {CURLE_OK, 500, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_OK, 502, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_OK, 503, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_OK, 504, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_OK, 507, NULL, NULL, 0, RETRY_TRANSIENT},
    {CURLE_OK, 501, NULL, NULL, 0, RETRY_NO},
    {CURLE_OK, 505, NULL, NULL, 0, RETRY_NO},
    {CURLE_OK, 0, NULL, NULL, 0, RETRY_NO},
    /* codes win over statuses */
    {CURLE_OK, 503, "SlowDown", NULL, 0, RETRY_THROTTLE},
    {CURLE_OK, 500, "SlowDown", NULL, 0, RETRY_THROTTLE},
    {CURLE_OK, 400, "ThrottlingException", NULL, 0, RETRY_THROTTLE},
    {CURLE_OK, 400, "Throttling", NULL, 0, RETRY_THROTTLE},
    {CURLE_OK, 400,
     "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
     NULL, 0, RETRY_THROTTLE},
    {CURLE_OK, 400,
     "ThrottlingException:http://internal.amazon.com/coral/com.amazon."
     "coral.availability/",
     NULL, 0, RETRY_THROTTLE},
    {CURLE_OK, 400, "TransactionInProgressException", NULL, 0,
     RETRY_THROTTLE},
    {CURLE_OK, 400, "LimitExceededException", NULL, 0, RETRY_THROTTLE},
    {CURLE_OK, 503, "RequestLimitExceeded", NULL, 0, RETRY_THROTTLE},
    {CURLE_OK, 503, "BandwidthLimitExceeded", NULL, 0, RETRY_THROTTLE},
    {CURLE_OK, 400, "TooManyRequestsException", NULL, 0, RETRY_THROTTLE},
    {CURLE_OK, 400, "RequestTimeout", NULL, 0, RETRY_TRANSIENT},
    {CURLE_OK, 400, "RequestTimeoutException", NULL, 0, RETRY_TRANSIENT},
    {CURLE_OK, 200, "InternalError", NULL, 0, RETRY_TRANSIENT},
    {CURLE_OK, 400, "IDPCommunicationError", NULL, 0, RETRY_TRANSIENT},
    {CURLE_OK, 500, "InternalServerError", NULL, 0, RETRY_TRANSIENT},
    {CURLE_OK, 400, "ValidationException", NULL, 0, RETRY_NO},
    {CURLE_OK, 400, "com.amazon.coral.validate#ValidationException", NULL, 0,
     RETRY_NO},
    {CURLE_OK, 400, "ConditionalCheckFailedException", NULL, 0, RETRY_NO},
    {CURLE_OK, 403, "AccessDenied", NULL, 0, RETRY_NO},
    {CURLE_OK, 404, "NoSuchKey", NULL, 0, RETRY_NO},
    {CURLE_OK, 400, "ExpiredTokenException", NULL, 0, RETRY_NO},
    {CURLE_OK, 400, "SlowDownPlease", NULL, 0, RETRY_NO},
    {CURLE_OK, 400, "slowdown", NULL, 0, RETRY_NO},
    {CURLE_OK, 400, "", NULL, 0, RETRY_NO},
    /* clock skew: only with a corrected clock */
    {CURLE_OK, 403, "RequestTimeTooSkewed", NULL, 1, RETRY_CLOCK_SKEW},
    {CURLE_OK, 403, "RequestTimeTooSkewed", NULL, 0, RETRY_NO},
    {CURLE_OK, 400, "InvalidSignatureException", skew_expired, 1,
     RETRY_CLOCK_SKEW},
    {CURLE_OK, 400, "InvalidSignatureException", skew_future, 1,
     RETRY_CLOCK_SKEW},
    {CURLE_OK, 400, "com.amazon.coral.service#InvalidSignatureException",
     skew_expired, 1, RETRY_CLOCK_SKEW},
    {CURLE_OK, 400, "InvalidSignatureException", skew_expired, 0, RETRY_NO},
    {CURLE_OK, 400, "InvalidSignatureException", bad_sig, 1, RETRY_NO},
    {CURLE_OK, 400, "InvalidSignatureException", NULL, 1, RETRY_NO},
    {CURLE_OK, 403, "SignatureDoesNotMatch", bad_sig, 1, RETRY_CLOCK_SKEW},
    {CURLE_OK, 403, "SignatureDoesNotMatch", bad_sig, 0, RETRY_NO},
    {CURLE_OK, 401, "AuthFailure", NULL, 1, RETRY_CLOCK_SKEW},
    {CURLE_OK, 400, "RequestExpired", NULL, 1, RETRY_CLOCK_SKEW},
    {CURLE_OK, 400, "RequestInTheFuture", NULL, 1, RETRY_CLOCK_SKEW},
};

static void
test_classify_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(rows); i++) {
        struct retry_outcome o = {rows[i].curl_code, rows[i].status,
                                  rows[i].code, rows[i].message,
                                  rows[i].corrected};
        enum retry_class got = retry_classify(&o);

        if (got != rows[i].want)
            fail_msg("row %zu (curl %d, HTTP %ld, %s): got %d, want %d", i,
                     rows[i].curl_code, rows[i].status,
                     rows[i].code ? rows[i].code : "-", got, rows[i].want);
    }
    assert_int_equal(retry_classify(NULL), RETRY_NO);
    print_message("%zu classification rows\n", COUNT(rows));
}

/* base * 2^(retry-1) capped, computed with pow() as a second opinion */
static uint64_t
ceiling_of(uint64_t base, uint64_t cap, int retry)
{
    double c = (double)base * pow(2.0, retry - 1);

    return c > (double)cap ? cap : (uint64_t)c;
}

static void
test_backoff_bounds_and_jitter(void **state)
{
    static const double rnds[] = {0.0, 0.1, 0.25, 0.5, 0.75, 0.999999, 1.0};
    const struct retry_policy *p = &retry_policy_aws;

    (void)state;
    for (int retry = 1; retry <= 12; retry++) {
        uint64_t ct = ceiling_of(p->transient_base_ms, p->cap_ms, retry);
        uint64_t cth = ceiling_of(p->throttle_base_ms, p->cap_ms, retry);

        for (size_t i = 0; i < COUNT(rnds); i++) {
            uint64_t t = retry_backoff_ms(p, RETRY_TRANSIENT, retry, rnds[i]);
            uint64_t th = retry_backoff_ms(p, RETRY_THROTTLE, retry, rnds[i]);

            /* full jitter: exactly rnd times the capped ceiling */
            assert_int_equal(t, (uint64_t)(rnds[i] * (double)ct));
            assert_int_equal(th, (uint64_t)(rnds[i] * (double)cth));
            assert_true(t <= ct && th <= cth && th <= p->cap_ms);
        }
    }
    /* spot values: 50, 100, 200 ... and 1 s, 2 s ... capped at 20 s */
    assert_int_equal(retry_backoff_ms(p, RETRY_TRANSIENT, 1, 1.0), 50);
    assert_int_equal(retry_backoff_ms(p, RETRY_TRANSIENT, 3, 1.0), 200);
    assert_int_equal(retry_backoff_ms(p, RETRY_THROTTLE, 2, 1.0), 2000);
    assert_int_equal(retry_backoff_ms(p, RETRY_THROTTLE, 6, 1.0), 20000);
    assert_int_equal(retry_backoff_ms(&retry_policy_dynamodb,
                                      RETRY_TRANSIENT, 1, 1.0),
                     25);
    /* out-of-range random values are clamped, huge retries stay capped */
    assert_int_equal(retry_backoff_ms(p, RETRY_THROTTLE, 1, -3.0), 0);
    assert_int_equal(retry_backoff_ms(p, RETRY_THROTTLE, 1, 7.0), 1000);
    assert_int_equal(retry_backoff_ms(p, RETRY_THROTTLE, 1, NAN), 0);
    assert_int_equal(retry_backoff_ms(p, RETRY_THROTTLE, 100000, 1.0),
                     20000);
    assert_int_equal(retry_backoff_ms(p, RETRY_NO, 1, 1.0), 0);
    assert_int_equal(retry_backoff_ms(p, RETRY_CLOCK_SKEW, 1, 1.0), 0);
}

static void
test_backoff_no_overflow(void **state)
{
    struct retry_policy p = retry_policy_aws;

    (void)state;
    p.cap_ms = UINT64_MAX;
    p.throttle_base_ms = (uint64_t)1 << 62;
    assert_int_equal(retry_backoff_ms(&p, RETRY_THROTTLE, 200, 1.0),
                     (uint64_t)1 << 63);
    assert_true(retry_backoff_ms(&p, RETRY_THROTTLE, 200, 0.5) <=
                (uint64_t)1 << 63);
}

static const struct retry_outcome o503 = {CURLE_OK, 503, NULL, NULL, 0};
static const struct retry_outcome o429 = {CURLE_OK, 429, NULL, NULL, 0};
static const struct retry_outcome oreset = {CURLE_RECV_ERROR, 0, NULL, NULL,
                                            0};

static void
test_attempt_cap(void **state)
{
    struct retry_state s;
    uint64_t d = 99999;
    char err[ERR_LEN];

    (void)state;
    retry_state_init(&s);
    assert_int_equal(retry_next(&retry_policy_aws, NULL, &s, &o503, 1.0, -1,
                                &d, err),
                     0);
    assert_int_equal(d, 50);
    assert_int_equal(retry_next(&retry_policy_aws, NULL, &s, &oreset, 1.0,
                                -1, &d, err),
                     0);
    assert_int_equal(d, 100);
    assert_int_equal(retry_next(&retry_policy_aws, NULL, &s, &o503, 1.0, -1,
                                &d, err),
                     ERR_RETRY);
    assert_string_equal(err, "gave up after 3 attempts");

    retry_state_init(&s); /* DynamoDB allows a fourth attempt */
    for (int i = 0; i < 3; i++)
        assert_int_equal(retry_next(&retry_policy_dynamodb, NULL, &s, &o503,
                                    0.5, -1, &d, err),
                         0);
    assert_int_equal(d, 50); /* 0.5 x 25 x 2^2 */
    assert_int_equal(retry_next(&retry_policy_dynamodb, NULL, &s, &o503,
                                0.5, -1, &d, err),
                     ERR_RETRY);
}

static void
test_give_up_codes(void **state)
{
    static const struct {
        struct retry_outcome o;
        int rc;
        const char *err;
    } cases[] = {
        {{CURLE_OK, 400, "ValidationException", NULL, 0}, ERR_FAIL,
         "not retryable: HTTP 400 ValidationException"},
        {{CURLE_OK, 404, NULL, NULL, 0}, ERR_FAIL, "not retryable: HTTP 404"},
        {{CURLE_FILESIZE_EXCEEDED, 200, NULL, NULL, 0}, ERR_FAIL, NULL},
        {{CURLE_URL_MALFORMAT, 0, NULL, NULL, 0}, ERR_FAIL, NULL},
        {{CURLE_PEER_FAILED_VERIFICATION, 0, NULL, NULL, 0}, ERR_RETRY, NULL},
        {{CURLE_ABORTED_BY_CALLBACK, 0, NULL, NULL, 0}, ERR_RETRY, NULL},
        {{CURLE_OK, 403, "RequestTimeTooSkewed", NULL, 0}, ERR_FAIL, NULL},
    };

    (void)state;
    for (size_t i = 0; i < COUNT(cases); i++) {
        struct retry_state s;
        uint64_t d = 12345;
        char err[ERR_LEN] = "";

        retry_state_init(&s);
        assert_int_equal(retry_next(&retry_policy_aws, NULL, &s,
                                    &cases[i].o, 0.5, -1, &d, err),
                         cases[i].rc);
        assert_int_equal(d, 12345); /* untouched */
        assert_int_equal(s.attempts, 1);
        assert_non_null(strstr(err, "not retryable"));
        if (cases[i].err != NULL)
            assert_string_equal(err, cases[i].err);
    }
}

static void
test_server_wait(void **state)
{
    struct retry_state s;
    uint64_t d;
    char err[ERR_LEN];

    (void)state;
    /* AWS: within [computed, computed + 5 s], computed = 0.5 x 1000 */
    static const int64_t aws_in[] = {3000, 30000, 100, 0, 5500, 5501};
    static const uint64_t aws_out[] = {3000, 5500, 500, 500, 5500, 5500};
    for (size_t i = 0; i < COUNT(aws_in); i++) {
        retry_state_init(&s);
        assert_int_equal(retry_next(&retry_policy_aws, NULL, &s, &o429, 0.5,
                                    aws_in[i], &d, err),
                         0);
        assert_int_equal(d, aws_out[i]);
    }
    /* OpenAI/X: up to 60 s whatever the backoff; computed = 0.5 x 1000 */
    static const int64_t api_in[] = {45000, 100000, 60000, 10, -1};
    static const uint64_t api_out[] = {45000, 60000, 60000, 500, 500};
    for (size_t i = 0; i < COUNT(api_in); i++) {
        retry_state_init(&s);
        assert_int_equal(retry_next(&retry_policy_api, NULL, &s, &o429, 0.5,
                                    api_in[i], &d, err),
                         0);
        assert_int_equal(d, api_out[i]);
    }
    /* a server wait does not lift the attempt cap or a refusal */
    retry_state_init(&s);
    s.attempts = 2;
    assert_int_equal(retry_next(&retry_policy_api, NULL, &s, &o429, 0.5, 10,
                                &d, err),
                     ERR_RETRY);
}

static void
test_clock_skew_once(void **state)
{
    struct retry_outcome o = {CURLE_OK, 403, "RequestTimeTooSkewed", NULL, 1};
    struct retry_quota q;
    struct retry_state s;
    uint64_t d = 777;
    char err[ERR_LEN];

    (void)state;
    retry_quota_init(&q, 0);
    retry_state_init(&s);
    assert_int_equal(
        retry_next(&retry_policy_aws, &q, &s, &o, 0.9, 4000, &d, err), 0);
    assert_int_equal(d, 0); /* re-signed request goes at once */
    assert_int_equal(retry_next(&retry_policy_aws, &q, &s, &o, 0.9, -1, &d,
                                err),
                     ERR_RETRY);
    assert_string_equal(err, "clock skew persists after correction");
}

static void
test_quota_drain_and_refund(void **state)
{
    struct retry_quota q;
    struct retry_state s;
    uint64_t d;
    char err[ERR_LEN];
    int retries = 0;

    (void)state;
    retry_quota_init(&q, 0);
    assert_int_equal(q.tokens, RETRY_QUOTA_TOKENS);
    assert_int_equal(q.capacity, RETRY_QUOTA_TOKENS);
    /* many operations failing once each drain 14 tokens apiece */
    for (;;) {
        retry_state_init(&s);
        if (retry_next(&retry_policy_aws, &q, &s, &o503, 0.5, -1, &d, err) !=
            0)
            break;
        retries++;
    }
    assert_int_equal(retries, RETRY_QUOTA_TOKENS / 14);
    assert_int_equal(q.tokens, RETRY_QUOTA_TOKENS % 14);
    assert_non_null(strstr(err, "retry quota exhausted"));
    /* a throttled retry costs 5, and 10 tokens are left */
    retry_state_init(&s);
    assert_int_equal(
        retry_next(&retry_policy_aws, &q, &s, &o429, 0.5, -1, &d, err), 0);
    assert_int_equal(q.tokens, 5);
    assert_int_equal(s.cost, 5);
    /* that retry succeeded: its 5 tokens come back */
    retry_success(&q, &s);
    assert_int_equal(q.tokens, 10);
    assert_int_equal(s.cost, 0);
    /* first-try successes add one token each */
    retry_state_init(&s);
    retry_success(&q, &s);
    assert_int_equal(q.tokens, 11);
    /* a retry that fails again keeps its tokens spent */
    retry_state_init(&s);
    assert_int_equal(
        retry_next(&retry_policy_aws, &q, &s, &o429, 0.5, -1, &d, err), 0);
    assert_int_equal(
        retry_next(&retry_policy_aws, &q, &s, &o429, 0.5, -1, &d, err), 0);
    assert_int_equal(q.tokens, 1);
    retry_success(&q, &s);
    assert_int_equal(q.tokens, 6);
    /* refunds never exceed the capacity */
    retry_quota_init(&q, 20);
    retry_state_init(&s);
    retry_success(&q, &s);
    assert_int_equal(q.tokens, 20);
    /* without a quota, retries are limited by attempts alone */
    retry_state_init(&s);
    assert_int_equal(
        retry_next(&retry_policy_aws, NULL, &s, &o503, 0.5, -1, &d, err), 0);
    assert_int_equal(s.cost, 0);
    retry_success(NULL, &s);
}

static void
test_random_range(void **state)
{
    double lo = 1.0, hi = 0.0;

    (void)state;
    for (int i = 0; i < 1000; i++) {
        double r = retry_random();

        assert_true(r >= 0.0 && r < 1.0);
        lo = r < lo ? r : lo;
        hi = r > hi ? r : hi;
    }
    assert_true(lo < 0.1 && hi > 0.9); /* spread, not a constant */
}

static void
test_bad_arguments(void **state)
{
    struct retry_state s;
    uint64_t d;
    char err[ERR_LEN];

    (void)state;
    retry_state_init(&s);
    assert_int_equal(retry_next(NULL, NULL, &s, &o503, 0.5, -1, &d, err),
                     ERR_FAIL);
    assert_int_equal(retry_next(&retry_policy_aws, NULL, &s, NULL, 0.5, -1,
                                &d, err),
                     ERR_FAIL);
    assert_string_equal(err, "retry_next: missing argument");
    assert_int_equal(s.attempts, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_table),
        cmocka_unit_test(test_backoff_bounds_and_jitter),
        cmocka_unit_test(test_backoff_no_overflow),
        cmocka_unit_test(test_attempt_cap),
        cmocka_unit_test(test_give_up_codes),
        cmocka_unit_test(test_server_wait),
        cmocka_unit_test(test_clock_skew_once),
        cmocka_unit_test(test_quota_drain_and_refund),
        cmocka_unit_test(test_random_range),
        cmocka_unit_test(test_bad_arguments),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
