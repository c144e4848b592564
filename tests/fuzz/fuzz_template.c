/*
 * libFuzzer target: template_check(), template_expand() and
 * template_slug().  Input: template, then optionally a NUL and the day
 * name.  Checks: invalid UTF-8 is always refused; a template passing the
 * check expands to valid UTF-8; any valid text with its braces doubled
 * passes and expands back to itself; expanding refused text does not
 * crash; a slug is valid UTF-8 without ASCII punctuation and is its own
 * slug.
 */
#include <ctype.h>
#include <string.h>

#include "core/buf.h"
#include "core/template.h"
#include "fuzz.h"

static void
check_slug(const char *day)
{
    char *slug = template_slug(day), *again;

    FUZZ_CHECK(slug != NULL);
    FUZZ_CHECK(fuzz_utf8_ok((const unsigned char *)slug, strlen(slug)));
    for (const char *p = slug; *p; p++)
        FUZZ_CHECK((unsigned char)*p >= 0x80 || isalnum((unsigned char)*p));
    again = template_slug(slug);
    FUZZ_CHECK(strcmp(again, slug) == 0);
    free(again);
    free(slug);
}

/* s with every brace doubled: a template that means s literally. */
static char *
escape_braces(const char *s)
{
    struct buf b;

    buf_init(&b);
    for (; *s; s++) {
        buf_appendc(&b, *s);
        if (*s == '{' || *s == '}')
            buf_appendc(&b, *s);
    }
    return buf_steal(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_strndup(data, size);
    size_t tlen = strlen(in);
    const char *day = tlen < size ? in + tlen + 1 : "Hat";
    struct template_vars v = {.day = day, .date = "2026-10-31"};
    int valid = fuzz_utf8_ok((const unsigned char *)in, tlen);
    int day_valid = fuzz_utf8_ok((const unsigned char *)day, strlen(day));
    char err[ERR_LEN], *out, *lit;

    fuzz_err_poison(err);
    if (template_check(in, err) == 0) {
        FUZZ_CHECK(valid);
        out = template_expand(in, &v);
        FUZZ_CHECK(out != NULL);
        if (day_valid)
            FUZZ_CHECK(fuzz_utf8_ok((const unsigned char *)out, strlen(out)));
        free(out);
    } else {
        FUZZ_CHECK(fuzz_err_set(err));
        free(template_expand(in, &v)); /* must not crash */
    }
    if (valid) {
        lit = escape_braces(in);
        FUZZ_CHECK(template_check(lit, err) == 0);
        out = template_expand(lit, &(struct template_vars){0});
        FUZZ_CHECK(strcmp(out, in) == 0);
        free(out);
        free(lit);
    }
    check_slug(in);
    check_slug(day);
    free(in);
    return 0;
}
