/*
 * IANA time-zone conversions for one named zone at a time, read from the
 * system tz database ($TZDIR or /usr/share/zoneinfo).  Does not depend on
 * the process's TZ.  Pure apart from reading the zone file, which a small
 * cache keeps parsed (one stat() per call notices a tzdata upgrade); the
 * cache makes these functions unsafe to call from several threads.
 */
#ifndef SPOOKYD_CORE_TZ_H
#define SPOOKYD_CORE_TZ_H

#include <stdint.h>
#include <time.h>

#include "core/err.h"

/* 0 when name is a zone in the tz database, else ERR_FAIL with a reason
 * in err ("unknown time zone 'America/Nwe_York'"). */
int tz_check(const char *name, char err[ERR_LEN]);

/* Civil date and time of t in zone name: *tm as localtime_r() would fill
 * it (tm_isdst and tm_gmtoff included; tm_zone points to static storage,
 * NULL only if a zone file brought over ~300 distinct abbreviations).
 * 0 or ERR_FAIL. */
int tz_localtime(const char *name, time_t t, struct tm *tm);

/* Unix time of local midnight starting date y-m-d (m 1-12) in zone name;
 * if midnight does not exist (a DST gap at 00:00), the first instant of
 * that date.  0 or ERR_FAIL (bad zone, invalid date, year outside
 * -9999..9999, or a date the zone skipped entirely). */
int tz_midnight(const char *name, int y, int m, int d, time_t *out);

/* Today's date in zone name at time t, as "YYYY-MM-DD" (11 bytes). */
int tz_date(const char *name, time_t t, char out[11]);

/* The rest serves cron.c and tests: finding slots needs the zone's
 * spans of constant offset, not just one conversion. */

/* A parsed zone.  It belongs to tz.c's cache. */
struct tz_zone;

/* Instants the public functions accept: |t| <= TZ_TIME_LIMIT (about
 * 34,000 years either side of 1970); outside it they return ERR_FAIL. */
#define TZ_TIME_LIMIT (INT64_C(1) << 40)

/* Span bounds that stand for "no transition before / after". */
#define TZ_SPAN_MIN (-(INT64_C(1) << 60))
#define TZ_SPAN_MAX (INT64_C(1) << 60)

/* One stretch [start, end) of UTC time with one UTC offset. */
struct tz_span {
    int64_t start;    /* TZ_SPAN_MIN when unbounded */
    int64_t end;      /* TZ_SPAN_MAX when unbounded */
    long utoff;       /* seconds east of UTC */
    int isdst;
    const char *abbr; /* "EST"; lives as long as the zone */
};

/* The parsed zone name, loaded on first use and then served from a small
 * cache that reloads it if the file changes on disk.  NULL with a reason
 * in err when the name is bad or unknown, or the file is not valid.  The
 * pointer stays valid until the next tz_ call that loads another zone or
 * tz_reset(); do not free it. */
const struct tz_zone *tz_zone_get(const char *name, char err[ERR_LEN]);

/* The span of zone z that holds instant t (|t| < TZ_SPAN_MAX / 2). */
void tz_zone_span(const struct tz_zone *z, int64_t t, struct tz_span *sp);

/* Forget every cached zone and free it (on reload, and in tests). */
void tz_reset(void);

/* Days from 1970-01-01 to y-m-d (m 1-12) in the proleptic Gregorian
 * calendar; negative before 1970.  No range checks. */
int64_t tz_days_from_civil(int64_t y, int m, int d);

/* Inverse of tz_days_from_civil(). */
void tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* Number of days in month m (1-12) of year y. */
int tz_days_in_month(int64_t y, int m);

/* Day of the week of a day count, 0 = Sunday. */
int tz_weekday(int64_t days);

#endif
