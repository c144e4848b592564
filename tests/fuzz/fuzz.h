/*
 * Helpers shared by the libFuzzer targets in tests/fuzz: a NUL-terminated
 * copy of the input, and checks that abort (so libFuzzer saves the input)
 * with a line saying which invariant broke.  Not a test framework.
 */
#ifndef SPOOKYD_TESTS_FUZZ_FUZZ_H
#define SPOOKYD_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort with the failed condition: libFuzzer reports it as a crash. */
#define FUZZ_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* A malloc'd copy of data with a NUL after it (embedded NULs stay, so a
 * C-string parser sees only the text before the first one). */
static inline char *
fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL)
        abort();
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Fill err with non-NUL bytes so an error path that forgets to terminate
 * it is caught by fuzz_err_set(). */
static inline void
fuzz_err_poison(char err[ERR_LEN])
{
    memset(err, 'E', ERR_LEN);
}

/* An error message was written: NUL-terminated inside ERR_LEN and not
 * empty. */
static inline int
fuzz_err_set(const char err[ERR_LEN])
{
    return memchr(err, '\0', ERR_LEN) != NULL && err[0] != '\0';
}

/* s is NUL-terminated within n bytes and holds no control character. */
static inline int
fuzz_clean_str(const char *s, size_t n)
{
    const char *nul = memchr(s, '\0', n);

    if (nul == NULL)
        return 0;
    for (const char *p = s; p < nul; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* 1 when s[0..n) is valid UTF-8 (no overlongs, surrogates or values past
 * U+10FFFF); written here so the checks do not trust the code under test. */
static inline int
fuzz_utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i], len, cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            len = 4, cp = c & 0x07;
        else
            return 0;
        if (i + len > n)
            return 0;
        for (unsigned k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        i += len;
    }
    return 1;
}

#endif
