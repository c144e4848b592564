/*
 * xerr.c: X API v2 problem+json parsing, classification and rate-limit
 * waits (docs/api-notes.md section 7).  Pure and silent; relies on jansson
 * for the JSON.  It does not decide retries: the client does that.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "x/xerr.h"

/* Copy s into out, truncated, with control characters made visible as
 * '?' so a server's text cannot break a log line. */
static void
xerr_copy(char *out, size_t size, const char *s)
{
    size_t i = 0;

    if (size == 0)
        return;
    if (s != NULL) {
        for (; s[i] != '\0' && i + 1 < size; i++)
            out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    }
    out[i] = '\0';
}

static const char *
xerr_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* "credits" from "https://api.x.com/2/problems/credits" (either host),
 * "blank" from "about:blank": the last segment of the path, query and
 * fragment dropped. */
static void
xerr_type_segment(char *out, size_t size, const char *uri)
{
    const char *start, *p;
    size_t n;

    out[0] = '\0';
    if (uri == NULL)
        return;
    n = strcspn(uri, "?#");
    while (n > 0 && uri[n - 1] == '/')
        n--;
    start = uri;
    for (p = uri; p < uri + n; p++)
        if (*p == '/' || *p == ':')
            start = p + 1;
    n -= (size_t)(start - uri);
    if (n + 1 > size)
        n = size - 1;
    memcpy(out, start, n);
    out[n] = '\0';
    xerr_copy(out, size, out);
}

/* Fill p from one JSON object carrying title/detail/type (or message);
 * 1 when it said anything. */
static int
xerr_from_object(json_t *o, struct xerr_problem *p)
{
    const char *title = xerr_str(o, "title"), *type = xerr_str(o, "type");
    const char *detail = xerr_str(o, "detail");
    json_t *status = json_object_get(o, "status");

    if (detail == NULL)
        detail = xerr_str(o, "message");
    if (title == NULL && type == NULL && detail == NULL)
        return 0;
    xerr_copy(p->title, sizeof(p->title), title);
    xerr_copy(p->detail, sizeof(p->detail), detail);
    xerr_type_segment(p->type, sizeof(p->type), type);
    if (json_is_integer(status))
        p->status = (long)json_integer_value(status);
    return 1;
}

/* invalid-request problems put the useful part in errors[0].message
 * ("media id 123 not found") under a generic detail: keep both. */
static void
xerr_add_error_message(struct xerr_problem *p, json_t *first)
{
    const char *msg = xerr_str(first, "message");
    size_t n = strlen(p->detail);

    if (msg == NULL || *msg == '\0' || strcmp(msg, p->detail) == 0)
        return;
    if (n == 0) {
        xerr_copy(p->detail, sizeof(p->detail), msg);
        return;
    }
    xerr_copy(p->detail + n, sizeof(p->detail) - n, " (");
    n = strlen(p->detail);
    xerr_copy(p->detail + n, sizeof(p->detail) - n, msg);
    n = strlen(p->detail);
    xerr_copy(p->detail + n, sizeof(p->detail) - n, ")");
}

int
xerr_parse(const char *body, size_t len, struct xerr_problem *p)
{
    json_t *root, *errors;
    int found = 0;

    memset(p, 0, sizeof(*p));
    if (body == NULL || len == 0)
        return ERR_FAIL;
    root = json_loadb(body, len, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return ERR_FAIL;
    }
    /* "errors" alone (a 200 with errors, or v1.1's {"errors":[{"code",
     * "message"}]}) is read only when the top level says nothing. */
    if (json_object_get(root, "title") != NULL ||
        json_object_get(root, "type") != NULL ||
        json_object_get(root, "detail") != NULL)
        found = xerr_from_object(root, p);
    errors = json_object_get(root, "errors");
    if (!found && json_is_array(errors) &&
        json_is_object(json_array_get(errors, 0)))
        found = xerr_from_object(json_array_get(errors, 0), p);
    else if (found)
        xerr_add_error_message(p, json_array_get(errors, 0));
    json_decref(root);
    if (!found)
        memset(p, 0, sizeof(*p));
    return found ? 0 : ERR_FAIL;
}

static int
xerr_type_is(const struct xerr_problem *p, const char *name)
{
    return p != NULL && strcmp(p->type, name) == 0;
}

static int
xerr_title_is(const struct xerr_problem *p, const char *title)
{
    return p != NULL && strcasecmp(p->title, title) == 0;
}

/* Classes the problem itself decides, whatever the status; -1 if none. */
static int
xerr_classify_problem(const struct xerr_problem *p)
{
    if (p == NULL)
        return -1;
    /* X's wording: "You are not allowed to create a Tweet with duplicate
     * content." */
    if (strstr(p->detail, "duplicate content") != NULL)
        return XERR_DUPLICATE;
    if (xerr_type_is(p, "credits") || xerr_type_is(p, "usage-capped") ||
        xerr_title_is(p, "CreditsDepleted"))
        return XERR_CREDITS;
    if (xerr_type_is(p, "rate-limit-exceeded"))
        return XERR_RATE_LIMITED;
    if (xerr_type_is(p, "client-forbidden") ||
        xerr_type_is(p, "not-authorized-for-resource") ||
        xerr_title_is(p, "Unauthorized"))
        return XERR_AUTH;
    return -1;
}

enum xerr_class
xerr_classify(long http_status, const struct xerr_problem *p)
{
    int cls = xerr_classify_problem(p);
    int has_problem = p != NULL && (p->type[0] != '\0' || p->title[0] != '\0' ||
                                    p->detail[0] != '\0');

    if (cls >= 0)
        return (enum xerr_class)cls;
    if (http_status >= 200 && http_status <= 299)
        return has_problem ? XERR_PERMANENT : XERR_NONE;
    if (http_status == 402)
        return XERR_CREDITS;
    if (http_status == 429)
        return XERR_RATE_LIMITED;
    if (http_status == 401)
        return XERR_AUTH;
    if (http_status == 408 || (http_status >= 500 && http_status <= 599 &&
                               http_status != 501 && http_status != 505))
        return XERR_TRANSIENT;
    return XERR_PERMANENT;
}

const char *
xerr_class_name(enum xerr_class c)
{
    switch (c) {
    case XERR_NONE:
        return "ok";
    case XERR_RATE_LIMITED:
        return "rate limited";
    case XERR_CREDITS:
        return "credits depleted";
    case XERR_AUTH:
        return "credentials refused";
    case XERR_DUPLICATE:
        return "duplicate content";
    case XERR_TRANSIENT:
        return "transient failure";
    case XERR_PERMANENT:
        return "request refused";
    }
    return "unknown";
}

void
xerr_describe(long http_status, const struct xerr_problem *p, char *out,
              size_t size)
{
    const char *title = p != NULL ? p->title : "";
    const char *detail = p != NULL ? p->detail : "";

    if (size == 0)
        return;
    if (strcmp(title, detail) == 0)
        title = "";
    snprintf(out, size, "HTTP %ld%s%s%s%s", http_status, *title ? " " : "",
             title, *detail ? ": " : "", detail);
}

/* A Unix time or count: 1-15 decimal digits and nothing else. */
static int
xerr_number(const char *s, long long *out)
{
    long long v = 0;
    size_t n;

    if (s == NULL)
        return -1;
    s += strspn(s, " \t");
    n = strspn(s, "0123456789");
    if (n == 0 || n > 15 || s[n + strspn(s + n, " \t")] != '\0')
        return -1;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    *out = v;
    return 0;
}

/* Raise *latest to reset when that limit is used up. */
static void
xerr_exhausted(const char *reset, const char *remaining, long long *latest)
{
    long long at, left;

    if (xerr_number(remaining, &left) == 0 && left == 0 &&
        xerr_number(reset, &at) == 0 && at > *latest)
        *latest = at;
}

uint64_t
xerr_rate_limit_wait_ms(const struct xerr_limits *l, long long now, double rnd)
{
    long long reset = 0;
    uint64_t wait;

    if (l != NULL) {
        xerr_exhausted(l->reset, l->remaining, &reset);
        xerr_exhausted(l->user_day_reset, l->user_day_remaining, &reset);
        xerr_exhausted(l->app_day_reset, l->app_day_remaining, &reset);
        if (reset == 0 && xerr_number(l->reset, &reset) != 0)
            reset = 0;
    }
    if (reset == 0)
        wait = XERR_DEFAULT_WAIT_MS;
    else if (reset <= now)
        wait = 0;
    else if ((uint64_t)(reset - now) > XERR_MAX_WAIT_MS / 1000)
        wait = XERR_MAX_WAIT_MS;
    else
        wait = (uint64_t)(reset - now) * 1000;
    if (!(rnd > 0.0)) /* also NaN */
        rnd = 0.0;
    if (rnd > 1.0)
        rnd = 1.0;
    return wait + 1000 + (uint64_t)(rnd * XERR_JITTER_MS);
}
