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

/* Limits calendar_parse() enforces, so a wrong file fails loudly instead
 * of costing memory or a day's worth of paid image requests. */
#define CALENDAR_MAX_BYTES (4u * 1024 * 1024) /* whole document: 4 MiB */
#define CALENDAR_MAX_NAME 200    /* bytes in one national-day name */
#define CALENDAR_MAX_NAMES 32    /* names on one date */
#define CALENDAR_MAX_PROMPT 1000 /* bytes in the "Prompt" prefix */

/* Parse and validate a calendar document.  Returns a new calendar (free
 * with calendar_free()) or NULL with err like "december.32: day out of
 * range 1-31" (JSON path of the first problem in document order) or, for
 * bad JSON, "line 3 column 7: <jansson's message>".  Names must be
 * non-empty, at most CALENDAR_MAX_NAME bytes, free of control characters
 * and of leading or trailing spaces, unique on their date, and have a
 * non-empty template_slug(). */
struct calendar *calendar_parse(const char *json, size_t len,
                                char err[ERR_LEN]);

/* calendar_parse() on a local file; err then starts with the path. */
struct calendar *calendar_load_file(const char *path, char err[ERR_LEN]);

/* Free a calendar; NULL is a no-op. */
void calendar_free(struct calendar *cal);

/* The national days of month (1-12) / mday in calendar order.  Returns
 * the count and points *names at an array owned by the calendar (NULL
 * when the count is 0; names itself may be NULL to get only the count).
 * Out-of-range month or mday gives 0. */
size_t calendar_days(const struct calendar *cal, int month, int mday,
                     const char *const **names);

/* The top-level "Prompt" string, or NULL when the calendar has none. */
const char *calendar_prompt_prefix(const struct calendar *cal);

/* Number of dates that have at least one national day. */
size_t calendar_date_count(const struct calendar *cal);

#endif
