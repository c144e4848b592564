/*
 * logemit: writes one log record through core/log.c with every context
 * field set from the command line, so tests can read it back from a real
 * journald.  usage: logemit journal|stderr|auto MESSAGE [FIELD=VALUE...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static void
set_field(struct log_ctx *ctx, const char *name, const char *value)
{
    if (strcmp(name, "JOB_ID") == 0)
        ctx->job_id = value;
    else if (strcmp(name, "NATIONAL_DAY") == 0)
        ctx->national_day = value;
    else if (strcmp(name, "S3_KEY") == 0)
        ctx->s3_key = value;
    else if (strcmp(name, "HTTP_METHOD") == 0)
        ctx->http_method = value;
    else if (strcmp(name, "URL") == 0)
        ctx->url = value;
    else if (strcmp(name, "TWEET_ID") == 0)
        ctx->tweet_id = value;
    else if (strcmp(name, "REQUEST_ID") == 0)
        ctx->request_id = value;
    else if (strcmp(name, "HTTP_STATUS") == 0)
        ctx->http_status = atoi(value);
    else if (strcmp(name, "DURATION_MS") == 0)
        ctx->duration_ms = atol(value);
    else if (strcmp(name, "ATTEMPT") == 0)
        ctx->attempt = atoi(value);
    else
        fprintf(stderr, "logemit: unknown field %s\n", name);
}

int
main(int argc, char **argv)
{
    struct log_ctx ctx = {0};
    enum log_target target = LOG_TARGET_AUTO;

    if (argc < 3) {
        fprintf(stderr, "usage: logemit journal|stderr|auto MESSAGE "
                        "[FIELD=VALUE...]\n");
        return 2;
    }
    if (strcmp(argv[1], "journal") == 0)
        target = LOG_TARGET_JOURNAL;
    else if (strcmp(argv[1], "stderr") == 0)
        target = LOG_TARGET_STDERR;
    for (int i = 3; i < argc; i++) {
        char *eq = strchr(argv[i], '=');

        if (eq == NULL)
            return 2;
        *eq = '\0';
        set_field(&ctx, argv[i], eq + 1);
    }
    log_init(target);
    log_warn(&ctx, "%s", argv[2]);
    return 0;
}
