/*
 * libFuzzer target: awserr_parse() on S3 XML and JSON error bodies, with
 * no x-amzn-ErrorType and with the body's first line as one, and
 * awserr_crc32_check() with that line as the x-amz-crc32 header over the
 * rest.  Checks: parsed fields are NUL-terminated within their size and
 * free of control characters; the CRC of the rest, written in decimal,
 * passes the check; a CRC continued across a split equals the whole one;
 * a header that is not the CRC is refused with a message.
 */
#include <inttypes.h>
#include <string.h>

#include "aws/awserr.h"
#include "fuzz.h"

static void
check_fields(const struct awserr *e)
{
    FUZZ_CHECK(fuzz_clean_str(e->code, sizeof(e->code)));
    FUZZ_CHECK(fuzz_clean_str(e->message, sizeof(e->message)));
    FUZZ_CHECK(fuzz_clean_str(e->request_id, sizeof(e->request_id)));
    (void)awserr_is_skew(e->code, e->message);
    (void)awserr_is_expired_token(e->code);
    (void)awserr_is_condition(e->code);
}

static void
check_crc(const char *header, const uint8_t *body, size_t len)
{
    char err[ERR_LEN], want[16];
    uint32_t crc = awserr_crc32(0, body, len);
    size_t half = len / 2;
    int rc;

    FUZZ_CHECK(awserr_crc32(awserr_crc32(0, body, half), body + half,
                            len - half) == crc);
    snprintf(want, sizeof(want), "%" PRIu32, crc);
    FUZZ_CHECK(awserr_crc32_check(want, body, len, err) == 0);
    FUZZ_CHECK(awserr_crc32_check(NULL, body, len, err) == 0);
    fuzz_err_poison(err);
    rc = awserr_crc32_check(header, body, len, err);
    if (rc != 0) {
        FUZZ_CHECK(rc == ERR_RETRY && fuzz_err_set(err));
        FUZZ_CHECK(strcmp(header, want) != 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t line = nl != NULL ? (size_t)(nl - data) : size;
    char *first = fuzz_strndup(data, line);
    struct awserr e;

    memset(&e, 'A', sizeof(e));
    awserr_parse((const char *)data, size, NULL, &e);
    check_fields(&e);
    memset(&e, 'A', sizeof(e));
    awserr_parse((const char *)data, size, first, &e);
    check_fields(&e);
    awserr_set_request_id(&e, first);
    check_fields(&e);
    check_crc(first, nl != NULL ? nl + 1 : data + size,
              nl != NULL ? size - line - 1 : 0);
    free(first);
    return 0;
}
