/*
 * Typed config values: the row type of cfg.c's key table and the parsers
 * and setters for each kind of value (durations, booleans, secret
 * references, cron, time zone, templates, URLs).  Used by cfg.c; exposed
 * for the tests.
 */
#ifndef SPOOKYD_CORE_CFG_VALUE_H
#define SPOOKYD_CORE_CFG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct cfg;

enum cfg_type {
    CFG_STRING,   /* char *, empty means unset */
    CFG_INT,      /* int within [min, max] */
    CFG_BOOL,     /* bool */
    CFG_DURATION, /* int64_t milliseconds, at least min */
    CFG_CHOICE,   /* char *, one of choices */
    CFG_LEVEL,    /* int syslog priority */
    CFG_SECRET,   /* struct secret_ref */
    CFG_CRON,     /* char * expression, also sets schedule.cron */
    CFG_TZ,       /* char * IANA zone name */
    CFG_TEMPLATE, /* char *, checked placeholders */
    CFG_URL,      /* char * http(s) URL without trailing '/' */
    CFG_SOURCE,   /* char * path or s3://bucket/key */
    CFG_MODEL,    /* char * image model, retired ones refused */
    CFG_SIZE,     /* char * "auto" or WxH */
};

struct cfg_key {
    const char *section;
    const char *key;
    enum cfg_type type;
    size_t offset; /* of the field in struct cfg */
    const char *def; /* NULL: no default */
    int required;
    long min, max;
    const char *const *choices; /* NULL-terminated */
};

/* Parse value for key k into its field of c.  0, or ERR_FAIL with err
 * (which quotes the value unless the key holds a secret reference). */
int cfg_value_set(struct cfg *c, const struct cfg_key *k, const char *value,
                  char err[ERR_LEN]);

/* Free whatever cfg_value_set() allocated for k in c. */
void cfg_value_free(struct cfg *c, const struct cfg_key *k);

/* The table row for section/key, or NULL. */
const struct cfg_key *cfg_value_key(const char *section, const char *key);

/* Make relative paths (calendar source) relative to the config file. */
void cfg_value_resolve_paths(struct cfg *c);

/* Parse "90s", "5m", "1h", "250ms", "2d", "1h30m" or "0" into
 * milliseconds.  A bare number other than 0 is refused: the unit must be
 * explicit.  0 or ERR_FAIL. */
int cfg_value_duration(const char *s, int64_t *ms);

/* Parse yes/no/true/false/on/off/1/0 (any case).  0 or ERR_FAIL. */
int cfg_value_bool(const char *s, bool *out);

/* Format ms as the config writes it ("1h30m", "250ms", "0"). */
void cfg_value_format_duration(int64_t ms, char *out, size_t size);

#endif
