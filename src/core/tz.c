/*
 * tz.c: UTC <-> local time for named zones, read from TZif files (RFC
 * 8536, versions 1 to 4) including the POSIX TZ footer that governs
 * instants after the last listed transition.  Never reads or sets TZ and
 * never calls tzset().  Leap-second ("right/") files are refused.  The
 * cache of parsed zones is module state: use from one thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/tz.h"

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZ_FILE_MAX (256 * 1024)  /* real zone files are under 4 KiB */
#define TZ_COUNT_MAX 20000        /* per table; real files list < 2000 */
#define TZ_ABBR_MAX 15
#define TZ_NAME_MAX 255
#define TZ_FOOTER_MAX 255
#define TZ_CACHE_SLOTS 4
#define TZ_OFF_MAX (26 * 3600)    /* RFC 8536 bounds offsets to +-26h */
#define DAY_SECS 86400

struct tz_type {
    int32_t utoff;
    int isdst;
    uint32_t abbr; /* index into chars */
};

/* One end of a POSIX DST rule: kind 'J' (Jn, 1-365, Feb 29 never
 * counted), 'D' (n, 0-365) or 'M' (Mmon.week.wday), then secs, the local
 * time of day of the change, which may be negative or past 24h. */
struct tz_when {
    char kind;
    int mon, week, day;
    int32_t secs;
};

struct tz_rule {
    int has_dst;
    int32_t std_off, dst_off; /* seconds east of UTC */
    char std_abbr[TZ_ABBR_MAX + 1], dst_abbr[TZ_ABBR_MAX + 1];
    struct tz_when start, end;
};

struct tz_zone {
    int64_t *trans;
    uint8_t *idx;
    size_t ntrans;
    struct tz_type *types;
    size_t ntypes;
    char *chars;
    int has_rule;
    struct tz_rule rule;
};

struct tz_slot {
    char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    struct tz_zone *zone;
    unsigned long used;
};

static struct tz_slot tz_cache[TZ_CACHE_SLOTS];
static unsigned long tz_clock;

/* tm_zone must outlive any zone, so abbreviations are interned here.
 * The set of distinct abbreviations in the whole tz database fits. */
static char tz_abbr_pool[2048];
static size_t tz_abbr_used;

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
tz_days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

int
tz_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday. */
    return (int)((days % 7 + 7 + 4) % 7);
}

/* The year is taken to start on March 1, so a leap day is the last day
 * of its year and months follow a fixed 153-days-per-5-months pattern;
 * 400 Gregorian years are exactly 146097 days. */
int64_t
tz_days_from_civil(int64_t y, int m, int d)
{
    int64_t yy = m <= 2 ? y - 1 : y;
    int64_t era = floor_div(yy, 400);
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468; /* 719468: 0000-03-01 to 1970 */
}

void
tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;

    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* ---- POSIX TZ strings (the TZif footer) ---- */

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* "EST" or "<+0530>": three or more letters, or quoted [A-Za-z0-9+-]. */
static const char *
posix_abbr(const char *p, char out[TZ_ABBR_MAX + 1])
{
    size_t n = 0;
    int quoted = *p == '<';

    if (quoted)
        p++;
    while (is_alpha(*p) ||
           (quoted && (is_digit(*p) || *p == '+' || *p == '-'))) {
        if (n == TZ_ABBR_MAX)
            return NULL;
        out[n++] = *p++;
    }
    if (n < 3 || (quoted && *p++ != '>'))
        return NULL;
    out[n] = '\0';
    return p;
}

static const char *
posix_num(const char *p, int lo, int hi, int *out)
{
    int n = 0, digits = 0;

    while (is_digit(*p) && digits < 3) {
        n = n * 10 + (*p++ - '0');
        digits++;
    }
    if (digits == 0 || n < lo || n > hi)
        return NULL;
    *out = n;
    return p;
}

/* [+-]hh[:mm[:ss]] with hh at most max_h, as signed seconds. */
static const char *
posix_hms(const char *p, int max_h, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;

    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if ((p = posix_num(p, 0, max_h, &h)) == NULL)
        return NULL;
    if (*p == ':' && (p = posix_num(p + 1, 0, 59, &m)) == NULL)
        return NULL;
    if (*p == ':' && (p = posix_num(p + 1, 0, 59, &s)) == NULL)
        return NULL;
    *out = sign * (h * 3600 + m * 60 + s);
    return p;
}

static const char *
posix_when(const char *p, struct tz_when *w)
{
    memset(w, 0, sizeof(*w));
    w->kind = *p == 'M' || *p == 'J' ? *p++ : 'D';
    if (w->kind == 'M') {
        if ((p = posix_num(p, 1, 12, &w->mon)) == NULL || *p++ != '.' ||
            (p = posix_num(p, 1, 5, &w->week)) == NULL || *p++ != '.' ||
            (p = posix_num(p, 0, 6, &w->day)) == NULL)
            return NULL;
    } else if ((p = posix_num(p, w->kind == 'J', 365, &w->day)) == NULL) {
        return NULL;
    }
    w->secs = 2 * 3600;
    /* TZif version 3 allows -167..167 hours here. */
    if (*p == '/')
        p = posix_hms(p + 1, 167, &w->secs);
    return p;
}

/* Parse "EST5EDT,M3.2.0,M11.1.0"; 0 or -1.  A DST name without a rule is
 * refused: the rule POSIX leaves to the implementation never appears in
 * zic's output. */
static int
posix_parse(const char *s, struct tz_rule *r)
{
    const char *p;
    int32_t off;

    memset(r, 0, sizeof(*r));
    if ((p = posix_abbr(s, r->std_abbr)) == NULL ||
        (p = posix_hms(p, 24, &off)) == NULL)
        return -1;
    r->std_off = -off; /* POSIX counts hours west of Greenwich */
    if (*p == '\0')
        return 0;
    if ((p = posix_abbr(p, r->dst_abbr)) == NULL)
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*p != ',') {
        if ((p = posix_hms(p, 24, &off)) == NULL)
            return -1;
        r->dst_off = -off;
    }
    if (*p != ',' || (p = posix_when(p + 1, &r->start)) == NULL ||
        *p != ',' || (p = posix_when(p + 1, &r->end)) == NULL || *p)
        return -1;
    return 0;
}

/* Day count of the local date on which w falls in year y. */
static int64_t
rule_day(const struct tz_when *w, int64_t y)
{
    int64_t jan1 = tz_days_from_civil(y, 1, 1), first;
    int d, n;

    if (w->kind == 'J')
        return jan1 + w->day - 1 + (is_leap(y) && w->day >= 60);
    if (w->kind == 'D')
        return jan1 + w->day;
    first = tz_days_from_civil(y, w->mon, 1);
    d = 1 + (w->day - tz_weekday(first) + 7) % 7 + 7 * (w->week - 1);
    n = tz_days_in_month(y, w->mon);
    while (d > n) /* week 5 means the last such weekday */
        d -= 7;
    return first + d - 1;
}

static void
rule_fill(const struct tz_rule *r, int dst, struct tz_span *sp)
{
    sp->utoff = dst ? r->dst_off : r->std_off;
    sp->isdst = dst;
    sp->abbr = dst ? r->dst_abbr : r->std_abbr;
}

/* The span of rule r around t.  Looks at the changes of the years around
 * t's UTC year, since a change can be dated days into the next year. */
static void
rule_span(const struct tz_rule *r, int64_t t, struct tz_span *sp)
{
    struct { int64_t at; int dst; } ev[8], tmp;
    int64_t y;
    int m, d, n = 0, prev = -1, next = -1;

    sp->start = TZ_SPAN_MIN;
    sp->end = TZ_SPAN_MAX;
    if (!r->has_dst) {
        rule_fill(r, 0, sp);
        return;
    }
    tz_civil_from_days(floor_div(t, DAY_SECS), &y, &m, &d);
    for (int64_t yy = y - 2; yy <= y + 1; yy++) {
        /* The start is given in standard time, the end in DST. */
        ev[n].at = rule_day(&r->start, yy) * DAY_SECS + r->start.secs -
                   r->std_off;
        ev[n++].dst = 1;
        ev[n].at = rule_day(&r->end, yy) * DAY_SECS + r->end.secs -
                   r->dst_off;
        ev[n++].dst = 0;
    }
    /* Stable insertion sort: when a year's end and the next year's start
     * coincide (all-year DST written as "0/0,J365/25"), the later wins. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && ev[j - 1].at > ev[j].at; j--) {
            tmp = ev[j];
            ev[j] = ev[j - 1];
            ev[j - 1] = tmp;
        }
    for (int i = 0; i < n; i++) {
        if (ev[i].at <= t)
            prev = i;
        else if (next < 0)
            next = i;
    }
    rule_fill(r, prev >= 0 ? ev[prev].dst : 0, sp);
    if (prev >= 0)
        sp->start = ev[prev].at;
    if (next >= 0)
        sp->end = ev[next].at;
}

/* ---- Spans of a zone ---- */

static void
type_fill(const struct tz_zone *z, size_t type, struct tz_span *sp)
{
    sp->utoff = z->types[type].utoff;
    sp->isdst = z->types[type].isdst;
    sp->abbr = z->chars + z->types[type].abbr;
}

void
tz_zone_span(const struct tz_zone *z, int64_t t, struct tz_span *sp)
{
    size_t n = z->ntrans, lo = 0, hi = n;

    if (n > 0 && t < z->trans[n - 1]) {
        while (lo < hi) { /* first transition after t */
            size_t mid = lo + (hi - lo) / 2;

            if (z->trans[mid] <= t)
                lo = mid + 1;
            else
                hi = mid;
        }
        /* RFC 8536: before the first transition, type 0 applies. */
        type_fill(z, lo == 0 ? 0 : z->idx[lo - 1], sp);
        sp->start = lo == 0 ? TZ_SPAN_MIN : z->trans[lo - 1];
        sp->end = z->trans[lo];
        return;
    }
    if (!z->has_rule) {
        type_fill(z, n > 0 ? z->idx[n - 1] : 0, sp);
        sp->start = n > 0 ? z->trans[n - 1] : TZ_SPAN_MIN;
        sp->end = TZ_SPAN_MAX;
        return;
    }
    /* The footer governs after the last transition, or everywhere in a
     * file that lists none. */
    rule_span(&z->rule, t, sp);
    if (n > 0 && sp->start < z->trans[n - 1])
        sp->start = z->trans[n - 1];
}

/* Earliest instant whose wall clock reads wall; in a gap, the instant the
 * gap ends.  -1 if neither is found within a day either side. */
static int
zone_resolve(const struct tz_zone *z, int64_t wall, int64_t *out)
{
    struct tz_span sp;
    int64_t prev_end_wall = 0;
    int have_prev = 0;

    tz_zone_span(z, wall - TZ_OFF_MAX, &sp);
    for (int i = 0; i < 64 && sp.start <= wall + TZ_OFF_MAX; i++) {
        int64_t t = wall - sp.utoff;

        if (t >= sp.start && t < sp.end) {
            *out = t;
            return 0;
        }
        if (have_prev && prev_end_wall <= wall &&
            wall < sp.start + sp.utoff) {
            *out = sp.start;
            return 0;
        }
        if (sp.end == TZ_SPAN_MAX)
            break;
        prev_end_wall = sp.end + sp.utoff;
        have_prev = 1;
        tz_zone_span(z, sp.end, &sp);
    }
    return -1;
}

/* ---- TZif files ---- */

struct tzif_hdr {
    int version;
    uint32_t isut, isstd, leap, time, type, chr;
};

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be_signed(const uint8_t *p, size_t size)
{
    uint64_t v = size == 8 ? (uint64_t)be32(p) << 32 | be32(p + 4)
                           : be32(p);
    uint64_t sign = (uint64_t)1 << (size * 8 - 1);

    /* Two's complement by arithmetic: no implementation-defined casts,
     * and no overflow at the most negative value. */
    return v & sign ? -(int64_t)(sign - 1 - (v & (sign - 1))) - 1
                    : (int64_t)v;
}

static int
tzif_header(const uint8_t *p, size_t len, struct tzif_hdr *h,
            char err[ERR_LEN])
{
    uint32_t *counts[] = {&h->isut, &h->isstd, &h->leap,
                          &h->time, &h->type, &h->chr};

    if (len < 4 || memcmp(p, "TZif", 4) != 0) {
        snprintf(err, ERR_LEN, "not a TZif file");
        return -1;
    }
    if (len < 44) {
        snprintf(err, ERR_LEN, "truncated header");
        return -1;
    }
    if (p[4] != 0 && (p[4] < '2' || p[4] > '9')) {
        snprintf(err, ERR_LEN, "unknown TZif version byte 0x%02x", p[4]);
        return -1;
    }
    h->version = p[4] == 0 ? 1 : p[4] - '0';
    for (int i = 0; i < 6; i++)
        *counts[i] = be32(p + 20 + 4 * i);
    if (h->type == 0 || h->type > 256 || h->chr == 0 ||
        h->time > TZ_COUNT_MAX || h->chr > TZ_COUNT_MAX ||
        h->leap > TZ_COUNT_MAX || (h->isut != 0 && h->isut != h->type) ||
        (h->isstd != 0 && h->isstd != h->type)) {
        snprintf(err, ERR_LEN, "inconsistent counts in header");
        return -1;
    }
    if (h->leap != 0) {
        snprintf(err, ERR_LEN, "leap-second zone files are not supported");
        return -1;
    }
    return 0;
}

static size_t
tzif_block_len(const struct tzif_hdr *h, size_t tsize)
{
    return h->time * (tsize + 1) + h->type * 6 + h->chr +
           h->leap * (tsize + 4) + h->isstd + h->isut;
}

/* Transitions, their type indexes, types and abbreviation characters. */
static int
tzif_block(const uint8_t *p, const struct tzif_hdr *h, size_t tsize,
           struct tz_zone *z, char err[ERR_LEN])
{
    z->ntrans = h->time;
    z->ntypes = h->type;
    z->trans = mem_calloc(h->time + 1, sizeof(*z->trans));
    z->idx = mem_calloc(h->time + 1, 1);
    z->types = mem_calloc(h->type, sizeof(*z->types));
    z->chars = mem_calloc(h->chr + 1, 1);
    for (size_t i = 0; i < h->time; i++) {
        z->trans[i] = be_signed(p + i * tsize, tsize);
        if (z->trans[i] <= TZ_SPAN_MIN || z->trans[i] >= TZ_SPAN_MAX ||
            (i > 0 && z->trans[i] <= z->trans[i - 1])) {
            snprintf(err, ERR_LEN, "transition %zu out of order", i);
            return -1;
        }
    }
    p += h->time * tsize;
    for (size_t i = 0; i < h->time; i++)
        if ((z->idx[i] = p[i]) >= h->type) {
            snprintf(err, ERR_LEN, "transition %zu has no type", i);
            return -1;
        }
    p += h->time;
    memcpy(z->chars, p + h->type * 6, h->chr);
    for (size_t i = 0; i < h->type; i++, p += 6) {
        z->types[i].utoff = (int32_t)be_signed(p, 4);
        z->types[i].isdst = p[4];
        z->types[i].abbr = p[5];
        if (z->types[i].utoff <= -TZ_OFF_MAX ||
            z->types[i].utoff >= TZ_OFF_MAX || p[4] > 1 || p[5] >= h->chr) {
            snprintf(err, ERR_LEN, "time type %zu is invalid", i);
            return -1;
        }
    }
    return 0;
}

static int
tzif_footer(const uint8_t *p, size_t len, struct tz_zone *z,
            char err[ERR_LEN])
{
    char text[TZ_FOOTER_MAX + 1];
    const uint8_t *nl;

    if (len == 0) /* RFC 8536 wants a footer; a missing one means none */
        return 0;
    if (p[0] != '\n' || (nl = memchr(p + 1, '\n', len - 1)) == NULL ||
        nl - p - 1 > TZ_FOOTER_MAX) {
        snprintf(err, ERR_LEN, "malformed footer");
        return -1;
    }
    memcpy(text, p + 1, (size_t)(nl - p - 1));
    text[nl - p - 1] = '\0';
    if (text[0] == '\0')
        return 0;
    if (posix_parse(text, &z->rule) < 0) {
        snprintf(err, ERR_LEN, "unsupported footer TZ string '%.60s'", text);
        return -1;
    }
    z->has_rule = 1;
    return 0;
}

static int
tzif_parse(const uint8_t *buf, size_t len, struct tz_zone *z,
           char err[ERR_LEN])
{
    struct tzif_hdr h;
    size_t off;

    if (tzif_header(buf, len, &h, err) < 0)
        return -1;
    off = 44 + tzif_block_len(&h, 4);
    if (h.version >= 2) {
        /* Skip the 32-bit data: the 64-bit copy that follows is whole. */
        if (off + 44 > len) {
            snprintf(err, ERR_LEN, "truncated");
            return -1;
        }
        if (tzif_header(buf + off, len - off, &h, err) < 0)
            return -1;
        buf += off;
        len -= off;
        off = 44 + tzif_block_len(&h, 8);
    }
    if (off > len) {
        snprintf(err, ERR_LEN, "truncated");
        return -1;
    }
    if (tzif_block(buf + 44, &h, h.version >= 2 ? 8 : 4, z, err) < 0)
        return -1;
    return h.version >= 2 ? tzif_footer(buf + off, len - off, z, err) : 0;
}

static void
zone_free(struct tz_zone *z)
{
    if (z == NULL)
        return;
    free(z->trans);
    free(z->idx);
    free(z->types);
    free(z->chars);
    free(z);
}

/* Read and parse the already opened file; NULL with err on failure. */
static struct tz_zone *
zone_read(int fd, const struct stat *st, char err[ERR_LEN])
{
    struct tz_zone *z = NULL;
    uint8_t *buf = NULL;
    size_t got = 0, size = (size_t)st->st_size;
    ssize_t n;

    if (st->st_size > TZ_FILE_MAX) {
        snprintf(err, ERR_LEN, "larger than %d bytes", TZ_FILE_MAX);
        return NULL;
    }
    buf = mem_alloc(size);
    while (got < size && (n = read(fd, buf + got, size - got)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, ERR_LEN, "read: %s", strerror(errno));
            goto out;
        }
        got += (size_t)n;
    }
    z = mem_calloc(1, sizeof(*z));
    if (tzif_parse(buf, got, z, err) < 0) {
        zone_free(z);
        z = NULL;
    }
out:
    free(buf);
    return z;
}

/* ---- Names and the cache ---- */

/* Zone names are relative paths of [A-Za-z0-9/_+.-] without "..", so a
 * name from the config can never leave the zone directory. */
static int
name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || strstr(name, ".."))
        return 0;
    for (const char *p = name; *p; p++)
        if (!is_alpha(*p) && !is_digit(*p) && !strchr("/_+-.", *p))
            return 0;
    return 1;
}

/* Copy of name fit to quote in a message: printable, at most 64 chars. */
static void
name_quote(const char *name, char out[68])
{
    size_t i;

    for (i = 0; name[i] && i < 64; i++)
        out[i] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
    strcpy(out + i, name[i] ? "..." : "");
}

static struct tz_slot *
cache_find(const char *path, const struct stat *st)
{
    for (int i = 0; i < TZ_CACHE_SLOTS; i++) {
        struct tz_slot *s = &tz_cache[i];

        if (s->path && strcmp(s->path, path) == 0 && s->dev == st->st_dev &&
            s->ino == st->st_ino && s->size == st->st_size &&
            s->mtime.tv_sec == st->st_mtim.tv_sec &&
            s->mtime.tv_nsec == st->st_mtim.tv_nsec)
            return s;
    }
    return NULL;
}

static void
slot_clear(struct tz_slot *s)
{
    free(s->path);
    zone_free(s->zone);
    memset(s, 0, sizeof(*s));
}

/* Store z under path, replacing a stale copy or the least recently used
 * slot. */
static void
cache_put(const char *path, const struct stat *st, struct tz_zone *z)
{
    struct tz_slot *s = &tz_cache[0];

    for (int i = 0; i < TZ_CACHE_SLOTS; i++) {
        if (tz_cache[i].path && strcmp(tz_cache[i].path, path) == 0) {
            s = &tz_cache[i];
            break;
        }
        if (tz_cache[i].used < s->used)
            s = &tz_cache[i];
    }
    slot_clear(s);
    s->path = mem_strdup(path);
    s->dev = st->st_dev;
    s->ino = st->st_ino;
    s->size = st->st_size;
    s->mtime = st->st_mtim;
    s->zone = z;
    s->used = ++tz_clock;
}

void
tz_reset(void)
{
    for (int i = 0; i < TZ_CACHE_SLOTS; i++)
        slot_clear(&tz_cache[i]);
}

static struct tz_zone *
zone_load(const char *path, const char *quoted, char err[ERR_LEN])
{
    char why[ERR_LEN];
    struct tz_zone *z;
    struct stat st;
    int fd;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0 ||
        !S_ISREG(st.st_mode)) {
        if (fd < 0 && errno != ENOENT && errno != ENOTDIR)
            snprintf(err, ERR_LEN, "time zone '%s': %s", quoted,
                     strerror(errno));
        else
            snprintf(err, ERR_LEN, "unknown time zone '%s'", quoted);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if ((z = zone_read(fd, &st, why)) == NULL)
        snprintf(err, ERR_LEN, "time zone '%s': %.150s", quoted, why);
    else
        cache_put(path, &st, z);
    close(fd);
    return z;
}

const struct tz_zone *
tz_zone_get(const char *name, char err[ERR_LEN])
{
    char path[PATH_MAX], quoted[68];
    const char *dir = getenv("TZDIR");
    struct tz_slot *s;
    struct stat st;

    if (name == NULL)
        name = "";
    name_quote(name, quoted);
    if (!name_ok(name)) {
        snprintf(err, ERR_LEN, "bad time zone name '%s'", quoted);
        return NULL;
    }
    if (dir == NULL || *dir == '\0')
        dir = TZ_DEFAULT_DIR;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
        sizeof(path)) {
        snprintf(err, ERR_LEN, "time zone path too long for '%s'", quoted);
        return NULL;
    }
    /* One stat() per call keeps a tzdata upgrade from going unnoticed. */
    if (stat(path, &st) == 0 && (s = cache_find(path, &st)) != NULL) {
        s->used = ++tz_clock;
        return s->zone;
    }
    return zone_load(path, quoted, err);
}

int
tz_check(const char *name, char err[ERR_LEN])
{
    return tz_zone_get(name, err) ? 0 : ERR_FAIL;
}

/* ---- Conversions ---- */

static const char *
abbr_intern(const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; i < tz_abbr_used; i += strlen(tz_abbr_pool + i) + 1)
        if (strcmp(tz_abbr_pool + i, s) == 0)
            return tz_abbr_pool + i;
    if (n > TZ_ABBR_MAX || tz_abbr_used + n + 1 > sizeof(tz_abbr_pool))
        return NULL; /* not reached with the tz database's abbreviations */
    memcpy(tz_abbr_pool + tz_abbr_used, s, n + 1);
    tz_abbr_used += n + 1;
    return tz_abbr_pool + tz_abbr_used - n - 1;
}

int
tz_localtime(const char *name, time_t t, struct tm *tm)
{
    char err[ERR_LEN];
    const struct tz_zone *z;
    struct tz_span sp;
    int64_t wall, days, secs, y;
    int m, d;

    if (tm == NULL || t < -TZ_TIME_LIMIT || t > TZ_TIME_LIMIT ||
        (z = tz_zone_get(name, err)) == NULL)
        return ERR_FAIL;
    tz_zone_span(z, t, &sp);
    wall = (int64_t)t + sp.utoff;
    days = floor_div(wall, DAY_SECS);
    secs = wall - days * DAY_SECS;
    tz_civil_from_days(days, &y, &m, &d);
    memset(tm, 0, sizeof(*tm));
    tm->tm_year = (int)(y - 1900);
    tm->tm_mon = m - 1;
    tm->tm_mday = d;
    tm->tm_hour = (int)(secs / 3600);
    tm->tm_min = (int)(secs / 60 % 60);
    tm->tm_sec = (int)(secs % 60);
    tm->tm_wday = tz_weekday(days);
    tm->tm_yday = (int)(days - tz_days_from_civil(y, 1, 1));
    tm->tm_isdst = sp.isdst;
    tm->tm_gmtoff = sp.utoff;
    tm->tm_zone = abbr_intern(sp.abbr);
    return 0;
}

int
tz_midnight(const char *name, int y, int m, int d, time_t *out)
{
    char err[ERR_LEN];
    const struct tz_zone *z;
    struct tz_span sp;
    int64_t days, t;

    if (out == NULL || y < -9999 || y > 9999 || m < 1 || m > 12 ||
        d < 1 || d > tz_days_in_month(y, m) ||
        (z = tz_zone_get(name, err)) == NULL)
        return ERR_FAIL;
    days = tz_days_from_civil(y, m, d);
    if (zone_resolve(z, days * DAY_SECS, &t) < 0)
        return ERR_FAIL;
    /* A gap can swallow a whole date (Pacific/Apia, 2011-12-30). */
    tz_zone_span(z, t, &sp);
    if (floor_div(t + sp.utoff, DAY_SECS) != days)
        return ERR_FAIL;
    *out = (time_t)t;
    return 0;
}

int
tz_date(const char *name, time_t t, char out[11])
{
    char buf[40];
    struct tm tm;

    if (out == NULL || tz_localtime(name, t, &tm) < 0 ||
        tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
        return ERR_FAIL;
    /* Via a roomy buffer: the compiler cannot see the fields' ranges. */
    snprintf(buf, sizeof(buf), "%04d-%02d-%02d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday);
    memcpy(out, buf, 11);
    return 0;
}
