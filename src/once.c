/*
 * once.c: the --once command.  The generate step for one date, then the
 * tweet step for each job it left `uploaded`, on a one-shot loop that
 * ends when every job of the date has.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "context.h"
#include "core/cfg.h"
#include "core/mem.h"
#include "core/tz.h"
#include "generate.h"
#include "once.h"
#include "oneshot.h"
#include "tweet.h"

struct line {
    char *job_id;
    enum job_status status;
    char *detail;
};

struct once {
    char date[11];
    int review;
    struct line *lines;
    size_t n;
    unsigned posting;
    struct tweet *tweet;
    uv_timer_t done; /* frees the tweet step outside its own callback */
    int rc;
};

static void
set_line(struct line *l, enum job_status st, const char *detail)
{
    l->status = st;
    free(l->detail);
    l->detail = mem_strdup(detail ? detail : "");
}

static void
on_done_closed(uv_handle_t *h)
{
    struct once *o = h->data;

    o->rc = 0;
    for (size_t i = 0; i < o->n; i++) {
        struct line *l = &o->lines[i];

        printf("%s %s%s%s\n", l->job_id, job_status_name(l->status),
               *l->detail ? ": " : "", l->detail);
        if (l->status != JOB_POSTED &&
            !(o->review && l->status == JOB_HELD))
            o->rc = 1;
        free(l->job_id);
        free(l->detail);
    }
    if (o->n == 0)
        printf("%s: no national days in the calendar\n", o->date);
    fflush(stdout);
    free(o->lines);
}

static void
finish(uv_timer_t *t)
{
    struct once *o = t->data;

    tweet_free(o->tweet);
    o->tweet = NULL;
    uv_close((uv_handle_t *)&o->done, on_done_closed);
}

static void
on_posted(const char *job_id, enum job_status st, const char *detail,
          void *arg)
{
    struct once *o = arg;

    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->lines[i].job_id, job_id) == 0)
            set_line(&o->lines[i], st == JOB_UNKNOWN ? JOB_UPLOADED : st,
                     detail);
    if (--o->posting == 0)
        uv_timer_start(&o->done, finish, 0, 0);
}

static void
on_generated(struct generate *g, void *arg)
{
    struct once *o = arg;
    const struct generate_outcome *out;
    size_t n = generate_outcomes(g, &out);

    o->lines = mem_calloc(n ? n : 1, sizeof(*o->lines));
    o->n = n;
    for (size_t i = 0; i < n; i++) {
        o->lines[i].job_id = mem_strdup(out[i].job_id);
        set_line(&o->lines[i], out[i].status, out[i].detail);
        o->review = o->review || out[i].status == JOB_HELD;
    }
    o->posting++; /* held until every post has started */
    for (size_t i = 0; i < n; i++) {
        /* posting: a crashed run's post may be taken over */
        if (out[i].status != JOB_UPLOADED && out[i].status != JOB_POSTING)
            continue;
        o->posting++;
        if (tweet_job(o->tweet, out[i].job_id, generate_timestamp(g)) != 0)
            o->posting--;
    }
    generate_free(g);
    on_posted("", JOB_UNKNOWN, "", o);
}

static void
start(struct context *ctx, void *arg)
{
    struct once *o = arg;

    if (o->date[0] == '\0')
        tz_date(ctx->cfg->schedule.timezone, time(NULL), o->date);
    o->review = ctx->cfg->x.review;
    o->tweet = tweet_new(ctx->loop, on_posted, NULL, o);
    tweet_set_context(o->tweet, ctx, 0);
    uv_timer_init(ctx->loop, &o->done);
    o->done.data = o;
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
