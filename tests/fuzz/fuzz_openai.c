/*
 * libFuzzer target: the OpenAI response parsers, reached by including
 * openai.c as its unit test does.  The input is taken as a 200 body
 * (openai_take_image: b64_json located in place, unescaped, decoded and
 * sniffed) and as an error body under several statuses
 * (openai_classify).  Checks: an image comes back only on success, is no
 * larger than the text it came from and has a type and a size; a
 * verdict always has a message, and a retry only with ERR_RETRY; a
 * refused or quota-exhausted prompt is never retried; a 401's message
 * never quotes what looks like a key.
 */
#include "openai/openai.c"

#include "fuzz.h"

static void
check_image(const uint8_t *data, size_t size)
{
    struct openai_result res;
    char err[ERR_LEN];
    char *body = fuzz_strndup(data, size);
    int rc;

    memset(&res, 0, sizeof(res));
    fuzz_err_poison(err);
    rc = openai_take_image(body, size, &res, err); /* consumes body */
    if (rc == 0) {
        FUZZ_CHECK(res.image != NULL && res.image_len > 0);
        FUZZ_CHECK(res.image_len <= size &&
                   res.image_len <= OPENAI_MAX_IMAGE_BYTES);
        FUZZ_CHECK(res.info.type != IMAGE_UNKNOWN);
        FUZZ_CHECK(res.info.width > 0 && res.info.height > 0);
        free(res.image);
    } else {
        FUZZ_CHECK(rc == ERR_FAIL && fuzz_err_set(err));
        FUZZ_CHECK(res.image == NULL);
    }
}

static void
check_verdict(const uint8_t *data, size_t size, long status,
              const char *should_retry)
{
    struct openai_attempt a = {
        .curl_code = CURLE_OK,
        .status = status,
        .body = (const char *)data,
        .body_len = size,
        .should_retry = should_retry,
        .timeout_ms = 300000,
        .key_ref = "env:OPENAI_API_KEY",
    };
    struct openai_verdict v;

    memset(&v, 'V', sizeof(v));
    openai_classify(&a, &v);
    FUZZ_CHECK(fuzz_clean_str(v.error, sizeof(v.error)) && v.error[0]);
    FUZZ_CHECK(v.rc == ERR_RETRY || v.rc == ERR_FAIL);
    FUZZ_CHECK(v.retry == RETRY_NO || v.rc == ERR_RETRY);
    if (v.refused || v.quota_exhausted)
        FUZZ_CHECK(v.rc == ERR_FAIL && v.retry == RETRY_NO);
    /* A 401's message may repeat the key: it is never quoted, whatever
     * code the body claims. */
    if (status == 401)
        FUZZ_CHECK(strstr(v.error, "sk-") == NULL && !v.refused &&
                   !v.quota_exhausted);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {400, 401, 404, 429, 500};
    static const char *const retry_hdr[] = {NULL, "true", "false"};

    check_image(data, size);
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        check_verdict(data, size, statuses[i], retry_hdr[i % 3]);
    return 0;
}
