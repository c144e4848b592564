/*
 * daemon.c: the loop's lifecycle, in chrony's order: handlers up, READY,
 * run, STOPPING, close every handle, run the loop dry, close it.  Reload
 * builds a complete new config and calendar before touching the running
 * ones (bgpd): a broken file changes nothing.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "calendar.h"
#include "core/cfg.h"
#include "core/log.h"
#include "core/notify.h"
#include "core/tz.h"
#include "daemon.h"
#include "schedule.h"

struct daemon {
    uv_loop_t loop;
    struct cfg *cfg;
    struct calendar *cal;
    struct schedule *sched;
    uv_signal_t sighup, sigterm, sigint, sigusr1;
    uv_timer_t watchdog, grace;
    int has_watchdog;
    int stopping;
    unsigned inflight; /* jobs running; stop waits for them */
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

/* The one-line summary systemctl status shows. */
static void
status_line(const struct daemon *d, char *line, size_t size)
{
    char when[64] = "not scheduled";
    time_t next = d->sched ? schedule_next(d->sched) : 0;
    struct tm tm;

    if (next != 0 && tz_localtime(d->cfg->schedule.timezone, next, &tm) == 0)
        strftime(when, sizeof(when), "%a %Y-%m-%d %H:%M %Z", &tm);
    snprintf(line, size, "next run %s; %u job%s in flight", when,
             d->inflight, d->inflight == 1 ? "" : "s");
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

/* XXX: the generate step is not wired in yet: a slot or SIGUSR1 only
 * logs the date it would run.  Until then the daemon posts nothing. */
static void
run_generate(struct daemon *d, time_t slot, const char *why)
{
    char date[11] = "";

    tz_date(d->cfg->schedule.timezone, slot, date);
    log_notice(NULL, "generate step for %s (%s): not implemented yet",
               date, why);
    update_status(d);
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

static void
reload(struct daemon *d)
{
    struct buf errors;
    struct cfg *cfg;
    struct calendar *cal = NULL;
    char err[ERR_LEN];
    int deferred = 0;

    notify_reloading();
    buf_init(&errors);
    cfg = cfg_load(d->cfg->path, &errors);
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
    cfg_unref(d->cfg);
    d->cfg = cfg;
    if (cal != NULL) {
        calendar_free(d->cal);
        d->cal = cal;
    }
    log_set_level(cfg->daemon.log_level);
    if (schedule_start(d->sched, cfg, err) != 0)
        log_err(NULL, "schedule: %s", err);
    log_info(NULL, "reload accepted: %s", cfg->path);
    ready(d);
}

static void
close_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Close every handle so uv_run() returns; the schedule first, because
 * it frees itself in its own close callback. */
static void
finish_stop(struct daemon *d)
{
    schedule_free(d->sched);
    d->sched = NULL;
    uv_walk(&d->loop, close_handle, NULL);
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
    log_info(NULL, "stopping on signal %d", signum);
    schedule_free(d->sched);
    d->sched = NULL;
    if (d->inflight == 0) {
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

static void
start_signal(struct daemon *d, uv_signal_t *h, int signum)
{
    uv_signal_init(&d->loop, h);
    h->data = d;
    uv_signal_start(h, on_signal, signum);
}

static int
start(struct daemon *d)
{
    char err[ERR_LEN];

    d->sched = schedule_new(&d->loop, on_slot, d, err);
    if (d->sched == NULL || schedule_start(d->sched, d->cfg, err) != 0) {
        log_err(NULL, "schedule: %s", err);
        return -1;
    }
    start_signal(d, &d->sighup, SIGHUP);
    start_signal(d, &d->sigterm, SIGTERM);
    start_signal(d, &d->sigint, SIGINT);
    start_signal(d, &d->sigusr1, SIGUSR1);
    uv_timer_init(&d->loop, &d->grace);
    d->grace.data = d;
    d->has_watchdog = notify_watchdog_start(&d->loop, &d->watchdog) == 0;
    return 0;
}

int
daemon_run(struct cfg *cfg, struct calendar *cal)
{
    struct daemon d = {0};
    int rc = 0;

    d.cfg = cfg;
    d.cal = cal;
    /* A reader gone away must be an EPIPE, never a fatal signal. */
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&d.loop);
    if (start(&d) != 0) {
        rc = 1;
        finish_stop(&d);
    } else {
        log_info(NULL, "spookyd %s ready (config %s)", SPOOKYD_VERSION,
                 cfg->path);
        ready(&d);
        schedule_catch_up(d.sched);
    }
    uv_run(&d.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&d.loop) != 0)
        log_warn(NULL, "event loop closed with handles still open");
    calendar_free(d.cal);
    cfg_unref(d.cfg);
    log_info(NULL, "stopped");
    return rc;
}
