/*
 * The national-days calendar, in the old app's JSON shape: lowercase month
 * names -> day-of-month strings -> lists of names, plus an optional
 * top-level "Prompt" prefix.  Parsing validates everything and names the
 * JSON path of the first problem.  Pure apart from reading a local file.
 */
#ifndef SPOOKYD_CALENDAR_H
#define SPOOKYD_CALENDAR_H

#include <stddef.h>

#include "core/err.h"

struct calendar;

/* Parse and validate a calendar document.  Returns a new calendar (free
 * with calendar_free()) or NULL with err like "december.32: day out of
 * range 1-31". */
struct calendar *calendar_parse(const char *json, size_t len,
                                char err[ERR_LEN]);

/* calendar_parse() on a local file; err then starts with the path. */
struct calendar *calendar_load_file(const char *path, char err[ERR_LEN]);

/* Free a calendar; NULL is a no-op. */
void calendar_free(struct calendar *cal);

/* The national days of month (1-12) / mday in calendar order.  Returns
 * the count and points *names at an array owned by the calendar. */
size_t calendar_days(const struct calendar *cal, int month, int mday,
                     const char *const **names);

/* The top-level "Prompt" string, or NULL when the calendar has none. */
const char *calendar_prompt_prefix(const struct calendar *cal);

/* Number of dates that have at least one national day. */
size_t calendar_date_count(const struct calendar *cal);

#endif
