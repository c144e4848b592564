/*
 * once.c: the --once command.  Same generation, same steps as the daemon,
 * on a one-shot loop that ends when the date's jobs have.
 */
#include <stdio.h>
#include <time.h>

#include "context.h"
#include "core/cfg.h"
#include "core/tz.h"
#include "generate.h"
#include "once.h"
#include "oneshot.h"

struct once {
    char date[11];
    int rc;
};

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
}

static void
start(struct context *ctx, void *arg)
{
    struct once *o = arg;

    if (o->date[0] == '\0')
        tz_date(ctx->cfg->schedule.timezone, time(NULL), o->date);
    generate_start(ctx, o->date, on_generated, NULL, o);
}

int
once_run(struct cfg *cfg, struct calendar *cal, const char *date)
{
    struct once o = {.rc = 1};

    snprintf(o.date, sizeof(o.date), "%s", date ? date : "");
    if (oneshot_run(cfg, cal, start, &o) != 0)
        return 1;
    return o.rc;
}
