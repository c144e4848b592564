/*
 * once.c: the --once command.  Same generation, same steps as the daemon,
 * on a loop of its own that ends when the date's jobs have.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "context.h"
#include "core/cfg.h"
#include "core/http.h"
#include "core/log.h"
#include "core/tz.h"
#include "generate.h"
#include "once.h"

struct once {
    uv_loop_t loop;
    struct http *http;
    struct generate *gen;
    char date[11];
    int rc;
};

static void
on_none_live(void *arg)
{
    struct once *o = arg;

    http_free(o->http);
    o->http = NULL;
}

/* XXX: the tweet step is not wired in yet, so `uploaded` is where a job
 * stops here and --once reports success only in review mode. */
static int
job_done(const struct generate_outcome *out, int review)
{
    return out->status == JOB_POSTED || (review && out->status == JOB_HELD);
}

static void
on_generated(struct generate *g, void *arg)
{
    struct once *o = arg;
    const struct generate_outcome *out;
    size_t n = generate_outcomes(g, &out);
    int review = 0;

    o->rc = 0;
    for (size_t i = 0; i < n; i++) {
        review = review || out[i].status == JOB_HELD;
        printf("%s %s%s%s\n", out[i].job_id, job_status_name(out[i].status),
               *out[i].detail ? ": " : "", out[i].detail);
    }
    for (size_t i = 0; i < n; i++)
        if (!job_done(&out[i], review))
            o->rc = 1;
    if (n == 0)
        printf("%s: no national days in the calendar\n", o->date);
    fflush(stdout);
    generate_free(g);
    o->gen = NULL;
}

static void
on_built(struct context *ctx, const char *errors, void *arg)
{
    struct once *o = arg;
    const char *p = errors;

    if (ctx == NULL) {
        while (*p) {
            int n = (int)strcspn(p, "\n");

            log_err(NULL, "%.*s", n, p);
            p += n + (p[n] == '\n');
        }
        o->rc = 1;
        return;
    }
    if (o->date[0] == '\0')
        tz_date(ctx->cfg->schedule.timezone, time(NULL), o->date);
    o->gen = generate_start(ctx, o->date, on_generated, NULL, o);
    context_unref(ctx);
}

int
once_run(struct cfg *cfg, struct calendar *cal, const char *date)
{
    struct once o = {.rc = 1};

    snprintf(o.date, sizeof(o.date), "%s", date ? date : "");
    uv_loop_init(&o.loop);
    o.http = http_new(&o.loop);
    if (o.http == NULL) {
        log_err(NULL, "cannot create the HTTP engine");
        return 1;
    }
    context_on_none_live(on_none_live, &o);
    context_build(&o.loop, o.http, cfg, cal, on_built, &o);
    uv_run(&o.loop, UV_RUN_DEFAULT);
    uv_loop_close(&o.loop);
    return o.rc;
}
