/*
 * Tests for the pure parts of openai/openai.c (included to reach its
 * statics): option and prompt checks, the request JSON for every option
 * combination, error classification of each error body api-notes section
 * 6 lists, base64 decoding (RFC 4648 vectors, OpenSSL's encoder as a
 * cross-check, in place), and turning 200 bodies into checked images.
 * The request on the loop is tested against the stand-in by
 * tests/proc/test_openai_client.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "openai/openai.c"

#define KEY "sk-proj-TESTKEY0123456789abcdef"

static void
base_opts(struct openai_opts *o)
{
    openai_opts_init(o);
    o->base_url = "https://api.openai.com/v1";
    o->api_key = KEY;
    o->api_key_ref = "env:OPENAI_API_KEY";
    o->model = "gpt-image-2-2026-04-21";
}

static void
expect_substr(const char *s, const char *needle)
{
    if (strstr(s, needle) == NULL)
        fail_msg("'%s' lacks '%s'", s, needle);
}

/* ---- checks ---- */

static void
expect_check_fails(const struct openai_opts *o, const char *prompt,
                   const char *needle)
{
    char err[ERR_LEN] = "";

    assert_int_equal(openai_check(o, prompt, err), ERR_FAIL);
    expect_substr(err, needle);
    assert_null(strstr(err, KEY));
}

static void
test_check_opts(void **state)
{
    struct openai_opts o;
    char err[ERR_LEN];
    const char *bad_urls[] = {NULL,
                              "",
                              "ftp://x/v1",
                              "api.openai.com/v1",
                              "https://x/v1?key=1",
                              "https://x/v 1",
                              "https://x/v1#f",
                              "https://x/\nv1"};
    const char *bad_keys[] = {
        NULL, "", "sk-with space", "sk-\nnewline", "sk-caf\xc3\xa9", "sk-\x7f"};
    const char *bad_sizes[] = {
        "",          "1024",      "1024x",    "x1024",      "01024x1024",
        "1024x0768", "1024X1024", "123456x1", "1024x1024 ", "-1x5"};

    (void)state;
    base_opts(&o);
    assert_int_equal(openai_check(&o, "a ghost", err), 0);
    o.base_url = "http://127.0.0.1:8080/v1/";
    assert_int_equal(openai_check(&o, "a ghost", err), 0);
    expect_check_fails(NULL, "a ghost", "no options");
    for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        base_opts(&o);
        o.base_url = bad_urls[i];
        expect_check_fails(&o, "a ghost", "base_url");
    }
    for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
        base_opts(&o);
        o.api_key = bad_keys[i];
        expect_check_fails(&o, "a ghost", "API key (env:OPENAI_API_KEY)");
        err[0] = '\0';
        assert_int_equal(openai_check(&o, "a ghost", err), ERR_FAIL);
        if (bad_keys[i] != NULL && bad_keys[i][0] != '\0')
            assert_null(strstr(err, bad_keys[i])); /* never quoted */
    }
    for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
        base_opts(&o);
        o.size = bad_sizes[i];
        expect_check_fails(&o, "a ghost", "size");
    }
    base_opts(&o);
    o.model = "gpt image";
    expect_check_fails(&o, "a ghost", "model");
    o.model = NULL;
    expect_check_fails(&o, "a ghost", "model");
    base_opts(&o);
    o.quality = "ultra";
    expect_check_fails(&o, "a ghost", "quality");
    base_opts(&o);
    o.output_format = "gif";
    expect_check_fails(&o, "a ghost", "output_format");
    base_opts(&o);
    o.timeout_ms = -1;
    expect_check_fails(&o, "a ghost", "timeout");
    base_opts(&o);
    o.organization = "org 1";
    expect_check_fails(&o, "a ghost", "organization");
    base_opts(&o);
    o.project = "";
    expect_check_fails(&o, "a ghost", "project");
}

static void
test_check_prompt(void **state)
{
    struct openai_opts o;
    char err[ERR_LEN];
    /* 32000 characters of two bytes each: over 32000 bytes but allowed */
    char *big = malloc(2 * (OPENAI_PROMPT_MAX + 1) + 1);
    const char *bad_utf8[] = {
        "\xc3",             /* cut short */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong, three bytes */
        "\xed\xa0\x80",     /* a UTF-16 surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "ok \xff",          /* never valid */
        "\xe2\x82",         /* cut short */
    };

    (void)state;
    base_opts(&o);
    for (size_t i = 0; i < OPENAI_PROMPT_MAX; i++)
        memcpy(big + 2 * i, "\xc3\xa9", 2);
    big[2 * OPENAI_PROMPT_MAX] = '\0';
    assert_int_equal(openai_check(&o, big, err), 0);
    memcpy(big + 2 * OPENAI_PROMPT_MAX, "x", 2);
    expect_check_fails(&o, big, "32001 characters");
    free(big);
    assert_int_equal(openai_check(&o,
                                  "\xf0\x9f\x8e\x83 jack-o'-lantern "
                                  "\xe2\x80\x94 \"quoted\"\n",
                                  err),
                     0);
    expect_check_fails(&o, "", "empty");
    expect_check_fails(&o, NULL, "empty");
    for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++)
        expect_check_fails(&o, bad_utf8[i], "UTF-8");
}

/* ---- request JSON ---- */

static const char *
body_str(json_t *body, const char *key)
{
    return json_string_value(json_object_get(body, key));
}

/* The body for o, parsed back, checked member by member. */
static void
check_body(const struct openai_opts *o, const char *prompt)
{
    char *text = openai_body_json(o, prompt);
    json_t *body, *n, *comp;
    size_t want = 6 + (o->output_compression >= 0);

    assert_non_null(text);
    body = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(body);
    assert_int_equal(json_object_size(body), want);
    assert_string_equal(body_str(body, "model"), o->model);
    assert_string_equal(body_str(body, "prompt"), prompt);
    n = json_object_get(body, "n");
    assert_true(json_is_integer(n) && json_integer_value(n) == 1);
    assert_string_equal(body_str(body, "size"), o->size ? o->size : "auto");
    assert_string_equal(body_str(body, "quality"),
                        o->quality ? o->quality : "auto");
    assert_string_equal(body_str(body, "output_format"),
                        o->output_format ? o->output_format : "png");
    comp = json_object_get(body, "output_compression");
    if (o->output_compression >= 0)
        assert_int_equal(json_integer_value(comp), o->output_compression);
    else
        assert_null(comp);
    assert_null(json_object_get(body, "response_format"));
    assert_null(json_object_get(body, "style"));
    json_decref(body);
    free(text);
}

static void
test_body_combinations(void **state)
{
    const char *sizes[] = {NULL, "auto", "1024x1024", "1536x1024", "3840x2160"};
    const char *qualities[] = {NULL,   "auto",  "low", "medium",
                               "high", "xhigh", "max"};
    const char *formats[] = {NULL, "png", "jpeg", "webp"};
    const int comps[] = {-1, 0, 85, 100, 101, -2};
    struct openai_opts o;
    char err[ERR_LEN];
    int accepted = 0, refused = 0;

    (void)state;
    for (size_t s = 0; s < 5; s++)
        for (size_t q = 0; q < 7; q++)
            for (size_t f = 0; f < 4; f++)
                for (size_t c = 0; c < 6; c++) {
                    int png = f < 2, comp = comps[c];
                    int valid =
                        comp == -1 || (!png && comp >= 0 && comp <= 100);

                    base_opts(&o);
                    o.size = sizes[s];
                    o.quality = qualities[q];
                    o.output_format = formats[f];
                    o.output_compression = comp;
                    if (!valid) {
                        expect_check_fails(&o, "p", "output_compression");
                        refused++;
                        continue;
                    }
                    assert_int_equal(openai_check(&o, "p", err), 0);
                    check_body(&o, "a pumpkin, \"grinning\"\n\xf0\x9f\x8e\x83");
                    accepted++;
                }
    assert_int_equal(accepted + refused, 5 * 7 * 4 * 6);
    assert_int_equal(accepted, 5 * 7 * (2 * 1 + 2 * 4));
}

/* ---- error text ---- */

static void
test_append(void **state)
{
    char out[16] = "ab";
    char err[ERR_LEN];
    char msg[400];

    (void)state;
    openai_append(out, sizeof(out), "c\nd\te\x7f");
    assert_string_equal(out, "abc d e ");
    openai_append(out, sizeof(out), "0123456789");
    assert_string_equal(out, "abc d e 0123...");
    assert_int_equal(strlen(out), sizeof(out) - 1);
    openai_append(out, sizeof(out), "more"); /* full: unchanged */
    assert_string_equal(out, "abc d e 0123...");
    strcpy(out, "abcdefghij");
    openai_append(out, sizeof(out),
                  "\xc3\xa9\xc3\xa9\xc3\xa9"); /* three e-acute */
    assert_string_equal(out, "abcdefghij\xc3\xa9...");
    strcpy(out, "abcdefghijk");
    openai_append(out, sizeof(out), "\xc3\xa9\xc3\xa9\xc3\xa9"); /* none cut */
    assert_string_equal(out, "abcdefghijk...");

    for (size_t i = 0; i < sizeof(msg) - 1; i++)
        msg[i] = "ab\xe2\x82\xac"[i % 5]; /* a, b, euro sign */
    msg[sizeof(msg) - 1] = '\0';
    openai_reason(err, "moderation_blocked", msg);
    assert_int_equal(strncmp(err, "moderation_blocked: ab", 22), 0);
    assert_int_equal(strcmp(err + strlen(err) - 3, "..."), 0);
    assert_true(strlen(err) <= ERR_LEN - 1);
    assert_true(openai_utf8_len((const unsigned char *)err) > 0);
    openai_reason(err, "HTTP 500", "");
    assert_string_equal(err, "HTTP 500");
    openai_reason(err, "HTTP 500", NULL);
    assert_string_equal(err, "HTTP 500");
}

/* ---- classification ---- */

static struct openai_verdict
classify(long status, const char *body, const char *should_retry)
{
    struct openai_attempt a = {
        .curl_code = CURLE_OK,
        .status = status,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .should_retry = should_retry,
        .timeout_ms = 300000,
        .key_ref = "env:OPENAI_API_KEY",
    };
    struct openai_verdict v;

    openai_classify(&a, &v);
    return v;
}

static void
expect_verdict(const struct openai_verdict *v, enum retry_class retry, int rc,
               const char *error_prefix)
{
    if (v->retry != retry || v->rc != rc)
        fail_msg("retry %d rc %d for '%s'", v->retry, v->rc, v->error);
    if (strncmp(v->error, error_prefix, strlen(error_prefix)) != 0)
        fail_msg("error '%s' does not start with '%s'", v->error, error_prefix);
}

#define MODERATION_BODY                                                        \
    "{\"error\": {\"message\": \"Your request was rejected by the safety "     \
    "system. If you believe this is an error, contact us at "                  \
    "help.openai.com and include the request ID req_0123. "                    \
    "safety_violations=[violence].\", \"type\": "                              \
    "\"image_generation_user_error\", \"param\": null, \"code\": "             \
    "\"moderation_blocked\", \"moderation_details\": {\"moderation_stage\""    \
    ": \"input\", \"categories\": [\"violence\"]}}}"

static void
test_classify_refusals(void **state)
{
    struct openai_verdict v;

    (void)state;
    v = classify(400, MODERATION_BODY, NULL);
    expect_verdict(&v, RETRY_NO, ERR_FAIL,
                   "moderation_blocked: Your request was rejected by the "
                   "safety system.");
    expect_substr(v.error, "safety_violations=[violence]");
    assert_true(v.refused);
    assert_false(v.quota_exhausted);
    /* never retried, whatever the headers say */
    v = classify(400, MODERATION_BODY, "true");
    expect_verdict(&v, RETRY_NO, ERR_FAIL, "moderation_blocked: ");
    /* the same refusal by type only, and DALL-E's older code */
    v = classify(400,
                 "{\"error\":{\"message\":\"Rejected.\",\"type\":"
                 "\"image_generation_user_error\",\"code\":null}}",
                 NULL);
    expect_verdict(&v, RETRY_NO, ERR_FAIL,
                   "image_generation_user_error: Rejected.");
    assert_true(v.refused);
    v = classify(400,
                 "{\"error\":{\"code\":\"content_policy_violation\","
                 "\"message\":\"Your request was rejected as a result "
                 "of our safety system.\",\"param\":null,\"type\":"
                 "\"invalid_request_error\"}}",
                 NULL);
    expect_verdict(&v, RETRY_NO, ERR_FAIL,
                   "content_policy_violation: Your request was rejected");
    assert_true(v.refused);
}

static void
test_classify_account(void **state)
{
    struct openai_verdict v;

    (void)state;
    v = classify(401,
                 "{\"error\":{\"message\":\"Incorrect API key provided: "
                 "sk-pr**********cdef. You can find your API key at "
                 "https://platform.openai.com/account/api-keys.\","
                 "\"type\":\"invalid_request_error\",\"param\":null,"
                 "\"code\":\"invalid_api_key\"}}",
                 NULL);
    expect_verdict(&v, RETRY_NO, ERR_FAIL, "");
    assert_string_equal(v.error,
                        "OpenAI rejected the API key (env:OPENAI_API_KEY)");
    v = classify(401,
                 "{\"error\":{\"message\":\"OpenAI-Organization header "
                 "should match organization for API key\",\"code\":"
                 "\"mismatched_organization\"}}",
                 NULL);
    expect_verdict(&v, RETRY_NO, ERR_FAIL,
                   "OpenAI rejected the organization id for the API key "
                   "(env:OPENAI_API_KEY)");
    v = classify(404,
                 "{\"error\":{\"message\":\"The model `gpt-image-1` "
                 "does not exist or you do not have access to it.\","
                 "\"type\":\"invalid_request_error\",\"param\":null,"
                 "\"code\":\"model_not_found\"}}",
                 NULL);
    expect_verdict(&v, RETRY_NO, ERR_FAIL,
                   "HTTP 404 model_not_found: The model `gpt-image-1` does "
                   "not exist");
    v = classify(429,
                 "{\"error\":{\"message\":\"You exceeded your current "
                 "quota, please check your plan and billing details.\","
                 "\"type\":\"insufficient_quota\",\"param\":null,"
                 "\"code\":\"insufficient_quota\"}}",
                 "true");
    expect_verdict(&v, RETRY_NO, ERR_FAIL,
                   "insufficient_quota: You exceeded your current quota");
    assert_true(v.quota_exhausted);
    assert_false(v.refused);
    v = classify(403,
                 "{\"error\":{\"message\":\"Your organization must be "
                 "verified to use the model.\",\"type\":"
                 "\"invalid_request_error\",\"code\":null}}",
                 NULL);
    expect_verdict(&v, RETRY_NO, ERR_FAIL,
                   "HTTP 403 invalid_request_error: Your organization");
    v = classify(400,
                 "{\"error\":{\"message\":\"Invalid value: 'huge'.\","
                 "\"type\":\"invalid_request_error\",\"param\":\"size\","
                 "\"code\":\"invalid_value\"}}",
                 NULL);
    expect_verdict(&v, RETRY_NO, ERR_FAIL,
                   "HTTP 400 invalid_value: Invalid value: 'huge'.");
}

static void
test_classify_transient(void **state)
{
    struct openai_verdict v;
    const long transient[] = {408, 409, 500, 502, 503, 504, 520};

    (void)state;
    v = classify(429,
                 "{\"error\":{\"message\":\"Rate limit reached for "
                 "images per minute (IPM): Limit 5, Used 5, Requested "
                 "1. Please try again in 1.5s.\",\"type\":\"requests\","
                 "\"param\":null,\"code\":\"rate_limit_exceeded\"}}",
                 NULL);
    expect_verdict(&v, RETRY_THROTTLE, ERR_RETRY,
                   "HTTP 429 rate_limit_exceeded: Rate limit reached");
    assert_false(v.quota_exhausted);
    for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++) {
        v = classify(transient[i],
                     "{\"error\":{\"message\":\"The server had "
                     "an error while processing your request."
                     "\",\"type\":\"server_error\"}}",
                     NULL);
        expect_verdict(&v, RETRY_TRANSIENT, ERR_RETRY, "HTTP ");
        expect_substr(v.error, "server_error: The server had an error");
    }
    /* a proxy's HTML page: the status decides, the body is not quoted */
    v = classify(502, "<html><body>Bad gateway</body></html>", NULL);
    expect_verdict(&v, RETRY_TRANSIENT, ERR_RETRY, "HTTP 502");
    assert_string_equal(v.error, "HTTP 502");
    v = classify(503, NULL, NULL);
    assert_string_equal(v.error, "HTTP 503");
    v = classify(302, "", NULL);
    expect_verdict(&v, RETRY_NO, ERR_FAIL, "HTTP 302");
}

static void
test_classify_should_retry(void **state)
{
    struct openai_verdict v;
    const char *bad_request = "{\"error\":{\"message\":\"Try again.\","
                              "\"type\":\"invalid_request_error\"}}";

    (void)state;
    v = classify(400, bad_request, "true");
    expect_verdict(&v, RETRY_TRANSIENT, ERR_RETRY, "HTTP 400");
    v = classify(400, bad_request, "TRUE");
    expect_verdict(&v, RETRY_TRANSIENT, ERR_RETRY, "HTTP 400");
    v = classify(429, bad_request, "true");
    expect_verdict(&v, RETRY_THROTTLE, ERR_RETRY, "HTTP 429");
    v = classify(500, bad_request, "false");
    expect_verdict(&v, RETRY_NO, ERR_RETRY, "HTTP 500");
    v = classify(429, bad_request, "false");
    expect_verdict(&v, RETRY_NO, ERR_RETRY, "HTTP 429");
    v = classify(400, bad_request, "maybe");
    expect_verdict(&v, RETRY_NO, ERR_FAIL, "HTTP 400");
    v = classify(401, bad_request, "true");
    expect_verdict(&v, RETRY_TRANSIENT, ERR_RETRY,
                   "OpenAI rejected the API key");
}

static struct openai_verdict
classify_curl(CURLcode code, long duration_ms, int full_timeouts)
{
    struct openai_attempt a = {
        .curl_code = code,
        .curl_error = curl_easy_strerror(code),
        .duration_ms = duration_ms,
        .timeout_ms = 300000,
        .full_timeouts = full_timeouts,
    };
    struct openai_verdict v;

    openai_classify(&a, &v);
    return v;
}

static void
test_classify_transport(void **state)
{
    struct openai_verdict v;
    const CURLcode transient[] = {
        CURLE_COULDNT_CONNECT, CURLE_RECV_ERROR,   CURLE_SEND_ERROR,
        CURLE_GOT_NOTHING,     CURLE_PARTIAL_FILE, CURLE_COULDNT_RESOLVE_HOST};

    (void)state;
    for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++) {
        v = classify_curl(transient[i], 10, 1);
        expect_verdict(&v, RETRY_TRANSIENT, ERR_RETRY,
                       "OpenAI request failed: ");
        assert_false(v.full_timeout);
    }
    /* the whole timeout: once more, and never a third time */
    v = classify_curl(CURLE_OPERATION_TIMEDOUT, 300001, 0);
    expect_verdict(&v, RETRY_TRANSIENT, ERR_RETRY,
                   "no answer from OpenAI within 300000 ms");
    assert_true(v.full_timeout);
    v = classify_curl(CURLE_OPERATION_TIMEDOUT, 299000, 1);
    expect_verdict(&v, RETRY_NO, ERR_RETRY,
                   "no answer from OpenAI within 300000 ms, twice");
    expect_substr(v.error, "billed");
    assert_true(v.full_timeout);
    /* a connect timeout is short: retried like any network error */
    v = classify_curl(CURLE_OPERATION_TIMEDOUT, 10000, 1);
    expect_verdict(&v, RETRY_TRANSIENT, ERR_RETRY, "OpenAI request failed");
    assert_false(v.full_timeout);
    v = classify_curl(CURLE_FILESIZE_EXCEEDED, 100, 0);
    expect_verdict(&v, RETRY_NO, ERR_FAIL, "OpenAI's answer is too large");
    expect_substr(v.error, "output_format=jpeg or webp");
    v = classify_curl(CURLE_ABORTED_BY_CALLBACK, 100, 0);
    expect_verdict(&v, RETRY_NO, ERR_RETRY, "OpenAI request failed");
    v = classify_curl(CURLE_PEER_FAILED_VERIFICATION, 100, 0);
    expect_verdict(&v, RETRY_NO, ERR_RETRY, "OpenAI request failed");
    v = classify_curl(CURLE_URL_MALFORMAT, 0, 0);
    expect_verdict(&v, RETRY_NO, ERR_FAIL, "OpenAI request failed");
}

/* ---- base64 ---- */

/* RFC 4648 section 10. */
static const char *const rfc4648[][2] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static int
decode(const char *in, unsigned char *out, size_t *out_len, char *err)
{
    return openai_b64_decode(out, in, strlen(in), out_len, err);
}

static void
test_b64_vectors(void **state)
{
    unsigned char out[16];
    char err[ERR_LEN], unpadded[16];
    size_t n;

    (void)state;
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        assert_int_equal(decode(rfc4648[i][1], out, &n, err), 0);
        assert_int_equal(n, strlen(rfc4648[i][0]));
        assert_memory_equal(out, rfc4648[i][0], n);
        /* the same without padding */
        snprintf(unpadded, sizeof(unpadded), "%s", rfc4648[i][1]);
        unpadded[strcspn(unpadded, "=")] = '\0';
        assert_int_equal(decode(unpadded, out, &n, err), 0);
        assert_int_equal(n, strlen(rfc4648[i][0]));
        assert_memory_equal(out, rfc4648[i][0], n);
    }
}

static void
test_b64_errors(void **state)
{
    const char *bad[][2] = {
        {"Z", "length"},       {"Zm9vY", "length"},
        {"Zg=", "length"},     {"Zm9v=", "length"},
        {"Zm8==", "length"},   {"Zg===", "character at offset 2"},
        {"Zm=v", "offset 2"},  {"Zm9v\n", "offset 4"},
        {"Zm 9v", "offset 2"}, {"Zm9-", "offset 3"},
        {"Zm9_", "offset 3"},  {"Zm9\"", "offset 3"},
    };
    unsigned char out[16];
    char err[ERR_LEN];
    size_t n;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (decode(bad[i][0], out, &n, err) != ERR_FAIL)
            fail_msg("'%s' was accepted", bad[i][0]);
        expect_substr(err, bad[i][1]);
    }
}

/* A bad byte is reported at its offset whichever block of the scan it
 * falls in, at either edge of a block or deep into a long text. */
static void
test_b64_bad_offsets(void **state)
{
    enum { LEN = 10000 }; /* a multiple of 4: no length error first */
    const size_t at[] = {0, 1, 255, 256, 257, 511, 512, 4095, 4096, 9998};
    const char bad[] = {'=', '-', ' ', '\n', '\x80', '\xff'};
    char *enc = malloc(LEN + 1), err[ERR_LEN], want[ERR_LEN];
    unsigned char *out = malloc(LEN);
    size_t n;

    (void)state;
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        for (size_t j = 0; j < sizeof(bad); j++) {
            memset(enc, 'Q', LEN);
            enc[LEN] = '\0';
            enc[at[i]] = bad[j];
            assert_int_equal(openai_b64_decode(out, enc, LEN, &n, err),
                             ERR_FAIL);
            snprintf(want, sizeof(want),
                     "invalid base64 character at offset %zu", at[i]);
            assert_string_equal(err, want);
        }
    }
    free(enc);
    free(out);
}

/* Random bytes through OpenSSL's encoder and back through ours, in a
 * separate buffer and in place, across the chunk boundaries. */
static void
test_b64_roundtrip(void **state)
{
    const size_t lens[] = {0,    1,    2,    3,    4,    5,    767,  768,   769,
                           3071, 3072, 3073, 6143, 6144, 6145, 9999, 100000};
    char err[ERR_LEN];

    (void)state;
    srand(7);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t len = lens[i], enc_len = (len + 2) / 3 * 4, n = 0;
        unsigned char *raw = malloc(len + 1), *out = malloc(len + 1);
        char *enc = malloc(enc_len + 1);

        for (size_t j = 0; j < len; j++)
            raw[j] = (unsigned char)rand();
        assert_int_equal(EVP_EncodeBlock((unsigned char *)enc, raw, (int)len),
                         (int)enc_len);
        assert_int_equal(openai_b64_decode(out, enc, enc_len, &n, err), 0);
        assert_int_equal(n, len);
        assert_memory_equal(out, raw, len);
        /* in place, as openai_take_image() does it */
        assert_int_equal(
            openai_b64_decode((unsigned char *)enc, enc, enc_len, &n, err), 0);
        assert_int_equal(n, len);
        assert_memory_equal(enc, raw, len);
        free(raw);
        free(out);
        free(enc);
    }
}

/* ---- 200 bodies ---- */

/* A PNG that frames correctly, total bytes long (>= 57). */
static unsigned char *
fake_png(size_t total)
{
    static const unsigned char head[] = {
        0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0,
        13,   'I', 'H', 'D', 'R',  0,    0,    4,    0, 0, 0,
        3,    0,   8,   2,   0,    0,    0,    0,    0, 0, 0};
    static const unsigned char iend[] = {0,   0,   0,    0,    'I',  'E',
                                         'N', 'D', 0xae, 0x42, 0x60, 0x82};
    unsigned char *p = calloc(1, total);
    size_t idat = total - sizeof(head) - 12 - sizeof(iend);

    memcpy(p, head, sizeof(head));
    p[sizeof(head)] = (unsigned char)(idat >> 24);
    p[sizeof(head) + 1] = (unsigned char)(idat >> 16);
    p[sizeof(head) + 2] = (unsigned char)(idat >> 8);
    p[sizeof(head) + 3] = (unsigned char)idat;
    memcpy(p + sizeof(head) + 4, "IDAT", 4);
    for (size_t i = 0; i < idat; i++)
        p[sizeof(head) + 8 + i] = (unsigned char)(i * 131 + 7);
    memcpy(p + total - sizeof(iend), iend, sizeof(iend));
    return p;
}

static char *
b64(const unsigned char *data, size_t len)
{
    char *enc = malloc((len + 2) / 3 * 4 + 1);

    EVP_EncodeBlock((unsigned char *)enc, data, (int)len);
    return enc;
}

/* body = before + base64(data) + after, in a malloc'd buffer. */
static char *
body_with(const char *before, const char *b64text, const char *after,
          size_t *len)
{
    char *body;

    *len = strlen(before) + strlen(b64text) + strlen(after);
    body = malloc(*len + 1);
    snprintf(body, *len + 1, "%s%s%s", before, b64text, after);
    return body;
}

/* Run openai_take_image() on a copy of text; the result and err. */
static int
take(const char *text, struct openai_result *res, char err[ERR_LEN])
{
    size_t len = strlen(text);
    char *body = malloc(len + 1);

    memcpy(body, text, len + 1);
    memset(res, 0, sizeof(*res));
    err[0] = '\0';
    return openai_take_image(body, len, res, err);
}

static void
expect_take_fails(const char *text, const char *needle)
{
    struct openai_result res;
    char err[ERR_LEN];

    if (take(text, &res, err) != ERR_FAIL)
        fail_msg("accepted: %.200s", text);
    assert_null(res.image);
    expect_substr(err, needle);
}

static void
test_take_good(void **state)
{
    unsigned char *png = fake_png(1000);
    char *enc = b64(png, 1000), *slashed, *text;
    struct openai_result res;
    char err[ERR_LEN];
    size_t len;
    /* the answer's shape, plus a decoy "b64_json" inside another string */
    const char *shapes[][2] = {
        {"{\"created\":1764720000,\"data\":[{\"b64_json\":\"",
         "\"}],\"background\":\"opaque\",\"output_format\":\"png\","
         "\"quality\":\"high\",\"size\":\"1024x1536\",\"usage\":{"
         "\"input_tokens\":50,\"input_tokens_details\":{\"text_tokens\":50,"
         "\"image_tokens\":0},\"output_tokens\":4160,\"total_tokens\":4210}}"},
        {"{\"note\":\"say \\\"b64_json\\\": \\\"AAAA\\\"\",\"data\":[{"
         "\"revised\":\"b64_json\" , \"b64_json\" :\n \"",
         "\" , \"x\":1}],\"usage\":{\"input_tokens\":50,"
         "\"output_tokens\":4160,\"total_tokens\":4210}}"},
    };

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        text = body_with(shapes[i][0], enc, shapes[i][1], &len);
        assert_int_equal(take(text, &res, err), 0);
        assert_int_equal(res.image_len, 1000);
        assert_memory_equal(res.image, png, 1000);
        assert_int_equal(res.info.type, IMAGE_PNG);
        assert_string_equal(res.info.extension, "png");
        assert_int_equal(res.info.width, 1024);
        assert_int_equal(res.info.height, 768);
        assert_int_equal(res.usage.input_tokens, 50);
        assert_int_equal(res.usage.output_tokens, 4160);
        assert_int_equal(res.usage.total_tokens, 4210);
        free(res.image);
        free(text);
    }
    /* '/' written as "\/", and no usage object */
    slashed = malloc(2 * strlen(enc) + 1);
    len = 0;
    for (const char *p = enc; *p != '\0'; p++) {
        if (*p == '/')
            slashed[len++] = '\\';
        slashed[len++] = *p;
    }
    slashed[len] = '\0';
    assert_true(strchr(enc, '/') != NULL);
    text = body_with("{\"data\":[{\"b64_json\":\"", slashed, "\"}]}", &len);
    assert_int_equal(take(text, &res, err), 0);
    assert_int_equal(res.image_len, 1000);
    assert_memory_equal(res.image, png, 1000);
    assert_int_equal(res.usage.output_tokens, -1);
    free(res.image);
    free(text);
    free(slashed);
    free(enc);
    free(png);
}

static void
test_take_missing(void **state)
{
    (void)state;
    expect_take_fails("{\"created\":1,\"data\":[]}", "no data[0].b64_json");
    expect_take_fails("{\"created\":1}", "no data[0].b64_json");
    expect_take_fails("{\"data\":[{\"url\":\"https://x/y.png\"}]}",
                      "no data[0].b64_json");
    expect_take_fails("{\"data\":[{\"b64_json\":null}]}",
                      "no data[0].b64_json");
    /* a b64_json that is not data[0]'s */
    expect_take_fails("{\"b64_json\":\"iVBORw0KGgo=\",\"data\":[{\"url\":"
                      "\"u\"}]}",
                      "no data[0].b64_json");
    expect_take_fails("{\"data\":[{\"url\":\"u\"},{\"b64_json\":"
                      "\"iVBORw0KGgo=\"}]}",
                      "no data[0].b64_json");
    /* a key spelled with an escape is not searched for */
    expect_take_fails("{\"data\":[{\"b64\\u005fjson\":\"\"}]}",
                      "no readable data[0].b64_json");
    expect_take_fails("not json at all", "not JSON");
    expect_take_fails("{\"data\":[{\"b64_json\":\"iVBORw0KGgo=\"}", "not JSON");
    expect_take_fails("{\"data\":[{\"b64_json\":\"iVBORw0KGgo=", "not JSON");
    expect_take_fails("", "not JSON");
}

static void
test_take_bad_base64(void **state)
{
    (void)state;
    expect_take_fails("{\"data\":[{\"b64_json\":\"iVBOR*0KGgo=\"}]}",
                      "invalid base64 character at offset 5");
    expect_take_fails("{\"data\":[{\"b64_json\":\"iVB=ORw0KGgo\"}]}",
                      "invalid base64");
    expect_take_fails("{\"data\":[{\"b64_json\":\"iVBORw0KG\"}]}",
                      "impossible length");
    expect_take_fails("{\"data\":[{\"b64_json\":\"iVBO\\nRw0K\"}]}",
                      "JSON escape");
    expect_take_fails("{\"data\":[{\"b64_json\":\"data:image/png;base64,"
                      "iVBORw0KGgo=\"}]}",
                      "invalid base64");
}

static void
test_take_not_image(void **state)
{
    char *enc = b64((const unsigned char *)"GIF89a-not-ours", 15);
    char *text;
    size_t len;

    (void)state;
    text = body_with("{\"data\":[{\"b64_json\":\"", enc, "\"}]}", &len);
    expect_take_fails(text, "not a usable image: not a PNG, JPEG or WebP");
    free(text);
    expect_take_fails("{\"data\":[{\"b64_json\":\"\"}]}",
                      "not a usable image: empty image");
    /* a PNG cut short in transit or by the server */
    expect_take_fails("{\"data\":[{\"b64_json\":\"iVBORw0KGgo=\"}]}", "IHDR");
    free(enc);
}

/* 5 MiB passes, one byte more is refused with a way out. */
static void
test_take_size_limit(void **state)
{
    const size_t sizes[] = {OPENAI_MAX_IMAGE_BYTES, OPENAI_MAX_IMAGE_BYTES + 1};
    struct openai_result res;
    char err[ERR_LEN];

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        unsigned char *png = fake_png(sizes[i]);
        char *enc = b64(png, sizes[i]), *text;
        size_t len;
        int rc;

        text = body_with("{\"data\":[{\"b64_json\":\"", enc, "\"}]}", &len);
        free(enc);
        assert_true(len <= OPENAI_MAX_RESPONSE);
        rc = take(text, &res, err);
        free(text);
        if (i == 0) {
            assert_int_equal(rc, 0);
            assert_int_equal(res.image_len, sizes[i]);
            assert_memory_equal(res.image, png, sizes[i]);
            free(res.image);
        } else {
            assert_int_equal(rc, ERR_FAIL);
            assert_null(res.image);
            expect_substr(err, "over X's limit");
            expect_substr(err, "output_format=jpeg or webp");
        }
        free(png);
    }
}

static void
test_take_result_image(void **state)
{
    struct openai_result res = {0};
    unsigned char *img;
    size_t len = 99;

    (void)state;
    assert_null(openai_result_take_image(NULL, &len));
    assert_null(openai_result_take_image(&res, &len));
    assert_int_equal(len, 99);
    res.image = img = malloc(3);
    res.image_len = 3;
    assert_ptr_equal(openai_result_take_image(&res, &len), img);
    free(img);
    assert_int_equal(len, 3);
    assert_null(res.image);
    assert_null(openai_result_take_image(&res, &len));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_opts),
        cmocka_unit_test(test_check_prompt),
        cmocka_unit_test(test_body_combinations),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_classify_refusals),
        cmocka_unit_test(test_classify_account),
        cmocka_unit_test(test_classify_transient),
        cmocka_unit_test(test_classify_should_retry),
        cmocka_unit_test(test_classify_transport),
        cmocka_unit_test(test_b64_vectors),
        cmocka_unit_test(test_b64_errors),
        cmocka_unit_test(test_b64_bad_offsets),
        cmocka_unit_test(test_b64_roundtrip),
        cmocka_unit_test(test_take_good),
        cmocka_unit_test(test_take_missing),
        cmocka_unit_test(test_take_bad_base64),
        cmocka_unit_test(test_take_not_image),
        cmocka_unit_test(test_take_size_limit),
        cmocka_unit_test(test_take_result_image),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
