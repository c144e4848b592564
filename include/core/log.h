/*
 * One logging call for the whole daemon: a level, a printf message and a
 * few structured fields.  Under systemd the fields go to journald natively
 * (so `journalctl JOB_ID=...` works); elsewhere they follow the message on
 * stderr as key=value.  Never pass a secret, a signature, an Authorization
 * header or a query string: URL fields are cut at '?' as a last defence.
 */
#ifndef SPOOKYD_CORE_LOG_H
#define SPOOKYD_CORE_LOG_H

#include <stddef.h>
#include <syslog.h>

/* Context of one event.  Zero or NULL members are left out of the record. */
struct log_ctx {
    const char *job_id;       /* JOB_ID */
    const char *national_day; /* NATIONAL_DAY */
    const char *s3_key;       /* S3_KEY */
    const char *http_method;  /* HTTP_METHOD */
    const char *url;          /* URL, query string removed */
    const char *tweet_id;     /* TWEET_ID */
    const char *request_id;   /* REQUEST_ID (x-amz-request-id, ...) */
    int http_status;          /* HTTP_STATUS */
    long duration_ms;         /* DURATION_MS */
    int attempt;              /* ATTEMPT */
};

enum log_target {
    LOG_TARGET_AUTO,   /* journal if stderr is the journal, else stderr */
    LOG_TARGET_STDERR,
    LOG_TARGET_JOURNAL,
};

/* Choose where records go.  AUTO compares $JOURNAL_STREAM with stderr. */
void log_init(enum log_target target);

/* Records below prio (LOG_ERR..LOG_DEBUG) are dropped. */
void log_set_level(int prio);

/* True when a record at prio would be written. */
int log_enabled(int prio);

/* "debug", "info", "notice", "warning", "err" (also "error") to a syslog
 * priority; -1 for anything else. */
int log_level_parse(const char *name);

/* The name log_level_parse() accepts for prio. */
const char *log_level_name(int prio);

/* Write one record.  Use the macros below, which add the location and
 * skip formatting when the level is off.  errno is preserved. */
void log_msg(int prio, const struct log_ctx *ctx, const char *file,
             int line, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* One structured field as it will be written. */
struct log_field {
    const char *name;
    char value[512];
};

#define LOG_MAX_FIELDS 10

/* Fill out[] with ctx's non-empty fields in a fixed order; returns the
 * count.  Exposed for the tests and for both output formats. */
size_t log_fields(const struct log_ctx *ctx,
                  struct log_field out[LOG_MAX_FIELDS]);

/* Format a record as one stderr line, "level: message k=v k="v w"",
 * without a newline, into out (truncated to size). */
void log_format_line(char *out, size_t size, int prio, const char *msg,
                     const struct log_ctx *ctx);

#define LOG_AT_(prio, ctx, ...)                                              \
    do {                                                                     \
        if (log_enabled(prio))                                               \
            log_msg((prio), (ctx), __FILE__, __LINE__, __func__,             \
                    __VA_ARGS__);                                            \
    } while (0)

#define log_err(ctx, ...) LOG_AT_(LOG_ERR, ctx, __VA_ARGS__)
#define log_warn(ctx, ...) LOG_AT_(LOG_WARNING, ctx, __VA_ARGS__)
#define log_notice(ctx, ...) LOG_AT_(LOG_NOTICE, ctx, __VA_ARGS__)
#define log_info(ctx, ...) LOG_AT_(LOG_INFO, ctx, __VA_ARGS__)
#define log_debug(ctx, ...) LOG_AT_(LOG_DEBUG, ctx, __VA_ARGS__)

#endif
