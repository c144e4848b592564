/*
 * Unit tests for core/cron.c.  Parsing is checked through behaviour: each
 * expression's slots in UTC are compared with a brute-force scan of a
 * predicate written by hand.  DST behaviour is checked against a second
 * brute-force model driven by glibc's localtime_r (TZ set in the test
 * only), and at the 2026/2027 New York transitions explicitly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/cron.h"
#include "core/tz.h"

#define DAY 86400
#define NY "America/New_York"

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = s};

    return timegm(&tm);
}

/* glibc's local time of t in the system's copy of zone. */
static void
glibc_local(const char *zone, time_t t, struct tm *tm)
{
    static char current[256];
    char spec[256];

    snprintf(spec, sizeof(spec), ":/usr/share/zoneinfo/%s", zone);
    if (strcmp(spec, current) != 0) {
        setenv("TZ", spec, 1);
        tzset();
        snprintf(current, sizeof(current), "%s", spec);
    }
    assert_non_null(localtime_r(&t, tm));
}

static struct cron *
parse_ok(const char *expr)
{
    char err[ERR_LEN] = "";
    struct cron *c = cron_parse(expr, err);

    if (c == NULL)
        fail_msg("'%s' rejected: %s", expr, err);
    return c;
}

/* ---- Parse errors ---- */

static void
test_parse_errors(void **state)
{
    static const struct {
        const char *expr, *err;
    } cases[] = {
        {"0 8 * *", "expected 5 or 6 fields, got 4"},
        {"", "expected 5 or 6 fields, got 0"},
        {"   ", "expected 5 or 6 fields, got 0"},
        {"0 0 8 * * * *", "expected 5 or 6 fields, got 7"},
        {"@daily", "expected 5 or 6 fields, got 1"},
        {"60 * * * *", "column 1: minute 60 out of range 0-59"},
        {"0 24 * * *", "column 3: hour 24 out of range 0-23"},
        {"0 0 25 * * *", "column 5: hour 25 out of range 0-23"},
        {"60 0 8 * * *", "column 1: second 60 out of range 0-59"},
        {"0 0 0 * *", "column 5: day-of-month 0 out of range 1-31"},
        {"0 0 32 * *", "column 5: day-of-month 32 out of range 1-31"},
        {"0 0 * 13 *", "column 7: month 13 out of range 1-12"},
        {"0 0 * 0 *", "column 7: month 0 out of range 1-12"},
        {"0 0 * * 8", "column 9: day-of-week 8 out of range 0-7"},
        {"0 0 * * 99999999999",
         "column 9: day-of-week 99999999999 out of range 0-7"},
        {"*/0 * * * *", "column 3: bad step '0'"},
        {"0 1-10/0 * * *", "column 8: bad step '0'"},
        {"*/61 * * * *", "column 3: bad step '61'"},
        {"*/ * * * *", "column 3: bad step ''"},
        {"*/x * * * *", "column 3: bad step 'x'"},
        {"*/5/5 * * * *", "column 3: bad step '5/5'"},
        {"0 0 * */13 *", "column 9: bad step '13'"},
        {"1,,2 * * * *", "column 3: empty item in minute list"},
        {"1, * * * *", "column 3: empty item in minute list"},
        {"0 ,1 * * *", "column 3: empty item in hour list"},
        {"30-10 * * * *", "column 1: minute range 30-10 is reversed"},
        {"0 0 * * sat-mon", "column 9: day-of-week range sat-mon is "
                            "reversed"},
        {"0 0 * dec-jan *", "column 7: month range dec-jan is reversed"},
        {"0 0 * * foo", "column 9: unknown day-of-week name 'foo'"},
        {"0 0 * * monday", "column 9: unknown day-of-week name 'monday'"},
        {"0 0 * jan-foo *", "column 11: unknown month name 'foo'"},
        {"0 mon * * *", "column 3: bad hour 'mon'"},
        {"0 0 jan * *", "column 5: bad day-of-month 'jan'"},
        {"5x * * * *", "column 1: bad minute '5x'"},
        {"0 0 ? * *", "column 5: bad day-of-month '?'"},
        {"0 0 L * *", "column 5: bad day-of-month 'L'"},
        {"0 0 * * 5#2", "column 9: bad day-of-week '5#2'"},
        {"-5 * * * *", "column 1: bad minute '-5'"},
        {"1- * * * *", "column 3: bad minute ''"},
        {"*-5 * * * *", "column 1: bad minute '*-5'"},
        {"0\t0 *  jun-x \t*", "column 12: unknown month name 'x'"},
        {"0 0 * * \x01", "column 9: bad day-of-week '?'"},
        {"0 0 * * mon-fri-sat", "column 9: bad day-of-week 'mon-fri-sat'"},
        {"0 0 * * aaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "column 9: unknown day-of-week name 'aaaaaaaaaaaaaaaaaaaa...'"},
    };
    char err[ERR_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cron *c;

        memset(err, 'x', sizeof(err));
        c = cron_parse(cases[i].expr, err);
        if (c != NULL)
            fail_msg("'%s' accepted", cases[i].expr);
        if (strcmp(err, cases[i].err) != 0)
            fail_msg("'%s': got \"%s\", want \"%s\"", cases[i].expr, err,
                     cases[i].err);
    }
    assert_null(cron_parse(NULL, err));
    cron_free(NULL);
}

/* Blanks around and between fields, line ends included, are ignored. */
static void
test_parse_blanks(void **state)
{
    static const char *const same[] = {"0 8 * * mon-fri",
                                       "  0  8 * * mon-fri  ",
                                       "0\t8\t*\t*\tmon-fri\r\n", NULL};
    time_t from = utc(2026, 5, 1, 0, 0, 0), want = 0, got;

    (void)state;
    for (int i = 0; same[i]; i++) {
        struct cron *c = parse_ok(same[i]);

        assert_int_equal(cron_next(c, "UTC", from, &got), 0);
        if (i == 0)
            want = got;
        assert_int_equal(got, want);
        cron_free(c);
    }
    assert_int_equal(want, utc(2026, 5, 1, 8, 0, 0));
}

/* ---- Constructs, against hand-written predicates in UTC ---- */

struct construct {
    const char *expr;
    bool (*day)(int y, int mo, int d, int wday);
    bool (*time)(int h, int mi, int s);
};

static bool
any_day(int y, int mo, int d, int wd)
{
    (void)y, (void)mo, (void)d, (void)wd;
    return true;
}

static bool
weekday(int y, int mo, int d, int wd)
{
    (void)y, (void)mo, (void)d;
    return wd >= 1 && wd <= 5;
}

static bool
sunday(int y, int mo, int d, int wd)
{
    (void)y, (void)mo, (void)d;
    return wd == 0;
}

static bool
fri_to_sun(int y, int mo, int d, int wd)
{
    (void)y, (void)mo, (void)d;
    return wd == 5 || wd == 6 || wd == 0;
}

static bool
first_of_jan_jul(int y, int mo, int d, int wd)
{
    (void)y, (void)wd;
    return d == 1 && (mo == 1 || mo == 7);
}

static bool
quarterly(int y, int mo, int d, int wd)
{
    (void)y, (void)wd;
    return d == 1 && (mo - 1) % 3 == 0;
}

static bool
new_years_eve(int y, int mo, int d, int wd)
{
    (void)y, (void)wd;
    return mo == 12 && d == 31;
}

/* Vixie cron: both day fields restricted, so either may match. */
static bool
the_13th_or_friday(int y, int mo, int d, int wd)
{
    (void)y, (void)mo;
    return d == 13 || wd == 5;
}

static bool
the_13th(int y, int mo, int d, int wd)
{
    (void)y, (void)mo, (void)wd;
    return d == 13;
}

static bool
friday(int y, int mo, int d, int wd)
{
    (void)y, (void)mo, (void)d;
    return wd == 5;
}

/* Vixie cron: "*" + step still counts as "*", so both must match. */
static bool
odd_day_and_friday(int y, int mo, int d, int wd)
{
    (void)y, (void)mo;
    return d % 2 == 1 && wd == 5;
}

static bool
first_week_or_monday_in_summer(int y, int mo, int d, int wd)
{
    (void)y;
    return mo >= 6 && mo <= 8 && (d <= 7 || wd == 1);
}

static bool
every_minute(int h, int mi, int s)
{
    (void)h, (void)mi;
    return s == 0;
}

static bool
quarter_hours(int h, int mi, int s)
{
    (void)h;
    return s == 0 && mi % 15 == 0;
}

static bool
five_thirty_five_even_hours(int h, int mi, int s)
{
    return s == 0 && (mi == 5 || mi == 35) && h % 2 == 0;
}

static bool
office_hours_thirds(int h, int mi, int s)
{
    return s == 0 && mi <= 10 && mi % 3 == 0 && h >= 9 && h <= 17;
}

static bool
eight_am(int h, int mi, int s)
{
    return h == 8 && mi == 0 && s == 0;
}

static bool
midnight(int h, int mi, int s)
{
    return h == 0 && mi == 0 && s == 0;
}

static bool
noon(int h, int mi, int s)
{
    return h == 12 && mi == 0 && s == 0;
}

static bool
eight_am_30s(int h, int mi, int s)
{
    return h == 8 && mi == 0 && s == 30;
}

static bool
every_20s(int h, int mi, int s)
{
    (void)h, (void)mi;
    return s % 20 == 0;
}

static bool
from_10_by_20(int h, int mi, int s)
{
    (void)h;
    return s == 0 && mi >= 10 && (mi - 10) % 20 == 0;
}

static bool
last_minute(int h, int mi, int s)
{
    return h == 23 && mi == 59 && s == 0;
}

static bool
mixed_list(int h, int mi, int s)
{
    return s == 0 && (mi == 0 || (mi >= 20 && mi <= 30) ||
                      (mi >= 40 && mi % 7 == 40 % 7)) &&
           (h == 1 || h == 22 || h == 23);
}

static const struct construct constructs[] = {
    {"* * * * *", any_day, every_minute},
    {"*/15 * * * *", any_day, quarter_hours},
    {"5,35 */2 * * *", any_day, five_thirty_five_even_hours},
    {"0-10/3 9-17 * * *", any_day, office_hours_thirds},
    {"0 8 * * mon-fri", weekday, eight_am},
    {"0 8 * * MON-Fri", weekday, eight_am},
    {"0 8 * * 1-5", weekday, eight_am},
    {"0 8 * * 1,2,3,4,5", weekday, eight_am},
    {"0 0 * * 0", sunday, midnight},
    {"0 0 * * 7", sunday, midnight},
    {"0 0 * * SUN", sunday, midnight},
    {"0 0 * * fri-sun", fri_to_sun, midnight},
    {"0 0 * * 5-7", fri_to_sun, midnight},
    {"0 0 * * 0,5-6", fri_to_sun, midnight},
    {"0 12 1 jan,jul *", first_of_jan_jul, noon},
    {"0 12 1 1,7 *", first_of_jan_jul, noon},
    {"0 0 1 */3 *", quarterly, midnight},
    {"0 0 1 jan-dec/3 *", quarterly, midnight},
    {"59 23 31 dec *", new_years_eve, last_minute},
    {"0 0 13 * fri", the_13th_or_friday, midnight},
    {"0 0 13 * *", the_13th, midnight},
    {"0 0 * * fri", friday, midnight},
    {"0 0 */2 * fri", odd_day_and_friday, midnight},
    {"0 0 1-7 jun-aug mon", first_week_or_monday_in_summer, midnight},
    {"30 0 8 * * mon-fri", weekday, eight_am_30s},
    {"*/20 * * * * *", any_day, every_20s},
    {"0 0 0 * * *", any_day, midnight},
    {"10/20 * * * *", any_day, from_10_by_20},
    {"0,20-30,40/7 1,22-23 * * *", any_day, mixed_list},
};

/* First instant after `after` that the predicates accept, scanning day
 * by day and, on matching days, second by second.  -1 if none within
 * 400 days. */
static time_t
ref_next(const struct construct *k, time_t after)
{
    time_t day = after - (after % DAY + DAY) % DAY;
    /* 5-field expressions can only match whole minutes. */
    int step, fields = 1;
    struct tm tm;

    for (const char *p = k->expr; *p; p++)
        fields += *p == ' ';
    step = fields == 6 ? 1 : 60;
    for (int i = 0; i < 400; i++, day += DAY) {
        gmtime_r(&day, &tm);
        if (!k->day(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_wday))
            continue;
        for (int s = 0; s < DAY; s += step)
            if (day + s > after && k->time(s / 3600, s / 60 % 60, s % 60))
                return day + s;
    }
    return -1;
}

static void
check_construct(const struct construct *k, time_t from, int count)
{
    struct cron *c = parse_ok(k->expr);
    time_t t = from, got, want, prev;

    for (int i = 0; i < count; i++) {
        want = ref_next(k, t);
        assert_true(want > t);
        if (cron_next(c, "UTC", t, &got) != 0 || got != want)
            fail_msg("'%s' after %lld: got %lld, want %lld", k->expr,
                     (long long)t, (long long)got, (long long)want);
        /* The previous slot: the slot itself at it, the one before just
         * under it. */
        assert_int_equal(cron_prev(c, "UTC", got, &prev), 0);
        assert_int_equal(prev, got);
        if (i > 0) {
            assert_int_equal(cron_prev(c, "UTC", got - 1, &prev), 0);
            assert_int_equal(prev, t);
        }
        t = got;
    }
    cron_free(c);
}

static void
test_constructs(void **state)
{
    /* Three starting points: a Thursday, mid-month mid-day, a leap year's
     * end. */
    const time_t starts[] = {utc(2026, 1, 1, 0, 0, 0),
                             utc(2026, 6, 17, 13, 41, 27),
                             utc(2028, 12, 30, 23, 58, 59)};

    (void)state;
    for (size_t i = 0; i < sizeof(constructs) / sizeof(constructs[0]); i++)
        for (size_t j = 0; j < 3; j++)
            check_construct(&constructs[i], starts[j], 12);
}

/* ---- New York, 2026 and 2027 ---- */

static void
expect_local(time_t t, int y, int mo, int d, int h, int mi, int s,
             long gmtoff)
{
    struct tm tm;

    glibc_local(NY, t, &tm);
    if (tm.tm_year + 1900 != y || tm.tm_mon + 1 != mo || tm.tm_mday != d ||
        tm.tm_hour != h || tm.tm_min != mi || tm.tm_sec != s ||
        tm.tm_gmtoff != gmtoff)
        fail_msg("%lld is %04d-%02d-%02d %02d:%02d:%02d %+ld, want "
                 "%04d-%02d-%02d %02d:%02d:%02d %+ld", (long long)t,
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, tm.tm_gmtoff, y, mo, d, h, mi, s,
                 gmtoff);
}

static time_t
next_ok(const struct cron *c, const char *zone, time_t after)
{
    time_t t = 0;

    assert_int_equal(cron_next(c, zone, after, &t), 0);
    assert_true(t > after);
    return t;
}

static time_t
prev_ok(const struct cron *c, const char *zone, time_t at)
{
    time_t t = 0;

    assert_int_equal(cron_prev(c, zone, at, &t), 0);
    assert_true(t <= at);
    return t;
}

#define EST (-5 * 3600L)
#define EDT (-4 * 3600L)

/* Weekday 08:00 slots on both sides of each transition: the Friday
 * before in one offset, the Monday after in the other. */
static void
test_weekdays_across_transitions(void **state)
{
    static const struct {
        int y, mo, fri, mon_mo, mon;
        long before, after;
    } tr[] = {
        {2026, 3, 6, 3, 9, EST, EDT},   {2026, 10, 30, 11, 2, EDT, EST},
        {2027, 3, 12, 3, 15, EST, EDT}, {2027, 11, 5, 11, 8, EDT, EST},
    };
    struct cron *c = parse_ok("0 8 * * mon-fri");
    time_t fri, mon;

    (void)state;
    for (size_t i = 0; i < sizeof(tr) / sizeof(tr[0]); i++) {
        fri = next_ok(c, NY, utc(tr[i].y, tr[i].mo, tr[i].fri, 0, 0, 0));
        expect_local(fri, tr[i].y, tr[i].mo, tr[i].fri, 8, 0, 0,
                     tr[i].before);
        mon = next_ok(c, NY, fri);
        expect_local(mon, tr[i].y, tr[i].mon_mo, tr[i].mon, 8, 0, 0,
                     tr[i].after);
        /* Three calendar days apart, less or more the hour. */
        assert_int_equal(mon - fri,
                         3 * DAY - (tr[i].after - tr[i].before));
        assert_int_equal(prev_ok(c, NY, mon - 1), fri);
        assert_int_equal(prev_ok(c, NY, mon), mon);
        assert_int_equal(prev_ok(c, NY, mon + DAY - 1), mon);
    }
    cron_free(c);
}

/* Two whole years of weekday slots: every one at 08:00:00 local on a
 * weekday, none skipped, cron_prev retracing each step. */
static void
test_weekdays_two_years(void **state)
{
    struct cron *c = parse_ok("0 8 * * mon-fri");
    time_t t = utc(2026, 1, 1, 0, 0, 0), next;
    struct tm a, b;
    int n = 0;

    (void)state;
    t = next_ok(c, NY, t);
    while (t < utc(2028, 1, 1, 0, 0, 0)) {
        glibc_local(NY, t, &a);
        assert_int_equal(a.tm_hour, 8);
        assert_int_equal(a.tm_min, 0);
        assert_int_equal(a.tm_sec, 0);
        assert_true(a.tm_wday >= 1 && a.tm_wday <= 5);
        next = next_ok(c, NY, t);
        glibc_local(NY, next, &b);
        /* Local calendar days between the two slots. */
        assert_int_equal(tz_days_from_civil(b.tm_year, b.tm_mon + 1,
                                            b.tm_mday) -
                             tz_days_from_civil(a.tm_year, a.tm_mon + 1,
                                                a.tm_mday),
                         a.tm_wday == 5 ? 3 : 1);
        assert_int_equal(prev_ok(c, NY, next - 1), t);
        t = next;
        n++;
    }
    assert_int_equal(n, 261 + 261); /* weekdays in 2026 and in 2027 */
    cron_free(c);
}

/* 02:00-02:59 does not exist on 2026-03-08 and 2027-03-14: slots there
 * fire once, at 03:00 EDT, the end of the gap. */
static void
test_spring_forward_gap(void **state)
{
    static const char *const exprs[] = {"30 2 * * *", "*/15 2 * * *",
                                        "0 30 2 * * *", "59 2 * * sun",
                                        NULL};
    static const struct {
        int y, d;
    } days[] = {{2026, 8}, {2027, 14}};
    struct cron *c;
    time_t gap_end, t;

    (void)state;
    for (int e = 0; exprs[e]; e++) {
        c = parse_ok(exprs[e]);
        for (int i = 0; i < 2; i++) {
            gap_end = utc(days[i].y, 3, days[i].d, 7, 0, 0);
            expect_local(gap_end - 1, days[i].y, 3, days[i].d, 1, 59, 59,
                         EST);
            expect_local(gap_end, days[i].y, 3, days[i].d, 3, 0, 0, EDT);
            t = next_ok(c, NY, utc(days[i].y, 3, days[i].d, 0, 0, 0));
            assert_int_equal(t, gap_end);
            assert_int_equal(next_ok(c, NY, gap_end - 1), gap_end);
            /* Once only: the next slot is a later day's 02:xx EDT. */
            t = next_ok(c, NY, gap_end);
            assert_true(t - gap_end >= DAY - 3600);
            assert_int_equal(prev_ok(c, NY, t - 1), gap_end);
            assert_int_equal(prev_ok(c, NY, gap_end), gap_end);
            assert_true(prev_ok(c, NY, gap_end - 1) < gap_end - 20 * 3600);
        }
        cron_free(c);
    }
    /* A slot at 03:00 itself is ordinary, and 02:30 + 03:30 are two. */
    c = parse_ok("30 2,3 * * *");
    t = next_ok(c, NY, utc(2026, 3, 8, 0, 0, 0));
    expect_local(t, 2026, 3, 8, 3, 0, 0, EDT);
    t = next_ok(c, NY, t);
    expect_local(t, 2026, 3, 8, 3, 30, 0, EDT);
    cron_free(c);
}

/* 01:00-01:59 happens twice on 2026-11-01 and 2027-11-07: slots there
 * fire once, in the first pass (EDT). */
static void
test_fall_back_repeat(void **state)
{
    static const struct {
        int y, d;
    } days[] = {{2026, 1}, {2027, 7}};
    struct cron *c = parse_ok("30 1 * * *"), *every = parse_ok("*/20 1 * * *");
    time_t first, t;

    (void)state;
    for (int i = 0; i < 2; i++) {
        int y = days[i].y, d = days[i].d;

        first = next_ok(c, NY, utc(y, 11, d, 0, 0, 0) - 12 * 3600);
        expect_local(first, y, 11, d, 1, 30, 0, EDT);
        /* The second pass (EST) does not fire, from inside it either. */
        t = next_ok(c, NY, first);
        expect_local(t, y, 11, d + 1, 1, 30, 0, EST);
        assert_int_equal(next_ok(c, NY, first + 3600 - 60), t);
        assert_int_equal(next_ok(c, NY, first + 3600 + 60), t);
        /* At or before 01:45 EST, the last slot is 01:30 EDT. */
        assert_int_equal(prev_ok(c, NY, first + 3600 + 15 * 60), first);
        assert_int_equal(prev_ok(c, NY, t - 1), first);
        /* Several slots: each once, then the next day. */
        t = next_ok(every, NY, utc(y, 11, d, 0, 0, 0));
        expect_local(t, y, 11, d, 1, 0, 0, EDT);
        t = next_ok(every, NY, t);
        expect_local(t, y, 11, d, 1, 20, 0, EDT);
        t = next_ok(every, NY, t);
        expect_local(t, y, 11, d, 1, 40, 0, EDT);
        first = t;
        t = next_ok(every, NY, t);
        expect_local(t, y, 11, d + 1, 1, 0, 0, EST);
        assert_int_equal(prev_ok(every, NY, t - 1), first);
    }
    cron_free(c);
    cron_free(every);
}

static void
test_leap_day_and_impossible_dates(void **state)
{
    struct cron *c = parse_ok("0 8 29 2 *");
    time_t t;

    (void)state;
    t = next_ok(c, NY, utc(2026, 1, 1, 0, 0, 0));
    expect_local(t, 2028, 2, 29, 8, 0, 0, EST);
    assert_int_equal(prev_ok(c, NY, utc(2031, 1, 1, 0, 0, 0)), t);
    t = next_ok(c, NY, t);
    expect_local(t, 2032, 2, 29, 8, 0, 0, EST);
    /* Close to the five-year horizon, still found. */
    t = next_ok(c, NY, utc(2099, 3, 1, 0, 0, 0));
    expect_local(t, 2104, 2, 29, 8, 0, 0, EST);
    /* 2100 is no leap year: from 2097 the next is 2104, past 5 years. */
    assert_int_equal(cron_next(c, NY, utc(2097, 3, 1, 0, 0, 0), &t),
                     ERR_FAIL);
    assert_int_equal(cron_prev(c, NY, utc(2103, 12, 1, 0, 0, 0), &t),
                     ERR_FAIL);
    cron_free(c);

    static const char *const never[] = {"0 0 30 2 *", "0 0 31 4,6,9,11 *",
                                        "0 0 0 31 feb *", NULL};
    for (int i = 0; never[i]; i++) {
        c = parse_ok(never[i]);
        assert_int_equal(cron_next(c, NY, utc(2026, 1, 1, 0, 0, 0), &t),
                         ERR_FAIL);
        assert_int_equal(cron_prev(c, NY, utc(2026, 1, 1, 0, 0, 0), &t),
                         ERR_FAIL);
        assert_int_equal(cron_next(c, "UTC", 0, &t), ERR_FAIL);
        cron_free(c);
    }
}

static void
test_bad_arguments(void **state)
{
    struct cron *c = parse_ok("0 8 * * *");
    time_t t;

    (void)state;
    assert_int_equal(cron_next(c, "America/Nwe_York", 0, &t), ERR_FAIL);
    assert_int_equal(cron_prev(c, "America/Nwe_York", 0, &t), ERR_FAIL);
    assert_int_equal(cron_next(c, "../etc/passwd", 0, &t), ERR_FAIL);
    assert_int_equal(cron_next(c, NULL, 0, &t), ERR_FAIL);
    assert_int_equal(cron_next(NULL, NY, 0, &t), ERR_FAIL);
    assert_int_equal(cron_next(c, NY, 0, NULL), ERR_FAIL);
    assert_int_equal(cron_prev(c, NY, 0, NULL), ERR_FAIL);
    assert_int_equal(cron_next(c, NY, (time_t)TZ_TIME_LIMIT + 1, &t),
                     ERR_FAIL);
    assert_int_equal(cron_prev(c, NY, -(time_t)TZ_TIME_LIMIT - 1, &t),
                     ERR_FAIL);
    cron_free(c);
}

/* ---- A brute-force model of DST behaviour, on glibc ---- */

static bool
one_thirty(int h, int mi, int s)
{
    return h == 1 && mi == 30 && s == 0;
}

static bool
two_forty_five(int h, int mi, int s)
{
    return h == 2 && mi == 45 && s == 0;
}

static bool
two_am(int h, int mi, int s)
{
    return h == 2 && mi == 0 && s == 0;
}

static bool
twenties_1_to_3(int h, int mi, int s)
{
    return s == 0 && mi % 20 == 0 && h >= 1 && h <= 3;
}

static bool
quarter_past_midnight(int h, int mi, int s)
{
    return h == 0 && mi == 15 && s == 0;
}

static bool
ten_pm_to_11(int h, int mi, int s)
{
    return s == 0 && mi % 10 == 0 && h >= 22;
}

static const struct construct dst_cases[] = {
    {"*/15 * * * *", any_day, quarter_hours},
    {"30 1 * * *", any_day, one_thirty},
    {"45 2 * * *", any_day, two_forty_five},
    {"0 2 * * *", any_day, two_am},
    {"*/20 1-3 * * *", any_day, twenties_1_to_3},
    {"0 0 * * *", any_day, midnight},
    {"15 0 * * *", any_day, quarter_past_midnight},
    {"*/10 22-23 * * *", any_day, ten_pm_to_11},
    {"0 8 * * mon-fri", weekday, eight_am},
};

enum { MODEL_BACK = 4 * 60, MODEL_MINUTES = 2 * 24 * 60 };

struct model {
    time_t t0;                                 /* instant of wall[0] */
    time_t wall[MODEL_BACK + MODEL_MINUTES];   /* local time, as UTC */
};

static void
model_fill(struct model *m, const char *zone, time_t from)
{
    struct tm tm;

    m->t0 = from - MODEL_BACK * 60;
    for (int i = 0; i < MODEL_BACK + MODEL_MINUTES; i++) {
        glibc_local(zone, m->t0 + i * 60, &tm);
        m->wall[i] = timegm(&tm);
    }
}

static bool
model_match(const struct construct *k, time_t wall)
{
    struct tm tm;

    gmtime_r(&wall, &tm);
    return k->day(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_wday) &&
           k->time(tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Minute i fires if its wall time matches and was not shown in the
 * hours before, or if it ends a gap that skipped a matching time. */
static bool
model_fires(const struct model *m, const struct construct *k, int i)
{
    bool first = true;

    for (int j = i - MODEL_BACK; j < i; j++)
        first = first && m->wall[j] != m->wall[i];
    if (first && model_match(k, m->wall[i]))
        return true;
    for (time_t w = m->wall[i - 1] + 60; w < m->wall[i]; w += 60)
        if (model_match(k, w))
            return true;
    return false;
}

static int
check_model(const struct model *m, const struct construct *k,
            const char *zone)
{
    struct cron *c = parse_ok(k->expr);
    time_t t = m->t0 + MODEL_BACK * 60 - 1, got, last = -1;
    int fired = 0;

    for (int i = MODEL_BACK; i < MODEL_BACK + MODEL_MINUTES; i++) {
        time_t want = m->t0 + i * 60;

        if (!model_fires(m, k, i))
            continue;
        if (cron_next(c, zone, t, &got) != 0 || got != want)
            fail_msg("%s '%s' after %lld: got %lld, want %lld", zone,
                     k->expr, (long long)t, (long long)got,
                     (long long)want);
        assert_int_equal(prev_ok(c, zone, want), want);
        if (last >= 0)
            assert_int_equal(prev_ok(c, zone, want - 1), last);
        last = t = want;
        fired++;
    }
    /* Nothing more before the window ends. */
    if (cron_next(c, zone, t, &got) == 0)
        assert_true(got >= m->t0 + (MODEL_BACK + MODEL_MINUTES) * 60);
    cron_free(c);
    return fired;
}

/* Every offset change of 2026-2027 in zones with odd rules: 30-minute
 * DST (Lord_Howe), negative DST (Dublin), 2-hour DST (Troll), changes at
 * midnight (Santiago, Havana), 02:45 (Chatham), 22:00 (Nuuk). */
static void
test_dst_model(void **state)
{
    static const char *const zones[] = {
        NY,               "Australia/Lord_Howe", "Europe/Dublin",
        "Antarctica/Troll", "America/Santiago",  "America/Havana",
        "Pacific/Chatham",  "America/Nuuk",      NULL,
    };
    static struct model m;
    struct tm a, b;
    int windows = 0, fired = 0;

    (void)state;
    for (int z = 0; zones[z]; z++) {
        time_t day = utc(2026, 1, 1, 0, 0, 0);

        glibc_local(zones[z], day, &a);
        for (; day < utc(2028, 1, 1, 0, 0, 0); day += DAY, a = b) {
            time_t lo = day, hi = day + DAY;

            glibc_local(zones[z], hi, &b);
            if (b.tm_gmtoff == a.tm_gmtoff)
                continue;
            while (hi - lo > 1) { /* the change instant */
                time_t mid = lo + (hi - lo) / 2;
                struct tm tm;

                glibc_local(zones[z], mid, &tm);
                *(tm.tm_gmtoff == a.tm_gmtoff ? &lo : &hi) = mid;
            }
            model_fill(&m, zones[z], hi - DAY);
            for (size_t k = 0; k < sizeof(dst_cases) / sizeof(dst_cases[0]);
                 k++)
                fired += check_model(&m, &dst_cases[k], zones[z]);
            windows++;
        }
    }
    assert_int_equal(windows, 8 * 4);
    assert_true(fired > windows * 200);
}

/* Seconds in a 6-field expression survive the DST machinery too. */
static void
test_seconds_field(void **state)
{
    struct cron *c = parse_ok("*/20 30 2 * * *");
    time_t t;

    (void)state;
    /* In the gap: all three slots of 02:30 collapse into 03:00:00 EDT. */
    t = next_ok(c, NY, utc(2026, 3, 8, 0, 0, 0));
    expect_local(t, 2026, 3, 8, 3, 0, 0, EDT);
    t = next_ok(c, NY, t);
    expect_local(t, 2026, 3, 9, 2, 30, 0, EDT);
    t = next_ok(c, NY, t);
    expect_local(t, 2026, 3, 9, 2, 30, 20, EDT);
    t = next_ok(c, NY, t);
    expect_local(t, 2026, 3, 9, 2, 30, 40, EDT);
    assert_int_equal(prev_ok(c, NY, t - 1), t - 20);
    cron_free(c);
}

static int
teardown(void **state)
{
    (void)state;
    tz_reset();
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_blanks),
        cmocka_unit_test(test_constructs),
        cmocka_unit_test(test_weekdays_across_transitions),
        cmocka_unit_test(test_weekdays_two_years),
        cmocka_unit_test(test_spring_forward_gap),
        cmocka_unit_test(test_fall_back_repeat),
        cmocka_unit_test(test_seconds_field),
        cmocka_unit_test(test_leap_day_and_impossible_dates),
        cmocka_unit_test(test_dst_model),
        cmocka_unit_test(test_bad_arguments),
    };

    unsetenv("TZDIR");
    return cmocka_run_group_tests(tests, NULL, teardown);
}
