/*
 * libFuzzer target: xtext_weighted_length() and xtext_check() on
 * arbitrary bytes (up to the first NUL).  Checks: the count succeeds
 * exactly on valid UTF-8; it is 0 only for empty text; text without a
 * '.' holds no URL, so it weighs at most 2 per code point; xtext_check()
 * accepts only what counts at most XTEXT_MAX_WEIGHTED, and refuses with a
 * message.
 */
#include <string.h>

#include "fuzz.h"
#include "x/xtext.h"

static size_t
code_points(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    size_t n = strlen(s), len = 0, cp;
    int valid = fuzz_utf8_ok((const unsigned char *)s, n);
    char err[ERR_LEN];
    int rc;

    fuzz_err_poison(err);
    rc = xtext_weighted_length(s, &len, err);
    FUZZ_CHECK((rc == 0) == valid);
    if (rc != 0) {
        FUZZ_CHECK(fuzz_err_set(err));
        FUZZ_CHECK(xtext_check(s, err) != 0);
        free(s);
        return 0;
    }
    cp = code_points(s);
    FUZZ_CHECK((len == 0) == (cp == 0));
    if (strchr(s, '.') == NULL)
        FUZZ_CHECK(len <= 2 * cp);
    fuzz_err_poison(err);
    if (xtext_check(s, err) == 0)
        FUZZ_CHECK(len > 0 && len <= XTEXT_MAX_WEIGHTED);
    else
        FUZZ_CHECK(fuzz_err_set(err));
    free(s);
    return 0;
}
