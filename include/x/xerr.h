/*
 * X API v2 error replies: parse a problem+json body (or a 2xx body that
 * carries an "errors" array), sort it into the few classes the client acts
 * on, and work out how long a 429 asks us to wait.  Pure: time and the
 * random jitter come in as arguments; nothing here logs.
 */
#ifndef SPOOKYD_X_XERR_H
#define SPOOKYD_X_XERR_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Longest problem type segment, title and detail kept (with the NUL). */
#define XERR_TYPE_LEN 64
#define XERR_TITLE_LEN 96
#define XERR_DETAIL_LEN 200

/* Wait after a 429 whose headers give no usable reset: one 15-minute
 * rate-limit window. */
#define XERR_DEFAULT_WAIT_MS (15ull * 60 * 1000)
/* A reset further ahead than this is taken as this (a daily limit is the
 * longest X documents). */
#define XERR_MAX_WAIT_MS (24ull * 60 * 60 * 1000)
/* Jitter added to every rate-limit wait: a fixed second (resets have
 * one-second resolution) plus up to this many random milliseconds. */
#define XERR_JITTER_MS 5000

/* What an X reply amounts to, for the client. */
enum xerr_class {
    XERR_NONE,         /* a success: nothing wrong */
    XERR_RATE_LIMITED, /* 429: wait for the limit to reset */
    XERR_CREDITS,      /* 402 / credits / usage-capped: no money left */
    XERR_AUTH,         /* 401, or 403 refusing the app or the token */
    XERR_DUPLICATE,    /* 403: this text is already posted */
    XERR_TRANSIENT,    /* 408, 5xx: try again soon */
    XERR_PERMANENT,    /* any other 4xx: this request never succeeds */
};

/* One problem, cut down to what classification and messages need.  All
 * strings are NUL-terminated, truncated to fit, control characters
 * replaced by '?'. */
struct xerr_problem {
    long status;                  /* the body's "status", else 0 */
    char type[XERR_TYPE_LEN];     /* last path segment of "type":
                                   * "credits" for .../2/problems/credits
                                   * on either host, "blank" for
                                   * about:blank; "" when absent */
    char title[XERR_TITLE_LEN];   /* "title", "" when absent */
    char detail[XERR_DETAIL_LEN]; /* "detail", else the first error's
                                   * detail or message; "" when absent */
};

/*
 * Parse body[0..len) (need not be NUL-terminated) into *p.  A top-level
 * problem (title, detail or type present) wins; otherwise the first entry
 * of an "errors" array is used (its title, detail or message, type).
 * Returns 0 when a problem was found, ERR_FAIL when the body is not JSON
 * or says nothing about an error (*p is then all empty).
 */
int xerr_parse(const char *body, size_t len, struct xerr_problem *p);

/*
 * Class of a reply with HTTP status http_status whose body parsed into p
 * (p may be NULL when the body held no problem).  Duplicate content is
 * recognised from the detail; credits from status 402, type "credits" or
 * "usage-capped", or title "CreditsDepleted"; a rate limit from 429 or
 * type "rate-limit-exceeded"; auth from 401, title "Unauthorized" or type
 * "client-forbidden" / "not-authorized-for-resource".  A 2xx without a
 * problem is XERR_NONE; a 2xx with one is classed by the problem alone.
 */
enum xerr_class xerr_classify(long http_status, const struct xerr_problem *p);

/* A short name of c ("rate limited", "credits depleted", ...). */
const char *xerr_class_name(enum xerr_class c);

/*
 * "HTTP 403 Forbidden: You are not allowed ..." into out[0..size): the
 * status, then the title and the detail when present (the detail alone
 * when it repeats the title).  The text comes from X, never from us.
 */
void xerr_describe(long http_status, const struct xerr_problem *p, char *out,
                   size_t size);

/* The rate-limit headers of a 429, raw; NULL when absent. */
struct xerr_limits {
    const char *reset;              /* x-rate-limit-reset */
    const char *remaining;          /* x-rate-limit-remaining */
    const char *user_day_reset;     /* x-user-limit-24hour-reset */
    const char *user_day_remaining; /* x-user-limit-24hour-remaining */
    const char *app_day_reset;      /* x-app-limit-24hour-reset */
    const char *app_day_remaining;  /* x-app-limit-24hour-remaining */
};

/*
 * Milliseconds to wait after a 429, given its headers and now (Unix
 * seconds, ideally the server's own Date so our clock error does not
 * count).  The latest reset among the limits whose remaining is 0 (the
 * 24-hour ones included); when none says 0, x-rate-limit-reset; when that
 * is missing or malformed, XERR_DEFAULT_WAIT_MS.  A reset in the past
 * waits 0, one too far ahead XERR_MAX_WAIT_MS; then 1 s + rnd x
 * XERR_JITTER_MS is added (rnd in [0, 1), clamped).
 */
uint64_t xerr_rate_limit_wait_ms(const struct xerr_limits *l, long long now,
                                 double rnd);

#endif
