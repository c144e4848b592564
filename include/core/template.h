/*
 * Caption, prompt and alt-text templates with {day}, {hashtag} and {date}
 * placeholders, and the slug used in job ids and hashtags.  Pure.
 */
#ifndef SPOOKYD_CORE_TEMPLATE_H
#define SPOOKYD_CORE_TEMPLATE_H

#include "core/err.h"

struct template_vars {
    const char *day;  /* national-day name, e.g. "Hat" */
    const char *date; /* "YYYY-MM-DD" */
};

/* 0 when tmpl is valid UTF-8 and uses only known placeholders with
 * balanced braces ("{{" and "}}" stand for literal braces), else ERR_FAIL
 * with err naming the 1-based column, counted in characters (UTF-8 code
 * points): "column 9: unknown placeholder {dya}", "column 3: unclosed {",
 * "column 5: stray }", "column 2: invalid UTF-8". */
int template_check(const char *tmpl, char err[ERR_LEN]);

/* tmpl with placeholders replaced; tmpl must pass template_check().
 * {hashtag} is "#National" + slug + "Day".  A NULL member of v expands to
 * "".  Text template_check() would refuse is copied as it stands rather
 * than crash.  The caller frees the result. */
char *template_expand(const char *tmpl, const struct template_vars *v);

/* Slug of a national-day name: ASCII letters and digits and every
 * non-ASCII UTF-8 sequence kept, spaces and ASCII punctuation dropped
 * ("Don't Cry Over Spilled Milk" -> "DontCryOverSpilledMilk", "Piña
 * Colada" -> "PiñaColada").  Bytes that are not valid UTF-8 are dropped,
 * so the slug is always valid UTF-8.  A name with nothing to keep ("!!!",
 * "", NULL) gives "": callers must treat an empty slug as an invalid name
 * (calendar_parse() refuses such names).  The caller frees the result. */
char *template_slug(const char *day);

#endif
