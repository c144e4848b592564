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

/* 0 when tmpl uses only known placeholders with balanced braces ("{{" and
 * "}}" stand for literal braces), else ERR_FAIL with err naming the
 * column: "column 9: unknown placeholder {dya}". */
int template_check(const char *tmpl, char err[ERR_LEN]);

/* tmpl with placeholders replaced; tmpl must pass template_check().
 * {hashtag} is "#National" + slug + "Day".  The caller frees the result. */
char *template_expand(const char *tmpl, const struct template_vars *v);

/* Slug of a national-day name: ASCII letters and digits and every
 * non-ASCII UTF-8 sequence kept, spaces and ASCII punctuation dropped
 * ("Don't Cry Over Spilled Milk" -> "DontCryOverSpilledMilk", "Piña
 * Colada" -> "PiñaColada").  The caller frees the result. */
char *template_slug(const char *day);

#endif
