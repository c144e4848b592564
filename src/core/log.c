/*
 * log.c: records to journald (native fields) or to stderr (key=value).
 * Field names are spelled here and nowhere else, so the set operators can
 * filter on stays in one place.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "core/log.h"

static int log_to_journal;
static int log_level = LOG_INFO;

static const struct {
    const char *name;
    int prio;
} log_levels[] = {
    {"err", LOG_ERR},         {"error", LOG_ERR},  {"warning", LOG_WARNING},
    {"notice", LOG_NOTICE},   {"info", LOG_INFO},  {"debug", LOG_DEBUG},
};

/* True when fd 2 is the stream systemd connected to the journal: the
 * manager sets JOURNAL_STREAM=<dev>:<ino> for exactly that file. */
static int
stderr_is_journal(void)
{
    const char *env = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if (env == NULL || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
        return 0;
    if (fstat(STDERR_FILENO, &st) == -1)
        return 0;
    return (unsigned long long)st.st_dev == dev &&
           (unsigned long long)st.st_ino == ino;
}

void
log_init(enum log_target target)
{
    switch (target) {
    case LOG_TARGET_JOURNAL:
        log_to_journal = 1;
        break;
    case LOG_TARGET_STDERR:
        log_to_journal = 0;
        break;
    case LOG_TARGET_AUTO:
        log_to_journal = stderr_is_journal();
        break;
    }
}

void
log_set_level(int prio)
{
    log_level = prio;
}

int
log_enabled(int prio)
{
    return prio <= log_level;
}

int
log_level_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
        if (strcasecmp(name, log_levels[i].name) == 0)
            return log_levels[i].prio;
    return -1;
}

const char *
log_level_name(int prio)
{
    switch (prio) {
    case LOG_EMERG:
    case LOG_ALERT:
    case LOG_CRIT:
    case LOG_ERR:
        return "err";
    case LOG_WARNING:
        return "warning";
    case LOG_NOTICE:
        return "notice";
    case LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}

static size_t
add_str(struct log_field *out, size_t n, const char *name, const char *v)
{
    if (v == NULL || *v == '\0')
        return n;
    out[n].name = name;
    snprintf(out[n].value, sizeof(out[n].value), "%s", v);
    return n + 1;
}

static size_t
add_long(struct log_field *out, size_t n, const char *name, long v)
{
    if (v == 0)
        return n;
    out[n].name = name;
    snprintf(out[n].value, sizeof(out[n].value), "%ld", v);
    return n + 1;
}

size_t
log_fields(const struct log_ctx *ctx, struct log_field out[LOG_MAX_FIELDS])
{
    size_t n = 0;

    if (ctx == NULL)
        return 0;
    n = add_str(out, n, "JOB_ID", ctx->job_id);
    n = add_str(out, n, "NATIONAL_DAY", ctx->national_day);
    n = add_str(out, n, "S3_KEY", ctx->s3_key);
    n = add_str(out, n, "HTTP_METHOD", ctx->http_method);
    if (ctx->url != NULL && *ctx->url != '\0') {
        /* A query string may carry a presigned signature or a token. */
        out[n].name = "URL";
        snprintf(out[n].value, sizeof(out[n].value), "%.*s",
                 (int)strcspn(ctx->url, "?#"), ctx->url);
        n++;
    }
    n = add_long(out, n, "HTTP_STATUS", ctx->http_status);
    n = add_long(out, n, "DURATION_MS", ctx->duration_ms);
    n = add_str(out, n, "TWEET_ID", ctx->tweet_id);
    n = add_long(out, n, "ATTEMPT", ctx->attempt);
    n = add_str(out, n, "REQUEST_ID", ctx->request_id);
    return n;
}

/* Append v to out, quoted when it holds a space, quote or control byte,
 * so a line stays one line and splits back into the same fields. */
static void
append_value(char *out, size_t size, size_t *pos, const char *v)
{
    int quote = *v == '\0' || strpbrk(v, " \"\\=") != NULL;

    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            quote = 1;
    if (quote && *pos + 1 < size)
        out[(*pos)++] = '"';
    for (const unsigned char *p = (const unsigned char *)v;
         *p && *pos + 4 < size; p++) {
        if (*p == '"' || *p == '\\') {
            out[(*pos)++] = '\\';
            out[(*pos)++] = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            *pos += (size_t)snprintf(out + *pos, size - *pos, "\\x%02x",
                                     *p);
        } else {
            out[(*pos)++] = (char)*p;
        }
    }
    if (quote && *pos + 1 < size)
        out[(*pos)++] = '"';
    out[*pos] = '\0';
}

void
log_format_line(char *out, size_t size, int prio, const char *msg,
                const struct log_ctx *ctx)
{
    struct log_field f[LOG_MAX_FIELDS];
    size_t n = log_fields(ctx, f);
    size_t pos;
    int w;

    if (size == 0)
        return;
    w = snprintf(out, size, "%s: %s", log_level_name(prio), msg);
    pos = w < 0 ? 0 : (size_t)w >= size ? size - 1 : (size_t)w;
    for (size_t i = 0; i < n && pos + 2 < size; i++) {
        w = snprintf(out + pos, size - pos, " %s=", f[i].name);
        if (w < 0 || (size_t)w >= size - pos) {
            out[pos] = '\0';
            break;
        }
        pos += (size_t)w;
        append_value(out, size, &pos, f[i].value);
    }
}

static void
write_journal(int prio, const char *msg, const struct log_ctx *ctx,
              const char *file, int line, const char *func)
{
    struct log_field f[LOG_MAX_FIELDS];
    char fields[LOG_MAX_FIELDS][600];
    char code_file[512], code_line[32], prio_s[32];
    char *message;
    struct iovec iov[LOG_MAX_FIELDS + 3];
    size_t n = log_fields(ctx, f), k = 0;

    message = malloc(strlen(msg) + sizeof("MESSAGE="));
    if (message == NULL)
        return;
    strcpy(message, "MESSAGE=");
    strcat(message, msg);
    snprintf(prio_s, sizeof(prio_s), "PRIORITY=%d", prio);
    iov[k++] = (struct iovec){message, strlen(message)};
    iov[k++] = (struct iovec){prio_s, strlen(prio_s)};
    iov[k++] = (struct iovec){"SYSLOG_IDENTIFIER=spookyd", 25};
    for (size_t i = 0; i < n; i++) {
        snprintf(fields[i], sizeof(fields[i]), "%s=%s", f[i].name,
                 f[i].value);
        iov[k++] = (struct iovec){fields[i], strlen(fields[i])};
    }
    snprintf(code_file, sizeof(code_file), "CODE_FILE=%s", file);
    snprintf(code_line, sizeof(code_line), "CODE_LINE=%d", line);
    sd_journal_sendv_with_location(code_file, code_line, func, iov, (int)k);
    free(message);
}

static void
write_stderr(int prio, const char *msg, const struct log_ctx *ctx)
{
    char line[4096];
    char stamp[32] = "";
    struct timespec ts;
    struct tm tm;

    log_format_line(line, sizeof(line), prio, msg, ctx);
    clock_gettime(CLOCK_REALTIME, &ts);
    if (gmtime_r(&ts.tv_sec, &tm) != NULL)
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s spookyd[%ld] %s\n", stamp, (long)getpid(), line);
}

void
log_msg(int prio, const struct log_ctx *ctx, const char *file, int line,
        const char *func, const char *fmt, ...)
{
    int saved = errno;
    char msg[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (log_to_journal)
        write_journal(prio, msg, ctx, file, line, func);
    else
        write_stderr(prio, msg, ctx);
    errno = saved;
}
