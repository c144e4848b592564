/*
 * IANA time-zone conversions for one named zone at a time, read from the
 * system tz database ($TZDIR or /usr/share/zoneinfo).  Does not depend on
 * the process's TZ.  Pure apart from reading the zone file.
 */
#ifndef SPOOKYD_CORE_TZ_H
#define SPOOKYD_CORE_TZ_H

#include <time.h>

#include "core/err.h"

/* 0 when name is a zone in the tz database, else ERR_FAIL with a reason
 * in err ("unknown time zone 'America/Nwe_York'"). */
int tz_check(const char *name, char err[ERR_LEN]);

/* Civil date and time of t in zone name: *tm as localtime_r() would fill
 * it (tm_isdst and tm_gmtoff included).  0 or ERR_FAIL. */
int tz_localtime(const char *name, time_t t, struct tm *tm);

/* Unix time of local midnight starting date y-m-d (m 1-12) in zone name;
 * if midnight does not exist (a DST gap at 00:00), the first instant of
 * that date.  0 or ERR_FAIL. */
int tz_midnight(const char *name, int y, int m, int d, time_t *out);

/* Today's date in zone name at time t, as "YYYY-MM-DD" (11 bytes). */
int tz_date(const char *name, time_t t, char out[11]);

#endif
