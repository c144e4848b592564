/*
 * schedule.c: cron slots on a CLOCK_REALTIME timerfd watched by a
 * uv_poll_t.  Absolute wall-clock arming is what a schedule means ("8:00
 * in New York"); a monotonic uv_timer would drift after suspend or an
 * NTP step.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/cfg.h"
#include "core/cron.h"
#include "core/log.h"
#include "core/mem.h"
#include "schedule.h"

struct schedule {
    uv_poll_t poll;
    int fd;
    struct cfg *cfg;
    time_t next;      /* armed slot, 0 when stopped */
    time_t last_fired; /* never fire one slot twice */
    schedule_fire_cb cb;
    void *arg;
};

static int
arm(struct schedule *s, time_t after)
{
    struct itimerspec its = {0};
    char err[ERR_LEN];
    time_t next;

    if (cron_next(s->cfg->schedule.cron, s->cfg->schedule.timezone, after,
                  &next) != 0) {
        log_err(NULL, "cron '%s' has no next slot; schedule stopped",
                s->cfg->schedule.cron_expr);
        s->next = 0;
        return ERR_FAIL;
    }
    its.it_value.tv_sec = next;
    if (timerfd_settime(s->fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
                        &its, NULL) == -1) {
        snprintf(err, sizeof(err), "%s", strerror(errno));
        log_err(NULL, "timerfd_settime: %s", err);
        s->next = 0;
        return ERR_FAIL;
    }
    s->next = next;
    return 0;
}

static void
fire(struct schedule *s, time_t slot, int catch_up)
{
    if (slot <= s->last_fired)
        return;
    s->last_fired = slot;
    s->cb(s->arg, slot, catch_up);
}

static void
on_timer(uv_poll_t *poll, int status, int events)
{
    struct schedule *s = poll->data;
    uint64_t expirations;
    time_t slot = s->next, now = time(NULL);

    (void)events;
    if (status < 0)
        log_warn(NULL, "schedule poll: %s", uv_strerror(status));
    if (read(s->fd, &expirations, sizeof(expirations)) == -1) {
        if (errno == EAGAIN)
            return;
        /* ECANCELED: the wall clock was set.  Recompute from now; a slot
         * jumped over is left to catch-up, not run on a guess. */
        log_notice(NULL, "system clock changed; recomputing next run");
        arm(s, now);
        return;
    }
    /* Arm before firing so a slow callback cannot make us miss the next
     * slot, and from the later of slot and now after a suspend. */
    arm(s, slot > now ? slot : now);
    fire(s, slot, 0);
}

struct schedule *
schedule_new(uv_loop_t *loop, schedule_fire_cb cb, void *arg,
             char err[ERR_LEN])
{
    struct schedule *s = mem_calloc(1, sizeof(*s));

    s->fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    if (s->fd == -1) {
        snprintf(err, ERR_LEN, "timerfd_create: %s", strerror(errno));
        free(s);
        return NULL;
    }
    uv_poll_init(loop, &s->poll, s->fd);
    s->poll.data = s;
    s->cb = cb;
    s->arg = arg;
    return s;
}

int
schedule_start(struct schedule *s, struct cfg *cfg, char err[ERR_LEN])
{
    struct cfg *old = s->cfg;

    s->cfg = cfg_ref(cfg);
    cfg_unref(old);
    if (arm(s, time(NULL)) != 0) {
        snprintf(err, ERR_LEN, "cannot arm the schedule");
        return ERR_FAIL;
    }
    uv_poll_start(&s->poll, UV_READABLE, on_timer);
    return 0;
}

int
schedule_catch_up(struct schedule *s)
{
    time_t now = time(NULL), prev;
    int64_t window = s->cfg->schedule.catch_up_ms / 1000;

    if (window <= 0 ||
        cron_prev(s->cfg->schedule.cron, s->cfg->schedule.timezone, now,
                  &prev) != 0)
        return 0;
    if (now - prev > window || prev <= s->last_fired)
        return 0;
    log_info(NULL, "catching up the slot missed %lld s ago",
             (long long)(now - prev));
    fire(s, prev, 1);
    return 1;
}

time_t
schedule_next(const struct schedule *s)
{
    return s->next;
}

static void
on_closed(uv_handle_t *h)
{
    struct schedule *s = h->data;

    close(s->fd);
    cfg_unref(s->cfg);
    free(s);
}

void
schedule_free(struct schedule *s)
{
    if (s == NULL)
        return;
    uv_close((uv_handle_t *)&s->poll, on_closed);
}
