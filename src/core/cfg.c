/*
 * cfg.c: spookyd.conf into a struct cfg.  Every key is one row of
 * cfg_keys[]; defaults go through the same setters as file values, so a
 * default can never bypass validation.  All problems are reported in one
 * pass as "path:line: message", OpenBSD-style.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/cfg.h"
#include "core/cfg_value.h"
#include "core/ini.h"
#include "core/mem.h"

#define CFG_MAX_BYTES (1024 * 1024)

/* One row of cfg_keys[]: section, key, type, field, default, then any of
 * .required, .min, .max, .choices. */
#define KEY(sec, name, kind, member, dflt, ...)                              \
    {                                                                        \
        .section = (sec), .key = (name), .type = (kind),                     \
        .offset = offsetof(struct cfg, member), .def = (dflt), __VA_ARGS__   \
    }

static const char *const formats[] = {"png", "jpeg", "webp", NULL};
static const char *const qualities[] = {"auto", "low",   "medium", "high",
                                        "xhigh", "max", NULL};

static const struct cfg_key cfg_keys[] = {
    KEY("daemon", "log_level", CFG_LEVEL, daemon.log_level, "info"),
    KEY("daemon", "max_parallel", CFG_INT, daemon.max_parallel, "4",
        .min = 1, .max = 64),

    KEY("schedule", "cron", CFG_CRON, schedule.cron_expr,
        "0 8 * * mon-fri"),
    KEY("schedule", "timezone", CFG_TZ, schedule.timezone,
        "America/New_York"),
    KEY("schedule", "catch_up", CFG_DURATION, schedule.catch_up_ms, "6h"),

    KEY("calendar", "source", CFG_SOURCE, calendar.source,
        SPOOKYD_SYSCONFDIR "/spookyd/national-days.json"),
    KEY("calendar", "prompt", CFG_TEMPLATE, calendar.prompt, NULL),
    KEY("calendar", "caption", CFG_TEMPLATE, calendar.caption,
        "National {day} Day! {hashtag}"),
    KEY("calendar", "alt_text", CFG_TEMPLATE, calendar.alt_text,
        "A spooky illustration celebrating National {day} Day."),

    KEY("openai", "api_key", CFG_SECRET, openai.api_key,
        "env:OPENAI_API_KEY"),
    KEY("openai", "base_url", CFG_URL, openai.base_url, NULL),
    KEY("openai", "model", CFG_MODEL, openai.model, "gpt-image-2"),
    KEY("openai", "size", CFG_SIZE, openai.size, "1024x1024"),
    KEY("openai", "quality", CFG_CHOICE, openai.quality, "high",
        .choices = qualities),
    KEY("openai", "output_format", CFG_CHOICE, openai.output_format, "png",
        .choices = formats),
    KEY("openai", "output_compression", CFG_INT,
        openai.output_compression, "-1", .min = -1, .max = 100),
    KEY("openai", "timeout", CFG_DURATION, openai.timeout_ms, "300s",
        .min = 1000),

    KEY("aws", "region", CFG_STRING, aws.region, NULL),
    KEY("aws", "bucket", CFG_STRING, aws.bucket, NULL, .required = 1),
    KEY("aws", "prefix", CFG_STRING, aws.prefix, "images/"),
    KEY("aws", "kms_key_id", CFG_STRING, aws.kms_key_id, NULL),
    KEY("aws", "cache_control", CFG_STRING, aws.cache_control,
        "no-store, no-cache, must-revalidate, max-age=0"),
    KEY("aws", "table", CFG_STRING, aws.table, NULL, .required = 1),
    KEY("aws", "retention", CFG_INT, aws.retention_days, "0", .min = 0,
        .max = 36500),
    KEY("aws", "s3_endpoint", CFG_URL, aws.s3_endpoint, NULL),
    KEY("aws", "dynamodb_endpoint", CFG_URL, aws.dynamodb_endpoint, NULL),
    KEY("aws", "secretsmanager_endpoint", CFG_URL,
        aws.secretsmanager_endpoint, NULL),
    KEY("aws", "s3_path_style", CFG_BOOL, aws.s3_path_style, "no"),

    KEY("x", "credentials", CFG_SECRET, x.credentials, NULL,
        .required = 1),
    KEY("x", "api_base_url", CFG_URL, x.api_base_url, "https://api.x.com"),
    KEY("x", "poll_interval", CFG_DURATION, x.poll_interval_ms, "60s",
        .min = 1000),
    KEY("x", "post_spacing", CFG_DURATION, x.post_spacing_ms, "0"),
    KEY("x", "max_attempts", CFG_INT, x.max_attempts, "5", .min = 1,
        .max = 100),
    KEY("x", "review", CFG_BOOL, x.review, "no"),
};

#define NKEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

static const char *const cfg_sections[] = {"daemon", "schedule", "calendar",
                                           "openai", "aws",      "x"};

#define NSECTIONS (sizeof(cfg_sections) / sizeof(cfg_sections[0]))

struct cfg_load {
    struct cfg *cfg;
    const char *path;
    struct buf *errors;
    int nerrors;
    int last_line;
    int key_line[NKEYS];          /* where each key was set, 0: unset */
    int section_line[NSECTIONS];  /* first header of each section */
    int in_known_section;
};

static void
report(struct cfg_load *ld, int line, const char *msg)
{
    buf_printf(ld->errors, "%s:%d: %s\n", ld->path, line, msg);
    ld->nerrors++;
}

static void
on_syntax_error(void *arg, int line, const char *msg)
{
    report(arg, line, msg);
}

static int
find_section(const char *name)
{
    for (size_t i = 0; i < NSECTIONS; i++)
        if (strcmp(cfg_sections[i], name) == 0)
            return (int)i;
    return -1;
}

static void
on_section(struct cfg_load *ld, int line, const char *section)
{
    int i = find_section(section);
    char msg[ERR_LEN];

    ld->in_known_section = i >= 0;
    if (i < 0) {
        snprintf(msg, sizeof(msg), "unknown section [%s]", section);
        report(ld, line, msg);
    } else if (ld->section_line[i] == 0) {
        ld->section_line[i] = line;
    }
}

static void
on_key(struct cfg_load *ld, int line, const char *section, const char *key,
       const char *value)
{
    char msg[ERR_LEN + 128], err[ERR_LEN];

    for (size_t i = 0; i < NKEYS; i++) {
        const struct cfg_key *k = &cfg_keys[i];

        if (strcmp(k->section, section) != 0 || strcmp(k->key, key) != 0)
            continue;
        if (ld->key_line[i] != 0) {
            snprintf(msg, sizeof(msg), "duplicate key '%s' in [%s] "
                     "(first set on line %d)", key, section,
                     ld->key_line[i]);
            report(ld, line, msg);
            return;
        }
        ld->key_line[i] = line;
        if (cfg_value_set(ld->cfg, k, value, err) != 0) {
            snprintf(msg, sizeof(msg), "%s: %s", key, err);
            report(ld, line, msg);
        }
        return;
    }
    snprintf(msg, sizeof(msg), "unknown key '%s' in [%s]", key, section);
    report(ld, line, msg);
}

static int
on_entry(void *arg, int line, const char *section, const char *key,
         const char *value)
{
    struct cfg_load *ld = arg;

    if (key == NULL)
        on_section(ld, line, section);
    else if (ld->in_known_section)
        on_key(ld, line, section, key, value);
    return 0;
}

/* Defaults for keys the file left out, and required keys it forgot. */
static void
apply_defaults(struct cfg_load *ld)
{
    char msg[ERR_LEN + 128], err[ERR_LEN];

    for (size_t i = 0; i < NKEYS; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        int sline = ld->section_line[find_section(k->section)];

        if (ld->key_line[i] != 0)
            continue;
        if (k->required) {
            snprintf(msg, sizeof(msg), "missing required key '%s' in [%s]",
                     k->key, k->section);
            report(ld, sline ? sline : ld->last_line, msg);
        } else if (k->def != NULL &&
                   cfg_value_set(ld->cfg, k, k->def, err) != 0) {
            snprintf(msg, sizeof(msg), "%s: default: %s", k->key, err);
            report(ld, sline ? sline : ld->last_line, msg);
        }
    }
}

/* Keys whose default comes from the environment, as the SDKs do. */
static void
apply_env_defaults(struct cfg_load *ld)
{
    const char *env = getenv("OPENAI_BASE_URL");
    char err[ERR_LEN], msg[ERR_LEN + 64];

    if (ld->cfg->openai.base_url != NULL)
        return;
    if (env == NULL || *env == '\0')
        env = "https://api.openai.com/v1";
    if (cfg_value_set(ld->cfg, cfg_value_key("openai", "base_url"), env,
                      err) != 0) {
        snprintf(msg, sizeof(msg), "$OPENAI_BASE_URL: %s", err);
        report(ld, 0, msg);
    }
}

static int
count_lines(const char *text, size_t len)
{
    int n = 0;

    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    return len > 0 && text[len - 1] != '\n' ? n + 1 : n;
}

struct cfg *
cfg_parse(const char *path, const char *text, size_t len,
          struct buf *errors)
{
    struct cfg_load ld = {0};

    ld.cfg = mem_calloc(1, sizeof(*ld.cfg));
    ld.cfg->refs = 1;
    ld.cfg->path = mem_strdup(path);
    ld.path = path;
    ld.errors = errors;
    ld.last_line = count_lines(text, len);
    ini_parse(text, len, on_entry, on_syntax_error, &ld);
    apply_defaults(&ld);
    apply_env_defaults(&ld);
    if (ld.nerrors == 0)
        cfg_value_resolve_paths(ld.cfg);
    if (ld.nerrors > 0) {
        cfg_unref(ld.cfg);
        return NULL;
    }
    return ld.cfg;
}

static char *
read_file(const char *path, size_t *len, struct buf *errors)
{
    struct buf data;
    char chunk[8192];
    size_t n;
    FILE *f = fopen(path, "re");

    if (f == NULL) {
        buf_printf(errors, "%s:0: cannot open: %s\n", path,
                   strerror(errno));
        return NULL;
    }
    buf_init(&data);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        buf_append(&data, chunk, n);
        if (data.len > CFG_MAX_BYTES) {
            buf_printf(errors, "%s:0: file larger than %d bytes\n", path,
                       CFG_MAX_BYTES);
            fclose(f);
            buf_cleanup(&data);
            return NULL;
        }
    }
    if (ferror(f)) {
        buf_printf(errors, "%s:0: read error: %s\n", path, strerror(errno));
        fclose(f);
        buf_cleanup(&data);
        return NULL;
    }
    fclose(f);
    *len = data.len;
    return buf_steal(&data);
}

struct cfg *
cfg_load(const char *path, struct buf *errors)
{
    struct cfg *c;
    size_t len = 0;
    char *text = read_file(path, &len, errors);

    if (text == NULL)
        return NULL;
    c = cfg_parse(path, text, len, errors);
    free(text);
    return c;
}

struct cfg *
cfg_ref(struct cfg *c)
{
    c->refs++;
    return c;
}

void
cfg_unref(struct cfg *c)
{
    if (c == NULL || --c->refs > 0)
        return;
    for (size_t i = 0; i < NKEYS; i++)
        cfg_value_free(c, &cfg_keys[i]);
    free(c->path);
    free(c);
}

const struct cfg_key *
cfg_value_key(const char *section, const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(cfg_keys[i].section, section) == 0 &&
            strcmp(cfg_keys[i].key, key) == 0)
            return &cfg_keys[i];
    return NULL;
}
