/*
 * template.c: checks and expands the {day}, {hashtag} and {date}
 * placeholders of caption, prompt and alt-text templates, and makes the
 * slug used in hashtags and job ids.  Knows nothing of X's or OpenAI's
 * length limits; relies only on core/buf for its output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/template.h"

/* Longest placeholder text an error message quotes before cutting it. */
#define SHOW_MAX 32

enum placeholder { PH_DAY, PH_HASHTAG, PH_DATE, PH_COUNT };

static const char *const ph_names[PH_COUNT] = {"day", "hashtag", "date"};

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0.  Stops at a NUL, so
 * it never reads past the end of a C string. */
static size_t
utf8_seq_len(const unsigned char *s)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n, i;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        n = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        n = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        n = 4;
    else
        return 0;
    if (s[0] == 0xE0)
        lo = 0xA0;
    else if (s[0] == 0xED)
        hi = 0x9F;
    else if (s[0] == 0xF0)
        lo = 0x90;
    else if (s[0] == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* 1-based column of byte offset off, counting code points. */
static size_t
column_at(const char *s, size_t off)
{
    size_t col = 1;

    for (size_t i = 0; i < off; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            col++;
    return col;
}

/* The placeholder "{name}" starting at p, or PH_COUNT; *len gets its
 * length in bytes. */
static enum placeholder
placeholder_at(const char *p, size_t *len)
{
    for (int i = 0; i < PH_COUNT; i++) {
        size_t n = strlen(ph_names[i]);

        if (strncmp(p + 1, ph_names[i], n) == 0 && p[1 + n] == '}') {
            *len = n + 2;
            return (enum placeholder)i;
        }
    }
    return PH_COUNT;
}

static int
check_utf8(const char *tmpl, char err[ERR_LEN])
{
    size_t i = 0, n;

    while (tmpl[i] != '\0') {
        n = utf8_seq_len((const unsigned char *)tmpl + i);
        if (n == 0) {
            snprintf(err, ERR_LEN, "column %zu: invalid UTF-8",
                     column_at(tmpl, i));
            return ERR_FAIL;
        }
        i += n;
    }
    return 0;
}

/* Error for the unknown placeholder p[0..len), which ends with '}'.  Long
 * names are cut at a character boundary so the message stays readable. */
static int
unknown_placeholder(const char *tmpl, const char *p, size_t len,
                    char err[ERR_LEN])
{
    size_t show = len - 2;
    const char *more = "";

    if (show > SHOW_MAX) {
        show = SHOW_MAX;
        while (show > 0 && ((unsigned char)p[1 + show] & 0xC0) == 0x80)
            show--;
        more = "...";
    }
    snprintf(err, ERR_LEN, "column %zu: unknown placeholder {%.*s%s}",
             column_at(tmpl, (size_t)(p - tmpl)), (int)show, p + 1, more);
    return ERR_FAIL;
}

int
template_check(const char *tmpl, char err[ERR_LEN])
{
    const char *p, *end;
    size_t len;

    if (tmpl == NULL) {
        snprintf(err, ERR_LEN, "no template");
        return ERR_FAIL;
    }
    if (check_utf8(tmpl, err) != 0)
        return ERR_FAIL;
    for (p = tmpl; *p != '\0'; p++) {
        if ((*p == '{' || *p == '}') && p[1] == *p) {
            p++;
            continue;
        }
        if (*p == '}') {
            snprintf(err, ERR_LEN, "column %zu: stray } (write }} for a "
                     "literal brace)", column_at(tmpl, (size_t)(p - tmpl)));
            return ERR_FAIL;
        }
        if (*p != '{')
            continue;
        end = strpbrk(p + 1, "{}");
        if (end == NULL || *end == '{') {
            snprintf(err, ERR_LEN, "column %zu: unclosed { (write {{ for a "
                     "literal brace)", column_at(tmpl, (size_t)(p - tmpl)));
            return ERR_FAIL;
        }
        len = (size_t)(end - p) + 1;
        if (placeholder_at(p, &len) == PH_COUNT)
            return unknown_placeholder(tmpl, p, len, err);
        p += len - 1;
    }
    return 0;
}

static void
append_hashtag(struct buf *out, const char *day)
{
    char *slug = template_slug(day);

    buf_appends(out, "#National");
    buf_appends(out, slug);
    buf_appends(out, "Day");
    free(slug);
}

static void
append_value(struct buf *out, enum placeholder ph,
             const struct template_vars *v)
{
    switch (ph) {
    case PH_DAY:
        buf_appends(out, v->day != NULL ? v->day : "");
        break;
    case PH_HASHTAG:
        append_hashtag(out, v->day);
        break;
    case PH_DATE:
        buf_appends(out, v->date != NULL ? v->date : "");
        break;
    case PH_COUNT:
        break;
    }
}

char *
template_expand(const char *tmpl, const struct template_vars *v)
{
    struct buf out;
    enum placeholder ph;
    size_t len;

    buf_init(&out);
    for (const char *p = tmpl; p != NULL && *p != '\0';) {
        if ((*p == '{' || *p == '}') && p[1] == *p) {
            buf_appendc(&out, *p);
            p += 2;
        } else if (*p == '{' && (ph = placeholder_at(p, &len)) != PH_COUNT) {
            append_value(&out, ph, v);
            p += len;
        } else {
            buf_appendc(&out, *p++);
        }
    }
    return buf_steal(&out);
}

/* XXX: non-ASCII punctuation and spaces (U+2019 in "Don’t", an em dash,
 * a no-break space) are kept like letters, as the rule says, so such a
 * name makes a hashtag that X cuts short at that character; keep
 * calendar names to ASCII punctuation until the slug knows Unicode
 * character classes. */
char *
template_slug(const char *day)
{
    struct buf out;
    const unsigned char *p = (const unsigned char *)day;
    size_t n;

    buf_init(&out);
    while (p != NULL && *p != '\0') {
        n = utf8_seq_len(p);
        if (n == 0) {
            p++; /* not UTF-8: drop the byte, resync on the next */
            continue;
        }
        if (n > 1 || (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= 'a' && *p <= 'z'))
            buf_append(&out, p, n);
        p += n;
    }
    return buf_steal(&out);
}
