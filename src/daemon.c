/*
 * daemon.c: the loop's lifecycle, in chrony's order: handlers up, build
 * the first generation (config, AWS client, secrets, calendar), READY,
 * run, STOPPING, close every handle, run the loop dry, close it.  Reload
 * builds a complete new generation before touching the running one
 * (bgpd): a broken file or an unreadable secret changes nothing.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "calendar.h"
#include "context.h"
#include "core/cfg.h"
#include "core/http.h"
#include "core/log.h"
#include "core/notify.h"
#include "core/mem.h"
#include "core/tz.h"
#include "daemon.h"
#include "generate.h"
#include "schedule.h"
#include "tweet.h"

#define NSIGNALS 4

/* One generate-step run in flight (a slot, a catch-up or SIGUSR1). */
struct run {
    struct daemon *d;
    struct generate *gen;
    size_t njobs;
    struct run *next;
};

struct daemon {
    uv_loop_t loop;
    struct http *http;
    struct context *ctx;            /* the running generation */
    struct context_build *building; /* start-up or reload under way */
    int reload_again;               /* SIGHUP arrived during a reload */
    struct schedule *sched;
    uv_signal_t sig[NSIGNALS];
    uv_timer_t watchdog, grace;
    int has_watchdog;
    int stopping;
    int rc;
    unsigned inflight; /* generate jobs running; stop waits for them */
    struct run *runs;
    struct tweet *tweet;
    char date[11];     /* of the last run started, for STATUS */
};

struct calendar *
daemon_load_calendar(const struct cfg *cfg, struct buf *errors,
                     int *deferred)
{
    struct calendar *cal;
    char err[ERR_LEN];

    *deferred = 0;
    if (strncmp(cfg->calendar.source, "s3://", 5) == 0) {
        *deferred = 1;
        return NULL;
    }
    cal = calendar_load_file(cfg->calendar.source, err);
    if (cal == NULL)
        buf_printf(errors, "%s\n", err);
    return cal;
}

/* The one-line summary `systemctl status` shows. */
static void
status_line(const struct daemon *d, char *line, size_t size)
{
    char when[64] = "not scheduled";
    time_t next = d->sched ? schedule_next(d->sched) : 0;
    struct tm tm;

    if (next != 0 && d->ctx != NULL &&
        tz_localtime(d->ctx->cfg->schedule.timezone, next, &tm) == 0)
        strftime(when, sizeof(when), "%a %Y-%m-%d %H:%M %Z", &tm);
    unsigned busy = d->inflight + (d->tweet ? tweet_busy(d->tweet) : 0);

    snprintf(line, size, "next run %s; %u job%s in flight", when, busy,
             busy == 1 ? "" : "s");
}

static void
update_status(const struct daemon *d)
{
    char line[256];

    status_line(d, line, sizeof(line));
    notify_status(line);
}

static void
ready(const struct daemon *d)
{
    char line[256];

    status_line(d, line, sizeof(line));
    notify_ready(line);
}

static void finish_stop(struct daemon *d);

static void
on_generated(struct generate *g, void *arg)
{
    struct run *r = arg, **pp;
    struct daemon *d = r->d;
    const struct generate_outcome *out;
    size_t n = generate_outcomes(g, &out), ok = 0, failed = 0;

    for (size_t i = 0; i < n; i++) {
        ok += out[i].status == JOB_UPLOADED || out[i].status == JOB_HELD ||
              out[i].status == JOB_POSTED;
        failed += out[i].status == JOB_FAILED;
    }
    log_info(NULL, "generate run over: %zu of %zu job(s) have an image, "
                   "%zu failed", ok, n, failed);
    for (pp = &d->runs; *pp != r; pp = &(*pp)->next)
        ;
    *pp = r->next;
    d->inflight -= (unsigned)r->njobs;
    generate_free(g);
    free(r);
    update_status(d);
    if (d->stopping && d->runs == NULL && tweet_busy(d->tweet) == 0)
        finish_stop(d);
}

static void
on_uploaded(const char *job_id, int64_t timestamp, void *arg)
{
    struct run *r = arg;
    struct daemon *d = r->d;

    if (!d->stopping)
        tweet_job(d->tweet, job_id, timestamp);
}

static void
on_tweet_job(const char *job_id, enum job_status st, const char *detail,
             void *arg)
{
    struct daemon *d = arg;

    (void)job_id;
    (void)st;
    (void)detail;
    update_status(d);
    if (d->stopping && d->runs == NULL && tweet_busy(d->tweet) == 0)
        finish_stop(d);
}

static void
run_date(struct daemon *d, const char *date, const char *why)
{
    struct run *r = mem_calloc(1, sizeof(*r));
    const struct generate_outcome *out;

    log_info(NULL, "generate step for %s (%s)", date, why);
    r->d = d;
    r->gen = generate_start(d->ctx, date, on_generated, on_uploaded, r);
    r->njobs = generate_outcomes(r->gen, &out);
    r->next = d->runs;
    d->runs = r;
    d->inflight += (unsigned)r->njobs;
    update_status(d);
}

static void
run_generate(struct daemon *d, time_t slot, const char *why)
{
    char date[11] = "";

    tz_date(d->ctx->cfg->schedule.timezone, slot, date);
    run_date(d, date, why);
}

/* The poller found a date with an abandoned or released job. */
static void
on_stale(const char *date, void *arg)
{
    struct daemon *d = arg;

    if (d->stopping || d->runs != NULL)
        return; /* a run in flight may be the one holding it */
    run_date(d, date, "resume");
}

/* Cancel every run (their jobs stay retryable: leases run out). */
static void
cancel_runs(struct daemon *d)
{
    while (d->runs != NULL) {
        struct run *r = d->runs;

        d->runs = r->next;
        generate_free(r->gen);
        free(r);
    }
    d->inflight = 0;
}

static void
on_slot(void *arg, time_t slot, int catch_up)
{
    run_generate(arg, slot, catch_up ? "catch-up" : "schedule");
}

static void
log_errors(const char *text)
{
    const char *p = text;

    while (*p) {
        size_t n = strcspn(p, "\n");

        log_err(NULL, "%.*s", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

static void begin_stop(struct daemon *d, int signum);
static void reload(struct daemon *d);

/* Make ctx the running generation. */
static void
install(struct daemon *d, struct context *ctx)
{
    char err[ERR_LEN];

    context_unref(d->ctx);
    d->ctx = ctx;
    log_set_level(ctx->cfg->daemon.log_level);
    tweet_set_context(d->tweet, ctx, 1);
    if (schedule_start(d->sched, ctx->cfg, err) != 0)
        log_err(NULL, "schedule: %s", err);
}

static void
on_started(struct context *ctx, const char *errors, void *arg)
{
    struct daemon *d = arg;

    d->building = NULL;
    if (ctx == NULL) {
        log_errors(errors);
        log_err(NULL, "cannot start: fix the problems above");
        d->rc = 1;
        begin_stop(d, 0);
        return;
    }
    install(d, ctx);
    log_info(NULL, "spookyd %s ready (config %s)", SPOOKYD_VERSION,
             ctx->cfg->path);
    ready(d);
    schedule_catch_up(d->sched);
}

static void
on_reloaded(struct context *ctx, const char *errors, void *arg)
{
    struct daemon *d = arg;

    d->building = NULL;
    if (ctx == NULL) {
        log_errors(errors);
        log_err(NULL, "reload refused: keeping the running configuration");
    } else {
        install(d, ctx);
        log_info(NULL, "reload accepted: %s", ctx->cfg->path);
    }
    ready(d);
    if (d->reload_again) {
        d->reload_again = 0;
        reload(d);
    }
}

static void
reload(struct daemon *d)
{
    struct buf errors;
    struct cfg *cfg;
    struct calendar *cal = NULL;
    int deferred = 0;

    if (d->building != NULL) {
        d->reload_again = 1; /* read the file again once this one ends */
        return;
    }
    notify_reloading();
    buf_init(&errors);
    cfg = cfg_load(d->ctx->cfg->path, &errors);
    if (cfg != NULL)
        cal = daemon_load_calendar(cfg, &errors, &deferred);
    if (cfg == NULL || (cal == NULL && !deferred)) {
        log_errors(buf_str(&errors));
        log_err(NULL, "reload refused: keeping the running configuration");
        cfg_unref(cfg);
        buf_cleanup(&errors);
        ready(d);
        return;
    }
    buf_cleanup(&errors);
    d->building = context_build(&d->loop, d->http, cfg, cal, on_reloaded, d);
    cfg_unref(cfg);
}

static void
on_none_live(void *arg)
{
    struct daemon *d = arg;

    /* The engine outlives every AWS client that borrowed it. */
    if (d->stopping) {
        http_free(d->http);
        d->http = NULL;
    }
}

/* Close the daemon's own handles; the schedule, the generation and the
 * HTTP engine close theirs, and uv_run() returns once all are gone. */
static void
finish_stop(struct daemon *d)
{
    cancel_runs(d);
    tweet_free(d->tweet);
    d->tweet = NULL;
    for (int i = 0; i < NSIGNALS; i++)
        uv_close((uv_handle_t *)&d->sig[i], NULL);
    uv_close((uv_handle_t *)&d->grace, NULL);
    if (d->has_watchdog)
        uv_close((uv_handle_t *)&d->watchdog, NULL);
    schedule_free(d->sched);
    d->sched = NULL;
    context_build_cancel(d->building);
    d->building = NULL;
    if (d->ctx != NULL) {
        context_unref(d->ctx);
        d->ctx = NULL;
    } else if (context_live() == 0) {
        on_none_live(d);
    }
}

static void
on_grace(uv_timer_t *t)
{
    struct daemon *d = t->data;

    log_warn(NULL, "stop grace period over with %u job(s) in flight; "
                   "they stay retryable", d->inflight);
    finish_stop(d);
}

static void
begin_stop(struct daemon *d, int signum)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    notify_stopping();
    if (signum != 0)
        log_info(NULL, "stopping on signal %d", signum);
    if (d->sched != NULL)
        schedule_free(d->sched);
    d->sched = NULL;
    if (d->tweet != NULL)
        tweet_stop(d->tweet);
    if (d->runs == NULL && (d->tweet == NULL || tweet_busy(d->tweet) == 0)) {
        finish_stop(d);
        return;
    }
    uv_timer_start(&d->grace, on_grace, DAEMON_STOP_GRACE_MS, 0);
}

static void
on_signal(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;

    if (d->stopping)
        return;
    if (d->ctx == NULL && signum != SIGTERM && signum != SIGINT)
        return; /* still starting: nothing to reload or run yet */
    switch (signum) {
    case SIGHUP:
        reload(d);
        break;
    case SIGUSR1:
        run_generate(d, time(NULL), "SIGUSR1");
        break;
    default:
        begin_stop(d, signum);
        break;
    }
}

static int
start(struct daemon *d, struct cfg *cfg, struct calendar *cal)
{
    static const int signums[NSIGNALS] = {SIGHUP, SIGTERM, SIGINT, SIGUSR1};
    char err[ERR_LEN];

    for (int i = 0; i < NSIGNALS; i++) {
        uv_signal_init(&d->loop, &d->sig[i]);
        d->sig[i].data = d;
        uv_signal_start(&d->sig[i], on_signal, signums[i]);
    }
    uv_timer_init(&d->loop, &d->grace);
    d->grace.data = d;
    d->has_watchdog = notify_watchdog_start(&d->loop, &d->watchdog) == 0;
    d->sched = schedule_new(&d->loop, on_slot, d, err);
    d->http = http_new(&d->loop);
    d->tweet = tweet_new(&d->loop, on_tweet_job, on_stale, d);
    if (d->sched == NULL || d->http == NULL) {
        log_err(NULL, "cannot start: %s",
                d->sched == NULL ? err : "libcurl multi handle");
        calendar_free(cal);
        return -1;
    }
    context_on_none_live(on_none_live, d);
    d->building = context_build(&d->loop, d->http, cfg, cal, on_started, d);
    return 0;
}

int
daemon_run(struct cfg *cfg, struct calendar *cal)
{
    struct daemon d = {0};

    /* A reader gone away must be an EPIPE, never a fatal signal. */
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&d.loop);
    if (start(&d, cfg, cal) != 0) {
        d.rc = 1;
        d.stopping = 1;
        finish_stop(&d);
    }
    cfg_unref(cfg);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    if (d.http != NULL) /* no generation was ever built */
        http_free(d.http);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&d.loop) != 0)
        log_warn(NULL, "event loop closed with handles still open");
    log_info(NULL, "stopped");
    return d.rc;
}
