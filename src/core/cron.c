/*
 * cron.c: parses cron expressions (5 fields, or 6 with leading seconds)
 * and finds the next or previous slot in an IANA zone.  It walks the
 * zone's spans of constant UTC offset (tz.c) and searches each span's
 * wall-clock range field by field, so work grows with days, not seconds.
 * No @daily-style macros and no Quartz extensions (?, L, W, #).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cron.h"
#include "core/mem.h"
#include "core/tz.h"

#define DAY_SECS 86400
/* How far cron_next() and cron_prev() look: five years and leap days. */
#define CRON_HORIZON ((int64_t)(5 * 365 + 2) * DAY_SECS)

struct cron {
    uint64_t sec, min; /* bit n set: value n matches */
    uint64_t hour, dom, month, dow;
    /* Vixie cron: a day field whose text starts with '*' leaves the
     * choice of day to the other field; two restricted fields are ORed. */
    bool dom_star, dow_star;
};

struct cron_field {
    const char *name;
    int lo, hi;
    const char *const *names; /* three-letter names, value lo first */
};

static const char *const cron_months[] = {"jan", "feb", "mar", "apr",
                                          "may", "jun", "jul", "aug",
                                          "sep", "oct", "nov", "dec",
                                          NULL};
static const char *const cron_days[] = {"sun", "mon", "tue", "wed",
                                        "thu", "fri", "sat", NULL};

/* In 6-field order; a 5-field expression starts at minute. */
static const struct cron_field cron_fields[6] = {
    {"second", 0, 59, NULL},      {"minute", 0, 59, NULL},
    {"hour", 0, 23, NULL},        {"day-of-month", 1, 31, NULL},
    {"month", 1, 12, cron_months}, {"day-of-week", 0, 7, cron_days},
};

/* Where the parser is: the whole expression, for columns, and err. */
struct cron_parser {
    const char *expr;
    char *err;
};

static int
cron_perr(const struct cron_parser *ps, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
cron_perr(const struct cron_parser *ps, const char *at, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(ps->err, ERR_LEN, "column %d: ",
                     (int)(at - ps->expr) + 1);

    va_start(ap, fmt);
    vsnprintf(ps->err + n, ERR_LEN - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* Text s..end fit to quote: printable ASCII, at most 20 characters. */
static const char *
cron_quote(const char *s, const char *end, char out[24])
{
    size_t i;

    for (i = 0; s + i < end && i < 20; i++)
        out[i] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
    strcpy(out + i, s + i < end ? "..." : "");
    return out;
}

static bool
cron_same_name(const char *s, size_t n, const char *name)
{
    if (n != 3)
        return false;
    for (size_t i = 0; i < 3; i++)
        if ((s[i] | 0x20) != name[i])
            return false;
    return true;
}

/* A number or a name at *pp, in [f->lo, f->hi]; advances *pp. */
static int
cron_value(const struct cron_parser *ps, const struct cron_field *f,
           const char **pp, const char *end, int *out)
{
    const char *s = *pp, *p = s;
    char q[24];
    long v = 0;

    while (p < end && *p >= '0' && *p <= '9') {
        v = v < 100000 ? v * 10 + (*p - '0') : v;
        p++;
    }
    if (p > s) {
        if (v < f->lo || v > f->hi)
            return cron_perr(ps, s, "%s %s out of range %d-%d", f->name,
                             cron_quote(s, p, q), f->lo, f->hi);
        *out = (int)v;
        *pp = p;
        return 0;
    }
    while (p < end && ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))
        p++;
    for (int i = 0; f->names && p > s && f->names[i]; i++)
        if (cron_same_name(s, (size_t)(p - s), f->names[i])) {
            *out = f->lo + i;
            *pp = p;
            return 0;
        }
    if (p > s && f->names)
        return cron_perr(ps, s, "unknown %s name '%s'", f->name,
                         cron_quote(s, p, q));
    return cron_perr(ps, s, "bad %s '%s'", f->name,
                     cron_quote(s, p > s ? p : end, q));
}

/* The step after '/' at s: 1 up to the width of the range. */
static int
cron_step(const struct cron_parser *ps, const char *s, const char *end,
          int span, int *out)
{
    const char *p = s;
    char q[24];
    long v = 0;

    while (p < end && *p >= '0' && *p <= '9') {
        v = v < 100000 ? v * 10 + (*p - '0') : v;
        p++;
    }
    if (p == s || p != end || v < 1 || v > span)
        return cron_perr(ps, s, "bad step '%s'", cron_quote(s, end, q));
    *out = (int)v;
    return 0;
}

/* One list item: "*", "n", "a-b", each with an optional "/step"; "n/step"
 * runs from n to the field's maximum (as cronie reads it). */
static int
cron_item(const struct cron_parser *ps, const struct cron_field *f,
          const char *s, const char *end, uint64_t *bits)
{
    const char *p = s;
    int lo = f->lo, hi = f->hi, step = 1;
    char q[24];

    if (*p == '*') {
        p++;
    } else {
        if (cron_value(ps, f, &p, end, &lo) < 0)
            return -1;
        hi = p < end && *p == '/' ? f->hi : lo;
        if (p < end && *p == '-') {
            p++;
            if (cron_value(ps, f, &p, end, &hi) < 0)
                return -1;
            /* "fri-sun": Sunday as the end of a range is day 7. */
            if (f->names == cron_days && hi == 0 && lo > 0)
                hi = 7;
            if (hi < lo)
                return cron_perr(ps, s, "%s range %s is reversed", f->name,
                                 cron_quote(s, p, q));
        }
    }
    if (p < end && *p == '/' &&
        cron_step(ps, p + 1, end, f->hi - f->lo + 1, &step) < 0)
        return -1;
    if (p < end && *p == '/')
        p = end;
    if (p != end)
        return cron_perr(ps, s, "bad %s '%s'", f->name,
                         cron_quote(s, end, q));
    for (int v = lo; v <= hi; v += step)
        *bits |= (uint64_t)1 << (f->names == cron_days ? v % 7 : v);
    return 0;
}

/* A comma-separated list of items making up one field. */
static int
cron_field_parse(const struct cron_parser *ps, const struct cron_field *f,
                 const char *s, const char *end, uint64_t *bits)
{
    const char *item = s, *comma;

    *bits = 0;
    for (;;) {
        comma = memchr(item, ',', (size_t)(end - item));
        if ((comma ? comma : end) == item)
            return cron_perr(ps, item, "empty item in %s list", f->name);
        if (cron_item(ps, f, item, comma ? comma : end, bits) < 0)
            return -1;
        if (comma == NULL)
            return 0;
        item = comma + 1;
    }
}

static bool
cron_space(char c)
{
    /* Line ends too, for expressions read straight from a file. */
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Splits expr at blanks into at most 6 fields; returns the field count
 * (more than 6 is reported as 7 or more). */
static int
cron_split(const char *expr, const char *start[7], const char *end[7])
{
    const char *p = expr;
    int n = 0;

    for (;;) {
        while (cron_space(*p))
            p++;
        if (*p == '\0')
            return n;
        if (n < 7)
            start[n] = p;
        while (*p && !cron_space(*p))
            p++;
        if (n < 7)
            end[n] = p;
        n++;
    }
}

struct cron *
cron_parse(const char *expr, char err[ERR_LEN])
{
    struct cron_parser ps = {expr, err};
    const char *start[7], *end[7];
    uint64_t *dest[6];
    struct cron *c;
    int n, skip;

    if (expr == NULL)
        expr = ps.expr = "";
    n = cron_split(expr, start, end);
    if (n != 5 && n != 6) {
        snprintf(err, ERR_LEN, "expected 5 or 6 fields, got %d", n);
        return NULL;
    }
    c = mem_calloc(1, sizeof(*c));
    dest[0] = &c->sec;
    dest[1] = &c->min;
    dest[2] = &c->hour;
    dest[3] = &c->dom;
    dest[4] = &c->month;
    dest[5] = &c->dow;
    c->sec = 1; /* a 5-field expression fires at second 0 */
    skip = 6 - n;
    for (int i = 0; i < n; i++)
        if (cron_field_parse(&ps, &cron_fields[i + skip], start[i], end[i],
                             dest[i + skip]) < 0) {
            cron_free(c);
            return NULL;
        }
    c->dom_star = *start[3 - skip] == '*';
    c->dow_star = *start[5 - skip] == '*';
    return c;
}

void
cron_free(struct cron *c)
{
    free(c);
}

/* ---- Searching wall-clock time ---- */

/* A wall-clock time, fields kept in range by the step functions. */
struct civil {
    int64_t y;
    int mo, d, h, mi, s;
};

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void
civil_set(struct civil *t, int64_t wall)
{
    int64_t days = floor_div(wall, DAY_SECS), secs = wall - days * DAY_SECS;

    tz_civil_from_days(days, &t->y, &t->mo, &t->d);
    t->h = (int)(secs / 3600);
    t->mi = (int)(secs / 60 % 60);
    t->s = (int)(secs % 60);
}

static int64_t
civil_wall(const struct civil *t)
{
    return tz_days_from_civil(t->y, t->mo, t->d) * DAY_SECS + t->h * 3600 +
           t->mi * 60 + t->s;
}

static void
civil_time(struct civil *t, int h, int mi, int s)
{
    t->h = h;
    t->mi = mi;
    t->s = s;
}

/* Forward steps land on the first second of the next unit. */
static void
civil_next_month(struct civil *t)
{
    if (++t->mo > 12) {
        t->mo = 1;
        t->y++;
    }
    t->d = 1;
    civil_time(t, 0, 0, 0);
}

static void
civil_next_day(struct civil *t)
{
    if (++t->d > tz_days_in_month(t->y, t->mo))
        civil_next_month(t);
    civil_time(t, 0, 0, 0);
}

static void
civil_next_hour(struct civil *t)
{
    if (++t->h > 23)
        civil_next_day(t);
    else
        civil_time(t, t->h, 0, 0);
}

static void
civil_next_minute(struct civil *t)
{
    if (++t->mi > 59)
        civil_next_hour(t);
    else
        t->s = 0;
}

/* Backward steps land on the last second of the previous unit. */
static void
civil_prev_month(struct civil *t)
{
    if (--t->mo < 1) {
        t->mo = 12;
        t->y--;
    }
    t->d = tz_days_in_month(t->y, t->mo);
    civil_time(t, 23, 59, 59);
}

static void
civil_prev_day(struct civil *t)
{
    if (--t->d < 1)
        civil_prev_month(t);
    civil_time(t, 23, 59, 59);
}

static void
civil_prev_hour(struct civil *t)
{
    if (--t->h < 0)
        civil_prev_day(t);
    else
        civil_time(t, t->h, 59, 59);
}

static void
civil_prev_minute(struct civil *t)
{
    if (--t->mi < 0)
        civil_prev_hour(t);
    else
        t->s = 59;
}

/* Smallest set bit >= from, or -1. */
static int
bit_next(uint64_t bits, int from)
{
    uint64_t m = bits >> from;

    return m ? from + __builtin_ctzll(m) : -1;
}

/* Largest set bit <= from, or -1. */
static int
bit_prev(uint64_t bits, int from)
{
    uint64_t m = from >= 63 ? bits : bits & (((uint64_t)2 << from) - 1);

    return m ? 63 - __builtin_clzll(m) : -1;
}

static bool
cron_day_ok(const struct cron *c, const struct civil *t)
{
    int wd = tz_weekday(tz_days_from_civil(t->y, t->mo, t->d));
    bool dom = c->dom >> t->d & 1, dow = c->dow >> wd & 1;

    if (!(c->month >> t->mo & 1))
        return false;
    return c->dom_star || c->dow_star ? dom && dow : dom || dow;
}

/* Smallest matching wall time in [lo, hi]; 0, or -1 if none. */
static int
cron_match_next(const struct cron *c, int64_t lo, int64_t hi, int64_t *out)
{
    struct civil t;
    int v;

    civil_set(&t, lo);
    while (civil_wall(&t) <= hi) {
        if (!(c->month >> t.mo & 1)) {
            civil_next_month(&t);
        } else if (!cron_day_ok(c, &t) || (v = bit_next(c->hour, t.h)) < 0) {
            civil_next_day(&t);
        } else if (v != t.h) {
            civil_time(&t, v, 0, 0);
        } else if ((v = bit_next(c->min, t.mi)) < 0) {
            civil_next_hour(&t);
        } else if (v != t.mi) {
            civil_time(&t, t.h, v, 0);
        } else if ((v = bit_next(c->sec, t.s)) < 0) {
            civil_next_minute(&t);
        } else {
            t.s = v;
            *out = civil_wall(&t);
            return *out <= hi ? 0 : -1;
        }
    }
    return -1;
}

/* Largest matching wall time in [lo, hi]; 0, or -1 if none. */
static int
cron_match_prev(const struct cron *c, int64_t lo, int64_t hi, int64_t *out)
{
    struct civil t;
    int v;

    civil_set(&t, hi);
    while (civil_wall(&t) >= lo) {
        if (!(c->month >> t.mo & 1)) {
            civil_prev_month(&t);
        } else if (!cron_day_ok(c, &t) || (v = bit_prev(c->hour, t.h)) < 0) {
            civil_prev_day(&t);
        } else if (v != t.h) {
            civil_time(&t, v, 59, 59);
        } else if ((v = bit_prev(c->min, t.mi)) < 0) {
            civil_prev_hour(&t);
        } else if (v != t.mi) {
            civil_time(&t, t.h, v, 59);
        } else if ((v = bit_prev(c->sec, t.s)) < 0) {
            civil_prev_minute(&t);
        } else {
            t.s = v;
            *out = civil_wall(&t);
            return *out >= lo ? 0 : -1;
        }
    }
    return -1;
}

/* ---- Slots in a zone ---- */

/* Every wall time below the returned value has already been shown by a
 * clock in zone z before instant start (or was skipped by a gap).  Looks
 * two days back, more than any offset change in the tz database. */
static int64_t
cron_high_water(const struct tz_zone *z, int64_t start)
{
    struct tz_span p;
    int64_t hw = TZ_SPAN_MIN, t = start;

    for (int i = 0; i < 16 && t != TZ_SPAN_MIN && t > start - 2 * DAY_SECS;
         i++) {
        tz_zone_span(z, t - 1, &p);
        if (p.end + p.utoff > hw)
            hw = p.end + p.utoff;
        t = p.start;
    }
    return hw;
}

/* Whether span sp opens with a gap (wall times hw up to its first wall
 * time never shown) that holds a slot: such slots fire at sp->start. */
static bool
cron_gap_fires(const struct cron *c, const struct tz_span *sp, int64_t hw)
{
    int64_t wall;

    return sp->start != TZ_SPAN_MIN && sp->start + sp->utoff > hw &&
           cron_match_next(c, hw, sp->start + sp->utoff - 1, &wall) == 0;
}

/* Spans forward from after + 1.  In each span a wall time w is the
 * instant w - utoff, unless w is below the high-water mark: then it has
 * been shown before (a repeated hour), and only its first showing fires. */
int
cron_next(const struct cron *c, const char *tz, time_t after, time_t *next)
{
    char err[ERR_LEN];
    const struct tz_zone *z;
    struct tz_span sp;
    int64_t cur, limit, hw, lo, hi, wall;

    if (c == NULL || next == NULL || after < -TZ_TIME_LIMIT ||
        after > TZ_TIME_LIMIT || (z = tz_zone_get(tz, err)) == NULL)
        return ERR_FAIL;
    cur = (int64_t)after + 1;
    limit = cur + CRON_HORIZON;
    tz_zone_span(z, cur, &sp);
    hw = cron_high_water(z, sp.start);
    for (;;) {
        if (cur == sp.start && cron_gap_fires(c, &sp, hw)) {
            *next = (time_t)sp.start;
            return 0;
        }
        lo = cur + sp.utoff > hw ? cur + sp.utoff : hw;
        hi = (sp.end < limit ? sp.end : limit) + sp.utoff - 1;
        if (lo <= hi && cron_match_next(c, lo, hi, &wall) == 0) {
            *next = (time_t)(wall - sp.utoff);
            return 0;
        }
        if (sp.end >= limit)
            return ERR_FAIL;
        if (sp.end + sp.utoff > hw)
            hw = sp.end + sp.utoff;
        cur = sp.end;
        tz_zone_span(z, cur, &sp);
    }
}

/* The same walk backwards from at: within a span the latest wall time
 * not below the high-water mark, else a gap slot at the span's start. */
int
cron_prev(const struct cron *c, const char *tz, time_t at, time_t *prev)
{
    char err[ERR_LEN];
    const struct tz_zone *z;
    struct tz_span sp;
    int64_t cur, limit, hw, lo, wall;

    if (c == NULL || prev == NULL || at < -TZ_TIME_LIMIT ||
        at > TZ_TIME_LIMIT || (z = tz_zone_get(tz, err)) == NULL)
        return ERR_FAIL;
    cur = (int64_t)at;
    limit = cur - CRON_HORIZON;
    tz_zone_span(z, cur, &sp);
    for (;;) {
        hw = cron_high_water(z, sp.start);
        lo = (sp.start > limit ? sp.start : limit) + sp.utoff;
        if (lo < hw)
            lo = hw;
        if (lo <= cur + sp.utoff &&
            cron_match_prev(c, lo, cur + sp.utoff, &wall) == 0) {
            *prev = (time_t)(wall - sp.utoff);
            return 0;
        }
        if (sp.start <= limit)
            return ERR_FAIL;
        if (cron_gap_fires(c, &sp, hw)) {
            *prev = (time_t)sp.start;
            return 0;
        }
        cur = sp.start - 1;
        tz_zone_span(z, cur, &sp);
    }
}
