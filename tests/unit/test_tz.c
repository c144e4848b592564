/*
 * Unit tests for core/tz.c.  Every conversion is checked against glibc's
 * own TZif reader (TZ=":/path" + tzset + localtime_r, here in the test
 * only), on the system's zone files and on TZif files the test writes:
 * footer-only "slim" zones, version 1 files, and broken files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/tz.h"

#define SYS_DIR "/usr/share/zoneinfo"
#define DAY 86400
#define STRIDE (17 * 3600 + 13 * 60 + 7)

/* Zones picked for their quirks: 30-minute DST (Lord_Howe), negative DST
 * (Dublin), changes at 24:00 or later (Santiago, Jerusalem), negative
 * change times (Nuuk), 2-hour DST (Troll), midnight changes (Havana,
 * Beirut), Ramadan changes listed to 2087 (Casablanca), a skipped day
 * (Apia), no DST (Kolkata, Tehran, UTC). */
static const char *const zones[] = {
    "America/New_York", "Europe/London",    "Australia/Lord_Howe",
    "UTC",              "Asia/Kolkata",     "Europe/Dublin",
    "Asia/Jerusalem",   "America/Nuuk",     "Pacific/Chatham",
    "America/Santiago", "Africa/Casablanca", "Asia/Tehran",
    "Pacific/Apia",     "America/St_Johns", "Antarctica/Troll",
    "America/Havana",   "Asia/Beirut",      "America/Sao_Paulo",
    NULL,
};

static char tmpdir[64];

/* glibc's view of t in the zone file at path (absolute). */
static void
glibc_local(const char *path, time_t t, struct tm *tm)
{
    static char current[512];
    char spec[512];

    snprintf(spec, sizeof(spec), ":%s", path);
    if (strcmp(spec, current) != 0) {
        setenv("TZ", spec, 1);
        tzset();
        snprintf(current, sizeof(current), "%s", spec);
    }
    assert_non_null(localtime_r(&t, tm));
}

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = s};

    return timegm(&tm);
}

/* Ours and glibc's conversions of t agree field by field. */
static void
check_instant(const char *zone, const char *path, time_t t)
{
    struct tm a, b;
    char date[11], want[11];

    assert_int_equal(tz_localtime(zone, t, &a), 0);
    glibc_local(path, t, &b);
    if (a.tm_year != b.tm_year || a.tm_mon != b.tm_mon ||
        a.tm_mday != b.tm_mday || a.tm_hour != b.tm_hour ||
        a.tm_min != b.tm_min || a.tm_sec != b.tm_sec ||
        a.tm_wday != b.tm_wday || a.tm_yday != b.tm_yday ||
        a.tm_isdst != b.tm_isdst || a.tm_gmtoff != b.tm_gmtoff ||
        a.tm_zone == NULL || strcmp(a.tm_zone, b.tm_zone) != 0)
        fail_msg("%s at %lld: ours %04d-%02d-%02d %02d:%02d:%02d %s "
                 "%ld dst %d, glibc %04d-%02d-%02d %02d:%02d:%02d %s %ld "
                 "dst %d", zone, (long long)t, a.tm_year + 1900,
                 a.tm_mon + 1, a.tm_mday, a.tm_hour, a.tm_min, a.tm_sec,
                 a.tm_zone ? a.tm_zone : "(null)", a.tm_gmtoff, a.tm_isdst,
                 b.tm_year + 1900, b.tm_mon + 1, b.tm_mday, b.tm_hour,
                 b.tm_min, b.tm_sec, b.tm_zone, b.tm_gmtoff, b.tm_isdst);
    assert_int_equal(tz_date(zone, t, date), 0);
    strftime(want, sizeof(want), "%Y-%m-%d", &b);
    assert_string_equal(date, want);
}

/* First instant in (lo, hi] whose glibc offset differs from lo's. */
static time_t
glibc_change(const char *path, time_t lo, time_t hi)
{
    struct tm a, b;

    glibc_local(path, lo, &a);
    while (hi - lo > 1) {
        time_t mid = lo + (hi - lo) / 2;

        glibc_local(path, mid, &b);
        if (b.tm_gmtoff == a.tm_gmtoff)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* Samples [from, to) at an odd stride that drifts through the hours of
 * the day, and both sides of every offset change: the changes glibc sees
 * (found by bisection) and the span boundaries we see. */
static long
crosscheck(const char *zone, const char *path, time_t from, time_t to)
{
    const struct tz_zone *z;
    struct tz_span sp;
    struct tm prev, cur;
    char err[ERR_LEN];
    long n = 0;
    time_t t, c;

    glibc_local(path, from, &prev);
    for (t = from; t < to; t += STRIDE, n++) {
        check_instant(zone, path, t);
        glibc_local(path, t, &cur);
        if (cur.tm_gmtoff != prev.tm_gmtoff) {
            c = glibc_change(path, t - STRIDE, t);
            check_instant(zone, path, c - 1);
            check_instant(zone, path, c);
            n += 2;
        }
        prev = cur;
    }
    for (t = from; t < to; t = sp.end, n += 2) {
        assert_non_null(z = tz_zone_get(zone, err));
        tz_zone_span(z, t, &sp);
        assert_true(sp.start <= t && t < sp.end);
        if (sp.start != TZ_SPAN_MIN) { /* spans tile the time line */
            struct tz_span before;

            tz_zone_span(z, sp.start - 1, &before);
            assert_true(before.end == sp.start);
        }
        if (sp.end >= to)
            break;
        check_instant(zone, path, (time_t)sp.end - 1);
        check_instant(zone, path, (time_t)sp.end);
    }
    return n;
}

static void
test_system_zones_match_glibc(void **state)
{
    char path[256];
    long n = 0;

    (void)state;
    for (int i = 0; zones[i]; i++) {
        snprintf(path, sizeof(path), "%s/%s", SYS_DIR, zones[i]);
        n += crosscheck(zones[i], path, utc(2020, 1, 1, 0, 0, 0),
                        utc(2041, 1, 1, 0, 0, 0));
    }
    assert_true(n > 150000);
}

/* ---- Writing TZif files ---- */

struct tzif {
    int version;         /* 1, 2 or 3 */
    int ntrans;
    const int64_t *trans;
    const uint8_t *idx;
    int ntypes;
    const int32_t *utoff;
    const uint8_t *isdst, *abbr;
    const char *chars; /* abbreviations, NUL-separated */
    int nchars;
    const char *footer;
    int leapcnt;
};

static void
put32(FILE *f, uint32_t v)
{
    uint8_t b[4] = {v >> 24, v >> 16, v >> 8, v};

    fwrite(b, 1, 4, f);
}

static void
put_block(FILE *f, const struct tzif *z, int tsize)
{
    fwrite("TZif", 1, 4, f);
    fputc(z->version == 1 ? 0 : '0' + z->version, f);
    fwrite("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 1, 15, f);
    put32(f, 0);
    put32(f, 0);
    put32(f, (uint32_t)z->leapcnt);
    put32(f, (uint32_t)z->ntrans);
    put32(f, (uint32_t)z->ntypes);
    put32(f, (uint32_t)z->nchars);
    for (int i = 0; i < z->ntrans; i++) {
        if (tsize == 8)
            put32(f, (uint32_t)((uint64_t)z->trans[i] >> 32));
        put32(f, (uint32_t)z->trans[i]);
    }
    if (z->ntrans > 0)
        fwrite(z->idx, 1, (size_t)z->ntrans, f);
    for (int i = 0; i < z->ntypes; i++) {
        put32(f, (uint32_t)z->utoff[i]);
        fputc(z->isdst[i], f);
        fputc(z->abbr[i], f);
    }
    fwrite(z->chars, 1, (size_t)z->nchars, f);
    for (int i = 0; i < z->leapcnt; i++) {
        if (tsize == 8)
            put32(f, 0);
        put32(f, 78796800u + (uint32_t)i);
        put32(f, (uint32_t)i + 1);
    }
}

/* Writes tmpdir/name; returns the file's size. */
static long
write_tzif(const char *name, const struct tzif *z)
{
    char path[256];
    FILE *f;
    long size;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    assert_non_null(f = fopen(path, "wb"));
    put_block(f, z, 4);
    if (z->version >= 2) {
        put_block(f, z, 8);
        fprintf(f, "\n%s\n", z->footer ? z->footer : "");
    }
    size = ftell(f);
    assert_int_equal(fclose(f), 0);
    return size;
}

/* The footer line of a system zone file. */
static void
read_footer(const char *zone, char *out, size_t size)
{
    char path[256], buf[8192];
    FILE *f;
    size_t n;
    char *end, *start;

    snprintf(path, sizeof(path), "%s/%s", SYS_DIR, zone);
    assert_non_null(f = fopen(path, "rb"));
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    assert_true(n > 2 && buf[n - 1] == '\n');
    buf[n - 1] = '\0';
    end = buf + n - 1;
    start = end;
    while (start > buf && start[-1] != '\n')
        start--;
    assert_true((size_t)(end - start) < size);
    memcpy(out, start, (size_t)(end - start) + 1);
}

/* A file listing no transitions at all and a deliberately wrong type 0
 * ("XXX", +12:34), so every answer must come from the footer.  Compared
 * with glibc on the full system file from 2025, when all these zones
 * follow their footer rule. */
static void
test_footer_only_zones_match_glibc(void **state)
{
    static const char *const slim[] = {
        "America/New_York", "Europe/London",   "Australia/Lord_Howe",
        "Europe/Dublin",    "Asia/Jerusalem",  "America/Nuuk",
        "Pacific/Chatham",  "America/Santiago", "Antarctica/Troll",
        "America/St_Johns", "America/Havana",  "Asia/Kolkata", NULL,
    };
    const int32_t utoff[] = {12 * 3600 + 34 * 60};
    const uint8_t zero[] = {0};
    char footer[128], name[64], syspath[256];
    long n = 0;

    (void)state;
    for (int i = 0; slim[i]; i++) {
        struct tzif z = {.version = 3, .ntypes = 1, .utoff = utoff,
                         .isdst = zero, .abbr = zero, .chars = "XXX",
                         .nchars = 4, .footer = footer};

        read_footer(slim[i], footer, sizeof(footer));
        snprintf(name, sizeof(name), "Slim_%d", i);
        write_tzif(name, &z);
        snprintf(syspath, sizeof(syspath), "%s/%s", SYS_DIR, slim[i]);
        n += crosscheck(name, syspath, utc(2025, 1, 1, 0, 0, 0),
                        utc(2046, 1, 1, 0, 0, 0));
    }
    assert_true(n > 100000);
}

/* Transitions at irregular instants between three types, then a footer
 * rule (v2/v3) or nothing (v1).  The footers use every form POSIX and
 * TZif v3 allow, most of which no real zone uses.  glibc reads the same
 * files. */
static void
test_written_files_match_glibc(void **state)
{
    enum { N = 20 };
    static const char *const footers[] = {
        "EST5EDT,M3.2.0,M11.1.0",
        "<+01>-1<+02>,J60/2,J300/3",        /* Jn: Feb 29 not counted */
        "<+01>-1<+02>,59/2,299/3",          /* n: Feb 29 counted */
        "<-0330>3:30<-0230>,M3.5.0/-2,M10.5.0/-1:30",
        "<+0545>-5:45<+0645>-6:45,M4.1.0/167,M9.5.6/-167",
        "AAA-10:15:30BBB-11:15:30,M10.1.0,M4.1.0/3", /* southern */
        "XYZ+4ABC+2,M2.5.6/23:59:59,M11.5.3/0:00:01",
        "<+12>-12",                         /* fixed */
        NULL,
    };
    const int32_t utoff[] = {-18000, -14400, -16200};
    const uint8_t isdst[] = {0, 1, 0}, abbr[] = {0, 4, 8};
    int64_t trans[N];
    uint8_t idx[N];
    char path[256], name[32];
    long n = 0;

    (void)state;
    for (int i = 0; i < N; i++) {
        trans[i] = utc(2019, 6, 1, 0, 0, 0) + (int64_t)i * 61 * DAY +
                   (int64_t)i * 3571;
        idx[i] = (uint8_t)((i * 7 + 1) % 3);
    }
    for (int f = 0; footers[f]; f++) {
        for (int v = f == 0 ? 1 : 3; v <= 3; v++) {
            struct tzif z = {.version = v, .ntrans = N, .trans = trans,
                             .idx = idx, .ntypes = 3, .utoff = utoff,
                             .isdst = isdst, .abbr = abbr,
                             .chars = "EST\0EDT\0XST", .nchars = 12,
                             .footer = footers[f]};

            snprintf(name, sizeof(name), "Written_%d_v%d", f, v);
            write_tzif(name, &z);
            snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
            n += crosscheck(name, path, utc(2019, 1, 1, 0, 0, 0),
                            utc(2031, 1, 1, 0, 0, 0));
        }
    }
    assert_true(n > 30000);
}

/* "0/0,J365/25" is tzfile(5)'s spelling of DST all year.  glibc 2.36
 * gets it wrong for the first hours of each UTC year, so no comparison
 * here: every instant after the last transition must be EDT. */
static void
test_all_year_dst(void **state)
{
    const int32_t utoff[] = {-18000};
    const uint8_t zero[] = {0};
    const int64_t trans[] = {1000000000};
    struct tzif z = {.version = 3, .ntrans = 1, .trans = trans,
                     .idx = zero, .ntypes = 1, .utoff = utoff,
                     .isdst = zero, .abbr = zero, .chars = "EST",
                     .nchars = 4, .footer = "EST5EDT,0/0,J365/25"};
    struct tm tm;
    long n = 0;

    (void)state;
    write_tzif("AllYear", &z);
    assert_int_equal(tz_localtime("AllYear", 999999999, &tm), 0);
    assert_int_equal(tm.tm_isdst, 0);
    for (time_t t = 1000000000; t < utc(2040, 1, 1, 0, 0, 0);
         t += 3 * 3600 + 7, n++) {
        assert_int_equal(tz_localtime("AllYear", t, &tm), 0);
        assert_int_equal(tm.tm_isdst, 1);
        assert_int_equal(tm.tm_gmtoff, -14400);
        assert_string_equal(tm.tm_zone, "EDT");
    }
    assert_true(n > 1000);
}

static void
expect_error(const char *name, const char *want)
{
    char err[ERR_LEN] = "";
    struct tm tm;
    time_t t;
    char date[11];

    assert_int_equal(tz_check(name, err), ERR_FAIL);
    if (strstr(err, want) == NULL)
        fail_msg("zone '%s': error '%s' lacks '%s'", name, err, want);
    assert_int_equal(tz_localtime(name, 0, &tm), ERR_FAIL);
    assert_int_equal(tz_midnight(name, 2026, 1, 1, &t), ERR_FAIL);
    assert_int_equal(tz_date(name, 0, date), ERR_FAIL);
}

static void
test_bad_names(void **state)
{
    char err[ERR_LEN];

    (void)state;
    assert_int_equal(tz_check("America/Nwe_York", err), ERR_FAIL);
    assert_string_equal(err, "unknown time zone 'America/Nwe_York'");
    expect_error("America", "unknown time zone 'America'");
    expect_error("../../../etc/passwd", "bad time zone name");
    expect_error("America/../UTC", "bad time zone name");
    expect_error("/etc/localtime", "bad time zone name");
    expect_error("", "bad time zone name");
    expect_error("America/New York", "bad time zone name");
    expect_error("Bad\nName", "bad time zone name 'Bad?Name'");
    expect_error("zone.tab", "not a TZif file");
    assert_int_equal(tz_check("America/New_York", err), 0);
    assert_int_equal(tz_check("Etc/GMT+5", err), 0);
}

/* Files that are broken in each way the reader checks, and every
 * truncation of a good one: an error, never a crash or a wrong answer. */
static void
test_broken_files(void **state)
{
    const int32_t utoff[] = {3600, 7200}, bad_off[] = {3600, 30 * 3600};
    const uint8_t isdst[] = {0, 1}, abbr[] = {0, 4}, bad_abbr[] = {0, 9};
    const int64_t trans[] = {1000000, 2000000}, unsorted[] = {2000, 1000};
    const uint8_t idx[] = {1, 0}, bad_idx[] = {1, 2};
    struct tzif good = {.version = 2, .ntrans = 2, .trans = trans,
                        .idx = idx, .ntypes = 2, .utoff = utoff,
                        .isdst = isdst, .abbr = abbr, .chars = "ONE\0TWO",
                        .nchars = 8, .footer = "ONE-1TWO,M3.5.0,M10.5.0/3"};
    struct tzif z;
    char path[256], err[ERR_LEN], name[32];
    long size;
    FILE *f;

    (void)state;
    size = write_tzif("Good", &good);
    assert_int_equal(tz_check("Good", err), 0);
    snprintf(path, sizeof(path), "%s/Good", tmpdir);
    for (long len = 0; len < size; len++) {
        snprintf(name, sizeof(name), "Cut_%ld", len);
        write_tzif(name, &good);
        snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
        assert_int_equal(truncate(path, len), 0);
        /* Cut right before the footer is a file without footer: valid. */
        if (len == size - (long)strlen(good.footer) - 2)
            assert_int_equal(tz_check(name, err), 0);
        else if (tz_check(name, err) != ERR_FAIL)
            fail_msg("file cut at %ld of %ld accepted", len, size);
        unlink(path);
    }
    z = good;
    z.trans = unsorted;
    write_tzif("Unsorted", &z);
    expect_error("Unsorted", "out of order");
    z = good;
    z.idx = bad_idx;
    write_tzif("BadIdx", &z);
    expect_error("BadIdx", "has no type");
    z = good;
    z.abbr = bad_abbr;
    write_tzif("BadAbbr", &z);
    expect_error("BadAbbr", "time type 1 is invalid");
    z = good;
    z.utoff = bad_off;
    write_tzif("BadOff", &z);
    expect_error("BadOff", "time type 1 is invalid");
    z = good;
    z.ntypes = 0;
    write_tzif("NoTypes", &z);
    expect_error("NoTypes", "inconsistent counts");
    z = good;
    z.leapcnt = 2;
    write_tzif("Leap", &z);
    expect_error("Leap", "leap-second");
    const char *const footers[] = {"EST5EDT", "EST", "E5", "EST5EDT,M3.2.0",
                                   "EST5EDT,M13.1.0,M11.1.0",
                                   "EST5EDT,M3.6.0,M11.1.0",
                                   "EST5EDT,J0,J365", "EST5EDT,366,0",
                                   "<+05>-5<+06,M3.2.0,M11.1.0",
                                   "EST5EDT,M3.2.0/168,M11.1.0",
                                   "EST25", "EST5EDT,M3.2.0,M11.1.0x",
                                   "EST5:60", NULL};
    for (int i = 0; footers[i]; i++) {
        z = good;
        z.footer = footers[i];
        write_tzif("BadFooter", &z);
        expect_error("BadFooter", "footer");
    }
    snprintf(path, sizeof(path), "%s/Footerless", tmpdir);
    write_tzif("Footerless", &good);
    assert_non_null(f = fopen(path, "r+b"));
    assert_int_equal(fseek(f, -1, SEEK_END), 0);
    fputc('X', f); /* no closing newline */
    fclose(f);
    expect_error("Footerless", "malformed footer");
    z = good;
    z.version = 2;
    write_tzif("Garbage", &z);
    snprintf(path, sizeof(path), "%s/Garbage", tmpdir);
    assert_non_null(f = fopen(path, "r+b"));
    fputs("TZjf", f);
    fclose(f);
    expect_error("Garbage", "not a TZif file");
}

/* Flipping bytes of a valid file: any answer but a crash (the sanitizer
 * and valgrind runs watch the reads). */
static void
test_corrupt_bytes(void **state)
{
    const int32_t utoff[] = {3600, 7200};
    const uint8_t isdst[] = {0, 1}, abbr[] = {0, 4};
    const int64_t trans[] = {1000000, 2000000, 3000000};
    const uint8_t idx[] = {1, 0, 1};
    struct tzif good = {.version = 3, .ntrans = 3, .trans = trans,
                        .idx = idx, .ntypes = 2, .utoff = utoff,
                        .isdst = isdst, .abbr = abbr, .chars = "ONE\0TWO",
                        .nchars = 8, .footer = "<+01>-1<+02>,J60/-5,300/30"};
    char path[256], err[ERR_LEN];
    long size, ok = 0;
    struct tm tm;
    time_t t;
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/Flip", tmpdir);
    size = write_tzif("Flip", &good);
    assert_int_equal(tz_check("Flip", err), 0);
    for (long pos = 0; pos < size; pos++) {
        write_tzif("Flip", &good);
        assert_non_null(f = fopen(path, "r+b"));
        assert_int_equal(fseek(f, pos, SEEK_SET), 0);
        fputc((int)(0x5a ^ (pos * 37)) & 0xff, f);
        fputc((int)(0xa5 ^ (pos * 11)) & 0xff, f);
        fclose(f);
        if (tz_check("Flip", err) == 0) {
            ok++;
            assert_int_equal(tz_localtime("Flip", 1500000, &tm), 0);
            assert_int_equal(tz_midnight("Flip", 2026, 7, 1, &t), 0);
        }
    }
    assert_true(ok > 0 && ok < size);
}

/* Midnight is the first instant of the date: glibc agrees it is on the
 * date and that one second earlier is not. */
static void
test_midnight(void **state)
{
    static const char *const mz[] = {
        "America/New_York", "Europe/London", "Australia/Lord_Howe",
        "UTC",              "Asia/Kolkata",  "America/Santiago",
        "America/Havana",   "Asia/Beirut",   "Pacific/Apia", NULL,
    };
    char path[256];
    struct tm a, b;
    time_t m;
    long gaps = 0, n = 0;
    int64_t days0 = tz_days_from_civil(2020, 1, 1);

    (void)state;
    for (int i = 0; mz[i]; i++) {
        snprintf(path, sizeof(path), "%s/%s", SYS_DIR, mz[i]);
        for (int64_t day = days0; day < days0 + 21 * 366; day++, n++) {
            int64_t y;
            int mo, d;

            tz_civil_from_days(day, &y, &mo, &d);
            assert_int_equal(tz_midnight(mz[i], (int)y, mo, d, &m), 0);
            glibc_local(path, m, &a);
            glibc_local(path, m - 1, &b);
            assert_int_equal(a.tm_year + 1900, y);
            assert_int_equal(a.tm_mon + 1, mo);
            assert_int_equal(a.tm_mday, d);
            assert_true(b.tm_mday != d);
            gaps += a.tm_hour != 0 || a.tm_min != 0;
        }
    }
    /* Santiago, Havana and Beirut skip midnight once a year. */
    assert_true(gaps >= 3 * 20);
    assert_true(n > 60000);
}

static void
test_midnight_bad_dates(void **state)
{
    time_t t = 0;
    char path[256];
    struct tm a;

    (void)state;
    assert_int_equal(tz_midnight("UTC", 2026, 2, 29, &t), ERR_FAIL);
    assert_int_equal(tz_midnight("UTC", 2026, 13, 1, &t), ERR_FAIL);
    assert_int_equal(tz_midnight("UTC", 2026, 0, 1, &t), ERR_FAIL);
    assert_int_equal(tz_midnight("UTC", 2026, 4, 31, &t), ERR_FAIL);
    assert_int_equal(tz_midnight("UTC", 2026, 4, 0, &t), ERR_FAIL);
    assert_int_equal(tz_midnight("UTC", 2028, 2, 29, &t), 0);
    assert_int_equal(t, utc(2028, 2, 29, 0, 0, 0));
    /* Samoa moved across the date line: 2011-12-30 never happened, as
     * glibc shows one second either side of its midnight. */
    assert_int_equal(tz_midnight("Pacific/Apia", 2011, 12, 30, &t),
                     ERR_FAIL);
    assert_int_equal(tz_midnight("Pacific/Apia", 2011, 12, 31, &t), 0);
    snprintf(path, sizeof(path), "%s/Pacific/Apia", SYS_DIR);
    glibc_local(path, t - 1, &a);
    assert_int_equal(a.tm_mday, 29);
    glibc_local(path, t, &a);
    assert_int_equal(a.tm_mday, 31);
}

static void
test_out_of_range(void **state)
{
    struct tm tm;
    char date[11];

    (void)state;
    assert_int_equal(tz_localtime("UTC", (time_t)TZ_TIME_LIMIT + 1, &tm),
                     ERR_FAIL);
    assert_int_equal(tz_localtime("UTC", -(time_t)TZ_TIME_LIMIT - 1, &tm),
                     ERR_FAIL);
    assert_int_equal(tz_localtime("UTC", (time_t)TZ_TIME_LIMIT, &tm), 0);
    /* Year 10000 does not fit "YYYY-MM-DD". */
    assert_int_equal(tz_date("UTC", utc(10000, 1, 1, 0, 0, 0), date),
                     ERR_FAIL);
    assert_int_equal(tz_date("UTC", utc(9999, 12, 31, 23, 59, 59), date),
                     0);
    assert_string_equal(date, "9999-12-31");
    assert_int_equal(tz_date("UTC", utc(1, 1, 1, 0, 0, 0), date), 0);
    assert_string_equal(date, "0001-01-01");
}

/* The cache serves the same parse while the file is unchanged and sees a
 * replaced file. */
static void
test_cache_follows_file(void **state)
{
    const int32_t one[] = {3600}, two[] = {7200};
    const uint8_t zero[] = {0};
    struct tzif z = {.version = 2, .ntypes = 1, .utoff = one,
                     .isdst = zero, .abbr = zero, .chars = "ONE",
                     .nchars = 4, .footer = "ONE-1"};
    const struct tz_zone *a, *b;
    char err[ERR_LEN], path[256];
    struct tm tm;

    (void)state;
    write_tzif("Changing", &z);
    assert_non_null(a = tz_zone_get("Changing", err));
    assert_non_null(b = tz_zone_get("Changing", err));
    assert_ptr_equal(a, b);
    assert_int_equal(tz_localtime("Changing", 0, &tm), 0);
    assert_int_equal(tm.tm_gmtoff, 3600);
    /* Rename a new file into place, as dpkg does. */
    z.utoff = two;
    z.chars = "TWO";
    z.footer = "TWO-2";
    write_tzif("Changing.new", &z);
    snprintf(path, sizeof(path), "%s/Changing", tmpdir);
    {
        char from[256];

        snprintf(from, sizeof(from), "%s/Changing.new", tmpdir);
        assert_int_equal(rename(from, path), 0);
    }
    assert_int_equal(tz_localtime("Changing", 0, &tm), 0);
    assert_int_equal(tm.tm_gmtoff, 7200);
    assert_string_equal(tm.tm_zone, "TWO");
    unlink(path);
    expect_error("Changing", "unknown time zone");
}

/* The process's TZ is neither read nor changed. */
static void
test_ignores_process_tz(void **state)
{
    struct tm tm;

    (void)state;
    setenv("TZ", ":Asia/Tokyo", 1);
    tzset();
    assert_int_equal(tz_localtime("America/New_York",
                                  utc(2026, 7, 1, 12, 0, 0), &tm), 0);
    assert_int_equal(tm.tm_hour, 8);
    assert_int_equal(tm.tm_gmtoff, -4 * 3600);
    assert_string_equal(getenv("TZ"), ":Asia/Tokyo");
}

static int
setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/spookyd-tz-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    /* Zone names resolve in tmpdir for us; glibc gets absolute paths. */
    setenv("TZDIR", tmpdir, 1);
    return 0;
}

static int
teardown(void **state)
{
    char cmd[128];

    (void)state;
    tz_reset();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Tests that read the system zones run with TZDIR unset. */
static int
use_system_dir(void **state)
{
    (void)state;
    unsetenv("TZDIR");
    return 0;
}

static int
use_tmp_dir(void **state)
{
    (void)state;
    setenv("TZDIR", tmpdir, 1);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_system_zones_match_glibc,
                               use_system_dir),
        cmocka_unit_test_setup(test_footer_only_zones_match_glibc,
                               use_tmp_dir),
        cmocka_unit_test_setup(test_written_files_match_glibc, use_tmp_dir),
        cmocka_unit_test_setup(test_all_year_dst, use_tmp_dir),
        cmocka_unit_test_setup(test_bad_names, use_system_dir),
        cmocka_unit_test_setup(test_broken_files, use_tmp_dir),
        cmocka_unit_test_setup(test_corrupt_bytes, use_tmp_dir),
        cmocka_unit_test_setup(test_midnight, use_system_dir),
        cmocka_unit_test_setup(test_midnight_bad_dates, use_system_dir),
        cmocka_unit_test_setup(test_out_of_range, use_system_dir),
        cmocka_unit_test_setup(test_cache_follows_file, use_tmp_dir),
        cmocka_unit_test_setup(test_ignores_process_tz, use_system_dir),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
