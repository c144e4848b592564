/*
 * calendar.c: loads the national-days calendar (the old app's JSON) into
 * a month-by-day table, validating every field and naming the JSON path
 * of the first problem.  Does not read the clock or build prompts; relies
 * on jansson for syntax and UTF-8, and on template_slug() for names.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "calendar.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/template.h"

/* Longest key or name an error message quotes before cutting it. */
#define SHOW_MAX 40
#define READ_CHUNK 65536
#define STR(x) #x
#define XSTR(x) STR(x)

struct cal_date {
    char **names; /* in file order: job ids use the index */
    size_t n;
};

struct calendar {
    char *prompt;                 /* NULL when the file has none */
    struct cal_date dates[12][31]; /* [month - 1][mday - 1] */
    size_t date_count;
};

static const char *const month_names[12] = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december",
};

/* February allows 29: the calendar serves every year. */
static const int month_len[12] = {31, 29, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};

static void fail(char err[ERR_LEN], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(char err[ERR_LEN], const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, ERR_LEN, fmt, ap);
    va_end(ap);
}

/* Copy of s fit for an error message: control characters become '?' and
 * text past SHOW_MAX bytes is cut at a character boundary, then "...". */
static void
show(char out[SHOW_MAX + 4], const char *s)
{
    size_t n = strlen(s), i;

    if (n > SHOW_MAX) {
        n = SHOW_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        out[i] = (char)(c < 0x20 || c == 0x7F ? '?' : c);
    }
    strcpy(out + i, s[n] != '\0' ? "..." : "");
}

static int
month_index(const char *key)
{
    for (int m = 0; m < 12; m++)
        if (strcmp(key, month_names[m]) == 0)
            return m;
    return -1;
}

/* Error for a top-level key that is neither a month nor "Prompt", with a
 * hint for the likely mistakes: wrong case. */
static void
unknown_key(const char *key, char err[ERR_LEN])
{
    char k[SHOW_MAX + 4];

    show(k, key);
    if (strcasecmp(key, "Prompt") == 0) {
        fail(err, "%s: unknown key (the prefix key is \"Prompt\")", k);
        return;
    }
    for (int m = 0; m < 12; m++) {
        if (strcasecmp(key, month_names[m]) == 0) {
            fail(err, "%s: unknown month (write \"%s\")", k, month_names[m]);
            return;
        }
    }
    fail(err, "%s: unknown month", k);
}

/* Day-of-month key: decimal, no sign, no leading zero, within month m.
 * path is "month.key" as errors show it. */
static int
parse_mday(const char *path, const char *key, int m, char err[ERR_LEN])
{
    size_t len = strlen(key);

    if (len == 0 || strspn(key, "0123456789") != len) {
        fail(err, "%s: day must be a decimal number", path);
        return -1;
    }
    if (key[0] == '0' && len > 1) {
        fail(err, "%s: day must not have a leading zero", path);
        return -1;
    }
    if (len > 2 || atoi(key) < 1 || atoi(key) > month_len[m]) {
        fail(err, "%s: day out of range 1-%d", path, month_len[m]);
        return -1;
    }
    return atoi(key);
}

/* Problem with one name, or NULL.  prev holds the names before it. */
static const char *
name_problem(const char *name, size_t len, char *const *prev, size_t n)
{
    char *slug;
    int empty;

    if (len == 0)
        return "empty name";
    if (len > CALENDAR_MAX_NAME)
        return "name longer than " XSTR(CALENDAR_MAX_NAME) " bytes";
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7F)
            return "control character in name";
    if (name[0] == ' ' || name[len - 1] == ' ')
        return "leading or trailing space in name";
    slug = template_slug(name);
    empty = slug[0] == '\0';
    free(slug);
    if (empty)
        return "name has no letters or digits";
    for (size_t i = 0; i < n; i++)
        if (strcmp(prev[i], name) == 0)
            return "duplicate name";
    return NULL;
}

static int
parse_names(struct cal_date *d, const char *path, json_t *arr,
            char err[ERR_LEN])
{
    size_t i;
    json_t *v;
    const char *why;
    char nm[SHOW_MAX + 4];

    if (!json_is_array(arr)) {
        fail(err, "%s: expected an array of names", path);
        return -1;
    }
    if (json_array_size(arr) == 0 ||
        json_array_size(arr) > CALENDAR_MAX_NAMES) {
        fail(err, "%s: expected 1-%d names", path, CALENDAR_MAX_NAMES);
        return -1;
    }
    d->names = mem_calloc(json_array_size(arr), sizeof(*d->names));
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v)) {
            fail(err, "%s[%zu]: expected a string", path, i);
            return -1;
        }
        why = name_problem(json_string_value(v), json_string_length(v),
                           d->names, d->n);
        if (why != NULL) {
            show(nm, json_string_value(v));
            if (nm[0] == '\0')
                fail(err, "%s[%zu]: %s", path, i, why);
            else
                fail(err, "%s[%zu]: %s \"%s\"", path, i, why, nm);
            return -1;
        }
        d->names[d->n++] = mem_strdup(json_string_value(v));
    }
    return 0;
}

static int
parse_month(struct calendar *cal, int m, json_t *obj, char err[ERR_LEN])
{
    const char *key;
    json_t *v;
    int mday;
    char path[64], k[SHOW_MAX + 4];

    if (!json_is_object(obj)) {
        fail(err, "%s: expected an object", month_names[m]);
        return -1;
    }
    json_object_foreach(obj, key, v) {
        show(k, key);
        snprintf(path, sizeof(path), "%s.%s", month_names[m], k);
        mday = parse_mday(path, key, m, err);
        if (mday < 0)
            return -1;
        if (parse_names(&cal->dates[m][mday - 1], path, v, err) != 0)
            return -1;
        cal->date_count++;
    }
    return 0;
}

static int
parse_prompt(struct calendar *cal, json_t *v, char err[ERR_LEN])
{
    if (!json_is_string(v)) {
        fail(err, "Prompt: expected a string");
        return -1;
    }
    if (json_string_length(v) > CALENDAR_MAX_PROMPT) {
        fail(err, "Prompt: longer than %d bytes", CALENDAR_MAX_PROMPT);
        return -1;
    }
    cal->prompt = mem_strdup(json_string_value(v));
    return 0;
}

/* Walks the top level in document order, so the first problem in the
 * file is the one reported (jansson keeps insertion order). */
static int
parse_top(struct calendar *cal, json_t *root, char err[ERR_LEN])
{
    const char *key;
    json_t *v;
    int m;

    if (!json_is_object(root)) {
        fail(err, "top level: expected an object");
        return -1;
    }
    json_object_foreach(root, key, v) {
        if (strcmp(key, "Prompt") == 0) {
            if (parse_prompt(cal, v, err) != 0)
                return -1;
            continue;
        }
        m = month_index(key);
        if (m < 0) {
            unknown_key(key, err);
            return -1;
        }
        if (parse_month(cal, m, v, err) != 0)
            return -1;
    }
    return 0;
}

struct calendar *
calendar_parse(const char *json, size_t len, char err[ERR_LEN])
{
    json_t *root;
    json_error_t jerr;
    struct calendar *cal;

    if (len > CALENDAR_MAX_BYTES) {
        fail(err, "document is larger than %u bytes (4 MiB)",
             CALENDAR_MAX_BYTES);
        return NULL;
    }
    /* Duplicate keys would silently drop a month or a date. */
    root = json_loadb(json != NULL ? json : "", len, JSON_REJECT_DUPLICATES,
                      &jerr);
    if (root == NULL) {
        fail(err, "line %d column %d: %s", jerr.line, jerr.column,
             jerr.text);
        return NULL;
    }
    cal = mem_calloc(1, sizeof(*cal));
    if (parse_top(cal, root, err) != 0) {
        calendar_free(cal);
        cal = NULL;
    }
    json_decref(root);
    return cal;
}

/* Reads at most CALENDAR_MAX_BYTES + 1 bytes, so a huge or endless file
 * costs no more than that.  Fills err with the reason alone. */
static int
read_file(const char *path, struct buf *b, char err[ERR_LEN])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got = 1;

    if (fd < 0) {
        fail(err, "%s", strerror(errno));
        return -1;
    }
    while (got > 0 && b->len <= CALENDAR_MAX_BYTES) {
        buf_reserve(b, READ_CHUNK);
        got = read(fd, b->data + b->len, READ_CHUNK);
        if (got < 0 && errno == EINTR)
            got = 1;
        else if (got > 0)
            b->len += (size_t)got;
    }
    if (got < 0)
        fail(err, "%s", strerror(errno));
    else if (b->len > CALENDAR_MAX_BYTES)
        fail(err, "file is larger than %u bytes (4 MiB)",
             CALENDAR_MAX_BYTES);
    close(fd);
    return got < 0 || b->len > CALENDAR_MAX_BYTES ? -1 : 0;
}

struct calendar *
calendar_load_file(const char *path, char err[ERR_LEN])
{
    struct buf b;
    struct calendar *cal = NULL;
    char why[ERR_LEN];

    buf_init(&b);
    if (read_file(path, &b, why) == 0)
        cal = calendar_parse(buf_str(&b), b.len, why);
    if (cal == NULL)
        fail(err, "%s: %s", path, why); /* long messages are cut */
    buf_cleanup(&b);
    return cal;
}

void
calendar_free(struct calendar *cal)
{
    if (cal == NULL)
        return;
    for (int m = 0; m < 12; m++) {
        for (int d = 0; d < 31; d++) {
            for (size_t i = 0; i < cal->dates[m][d].n; i++)
                free(cal->dates[m][d].names[i]);
            free(cal->dates[m][d].names);
        }
    }
    free(cal->prompt);
    free(cal);
}

size_t
calendar_days(const struct calendar *cal, int month, int mday,
              const char *const **names)
{
    const struct cal_date *d;

    if (names != NULL)
        *names = NULL;
    if (cal == NULL || month < 1 || month > 12 || mday < 1 || mday > 31)
        return 0;
    d = &cal->dates[month - 1][mday - 1];
    if (names != NULL && d->n > 0)
        *names = (const char *const *)d->names;
    return d->n;
}

const char *
calendar_prompt_prefix(const struct calendar *cal)
{
    return cal != NULL ? cal->prompt : NULL;
}

size_t
calendar_date_count(const struct calendar *cal)
{
    return cal != NULL ? cal->date_count : 0;
}
