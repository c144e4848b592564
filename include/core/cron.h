/*
 * Cron expressions (5 fields, or 6 with leading seconds) evaluated in an
 * IANA time zone, DST-correct.  Pure: no clock reads, no logging.
 */
#ifndef SPOOKYD_CORE_CRON_H
#define SPOOKYD_CORE_CRON_H

#include <time.h>

#include "core/err.h"

struct cron;

/* Parse expr ("0 8 * * mon-fri", "30 0 8 * * 1-5", ...).  Returns a new
 * schedule the caller frees with cron_free(), or NULL with err holding a
 * message that names the field and column ("column 5: hour 25 out of
 * range 0-23").  Fields take "*", lists, ranges and "/step"; "n/step"
 * runs from n to the field's end.  Months jan-dec and days sun-sat in any
 * case; 0 and 7 are Sunday, and "fri-sun" ends on Sunday.  As in Vixie
 * cron, a day-of-month or day-of-week field starting with '*' (a stepped
 * star included) leaves the day to the other field; when both are
 * restricted, a day matching either fires.  5 fields fire at second 0. */
struct cron *cron_parse(const char *expr, char err[ERR_LEN]);

/* Free a schedule; NULL is a no-op. */
void cron_free(struct cron *c);

/* First slot strictly after `after`, in zone tz (IANA name, e.g.
 * "America/New_York").  A slot inside a spring-forward gap fires once at
 * the end of the gap; a slot in a repeated fall-back hour fires once, at
 * its first occurrence.  Returns 0 and sets *next, or ERR_FAIL (bad zone,
 * or no slot within the next 5 years, e.g. "0 0 30 2 *"). */
int cron_next(const struct cron *c, const char *tz, time_t after,
              time_t *next);

/* Latest slot at or before `at` (for catch-up after downtime), same rules
 * as cron_next(); ERR_FAIL when none within 5 years back. */
int cron_prev(const struct cron *c, const char *tz, time_t at,
              time_t *prev);

#endif
