/*
 * cfg_value.c: one parser per kind of config value, and the setters that
 * store a parsed value into struct cfg.  Messages quote the offending
 * value so FILE:LINE errors are self-explaining, except for secret
 * references, which might be a secret pasted by mistake.
 */
#include <ctype.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/cfg.h"
#include "core/cfg_value.h"
#include "core/cron.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/secret.h"
#include "core/template.h"
#include "core/tz.h"

static const struct {
    const char *suffix;
    int64_t ms;
} duration_units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
};

int
cfg_value_duration(const char *s, int64_t *ms)
{
    int64_t total = 0;

    if (strcmp(s, "0") == 0) {
        *ms = 0;
        return 0;
    }
    if (*s == '\0')
        return ERR_FAIL;
    while (*s) {
        char *end;
        size_t i, n = sizeof(duration_units) / sizeof(duration_units[0]);
        unsigned long long v;

        if (!isdigit((unsigned char)*s))
            return ERR_FAIL;
        v = strtoull(s, &end, 10);
        for (i = 0; i < n; i++) {
            size_t len = strlen(duration_units[i].suffix);

            /* "ms" comes before "m" in the table, so "5ms" is not
             * read as 5 minutes followed by junk. */
            if (strncmp(end, duration_units[i].suffix, len) == 0)
                break;
        }
        if (i == n ||
            v > (unsigned long long)(INT64_MAX / duration_units[i].ms / 2))
            return ERR_FAIL;
        total += (int64_t)v * duration_units[i].ms;
        if (total < 0 || total > INT64_MAX / 2)
            return ERR_FAIL;
        s = end + strlen(duration_units[i].suffix);
    }
    *ms = total;
    return 0;
}

void
cfg_value_format_duration(int64_t ms, char *out, size_t size)
{
    size_t pos = 0;

    if (ms == 0) {
        snprintf(out, size, "0");
        return;
    }
    out[0] = '\0';
    for (int i = 4; i >= 0 && ms > 0; i--) {
        int64_t unit = duration_units[i].ms;
        int w;

        if (ms < unit)
            continue;
        w = snprintf(out + pos, size - pos, "%" PRId64 "%s", ms / unit,
                     duration_units[i].suffix);
        if (w < 0 || (size_t)w >= size - pos)
            return;
        pos += (size_t)w;
        ms %= unit;
    }
}

int
cfg_value_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return ERR_FAIL;
}

static int
parse_int(const char *s, const struct cfg_key *k, int *out,
          char err[ERR_LEN])
{
    char *end;
    long v;

    v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < k->min || v > k->max) {
        snprintf(err, ERR_LEN, "'%s' is not a whole number from %ld to %ld",
                 s, k->min, k->max);
        return ERR_FAIL;
    }
    *out = (int)v;
    return 0;
}

static int
check_choice(const char *s, const struct cfg_key *k, char err[ERR_LEN])
{
    size_t pos;

    for (size_t i = 0; k->choices[i]; i++)
        if (strcmp(s, k->choices[i]) == 0)
            return 0;
    pos = (size_t)snprintf(err, ERR_LEN, "'%s' is not one of", s);
    for (size_t i = 0; k->choices[i] && pos < ERR_LEN; i++)
        pos += (size_t)snprintf(err + pos, ERR_LEN - pos, "%s%s",
                                i ? ", " : " ", k->choices[i]);
    return ERR_FAIL;
}

static int
check_url(const char *s, char err[ERR_LEN])
{
    const char *host;

    if (strncmp(s, "https://", 8) == 0)
        host = s + 8;
    else if (strncmp(s, "http://", 7) == 0)
        host = s + 7;
    else
        host = NULL;
    if (host == NULL || *host == '\0' || *host == '/' ||
        strpbrk(s, " \t?#") != NULL) {
        snprintf(err, ERR_LEN, "'%s' is not an http:// or https:// URL "
                               "without query", s);
        return ERR_FAIL;
    }
    return 0;
}

static int
check_source(const char *s, char err[ERR_LEN])
{
    const char *slash;

    if (strncmp(s, "s3://", 5) == 0) {
        slash = strchr(s + 5, '/');
        if (slash == NULL || slash == s + 5 || slash[1] == '\0') {
            snprintf(err, ERR_LEN, "'%s' is not s3://bucket/key", s);
            return ERR_FAIL;
        }
        return 0;
    }
    if (*s == '\0' || strstr(s, "://") != NULL) {
        snprintf(err, ERR_LEN, "'%s' is neither a file path nor "
                               "s3://bucket/key", s);
        return ERR_FAIL;
    }
    return 0;
}

static int
check_model(const char *s, char err[ERR_LEN])
{
    static const char *const retired[] = {"dall-e-2", "dall-e-3",
                                          "gpt-image-1"};

    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-", *p)) {
            snprintf(err, ERR_LEN, "'%s' is not a model name", s);
            return ERR_FAIL;
        }
    for (size_t i = 0; i < 3; i++)
        if (strcmp(s, retired[i]) == 0) {
            snprintf(err, ERR_LEN, "model '%s' has been shut down by "
                     "OpenAI; use a GPT image model such as gpt-image-2",
                     s);
            return ERR_FAIL;
        }
    if (*s == '\0') {
        snprintf(err, ERR_LEN, "model must not be empty");
        return ERR_FAIL;
    }
    return 0;
}

static int
check_size(const char *s, char err[ERR_LEN])
{
    unsigned w, h;
    char tail;

    if (strcmp(s, "auto") == 0)
        return 0;
    if (sscanf(s, "%ux%u%c", &w, &h, &tail) != 2 || w < 16 || h < 16 ||
        w > 8192 || h > 8192) {
        snprintf(err, ERR_LEN, "'%s' is not 'auto' or WIDTHxHEIGHT", s);
        return ERR_FAIL;
    }
    return 0;
}

/* Checks for the string-valued types; 0 when s is acceptable. */
static int
check_string(const struct cfg_key *k, const char *s, char err[ERR_LEN])
{
    switch (k->type) {
    case CFG_CHOICE:
        return check_choice(s, k, err);
    case CFG_TZ:
        return tz_check(s, err);
    case CFG_TEMPLATE:
        return template_check(s, err);
    case CFG_URL:
        return check_url(s, err);
    case CFG_SOURCE:
        return check_source(s, err);
    case CFG_MODEL:
        return check_model(s, err);
    case CFG_SIZE:
        return check_size(s, err);
    default:
        return 0;
    }
}

static int
set_string(struct cfg *c, const struct cfg_key *k, char **field,
           const char *value, char err[ERR_LEN])
{
    size_t len = strlen(value);

    if (*value == '\0') {
        if (k->required) {
            snprintf(err, ERR_LEN, "must not be empty");
            return ERR_FAIL;
        }
        return 0; /* empty means "not set" */
    }
    if (check_string(k, value, err) != 0)
        return ERR_FAIL;
    free(*field);
    *field = mem_strdup(value);
    /* URLs are joined with paths later: keep them without a final '/'. */
    if (k->type == CFG_URL)
        while (len > 0 && (*field)[len - 1] == '/')
            (*field)[--len] = '\0';
    (void)c;
    return 0;
}

static int
set_cron(struct cfg *c, char **field, const char *value, char err[ERR_LEN])
{
    struct cron *cron = cron_parse(value, err);

    if (cron == NULL)
        return ERR_FAIL;
    cron_free(c->schedule.cron);
    c->schedule.cron = cron;
    free(*field);
    *field = mem_strdup(value);
    return 0;
}

static int
set_secret(struct secret_ref *ref, const char *value, char err[ERR_LEN])
{
    struct secret_ref parsed;

    if (secret_ref_parse(value, &parsed, err) != 0)
        return ERR_FAIL;
    secret_ref_cleanup(ref);
    *ref = parsed;
    return 0;
}

int
cfg_value_set(struct cfg *c, const struct cfg_key *k, const char *value,
              char err[ERR_LEN])
{
    void *field = (char *)c + k->offset;
    int64_t ms;
    int prio;

    switch (k->type) {
    case CFG_INT:
        return parse_int(value, k, field, err);
    case CFG_BOOL:
        if (cfg_value_bool(value, field) == 0)
            return 0;
        snprintf(err, ERR_LEN, "'%s' is not yes/no/true/false/on/off",
                 value);
        return ERR_FAIL;
    case CFG_DURATION:
        if (cfg_value_duration(value, &ms) != 0 || ms < k->min) {
            snprintf(err, ERR_LEN, "'%s' is not a duration%s (e.g. 90s, "
                     "5m, 1h30m, 250ms)", value,
                     k->min ? " of at least 1s" : "");
            return ERR_FAIL;
        }
        *(int64_t *)field = ms;
        return 0;
    case CFG_LEVEL:
        if ((prio = log_level_parse(value)) < 0) {
            snprintf(err, ERR_LEN, "'%s' is not one of debug, info, "
                                   "notice, warning, err", value);
            return ERR_FAIL;
        }
        *(int *)field = prio;
        return 0;
    case CFG_SECRET:
        return set_secret(field, value, err);
    case CFG_CRON:
        return set_cron(c, field, value, err);
    default:
        return set_string(c, k, field, value, err);
    }
}

void
cfg_value_free(struct cfg *c, const struct cfg_key *k)
{
    void *field = (char *)c + k->offset;

    switch (k->type) {
    case CFG_INT:
    case CFG_BOOL:
    case CFG_DURATION:
    case CFG_LEVEL:
        return;
    case CFG_SECRET:
        secret_ref_cleanup(field);
        return;
    case CFG_CRON:
        cron_free(c->schedule.cron);
        c->schedule.cron = NULL;
        break;
    default:
        break;
    }
    free(*(char **)field);
    *(char **)field = NULL;
}

void
cfg_value_resolve_paths(struct cfg *c)
{
    char *dir, *copy, *joined;

    if (c->calendar.source == NULL || c->calendar.source[0] == '/' ||
        strncmp(c->calendar.source, "s3://", 5) == 0)
        return;
    copy = mem_strdup(c->path);
    dir = dirname(copy);
    joined = mem_printf("%s/%s", dir, c->calendar.source);
    free(copy);
    free(c->calendar.source);
    c->calendar.source = joined;
}
