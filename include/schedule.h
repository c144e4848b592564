/*
 * The generate step's clock: fires a callback at each cron slot, in the
 * configured time zone.  It sleeps on a CLOCK_REALTIME timerfd armed for
 * the absolute slot time, so it needs no polling, fires at the right
 * wall-clock moment after a suspend, and hears about clock jumps
 * (TFD_TIMER_CANCEL_ON_SET) to recompute the next slot.
 */
#ifndef SPOOKYD_SCHEDULE_H
#define SPOOKYD_SCHEDULE_H

#include <time.h>
#include <uv.h>

#include "core/err.h"

struct cfg;
struct schedule;

/* Called on the loop for each slot; catch_up is 1 when the slot was
 * missed while the daemon was down and is being run late. */
typedef void (*schedule_fire_cb)(void *arg, time_t slot, int catch_up);

/* A stopped schedule on loop.  Returns NULL with err on failure. */
struct schedule *schedule_new(uv_loop_t *loop, schedule_fire_cb cb,
                              void *arg, char err[ERR_LEN]);

/* Arm for the first slot of cfg's cron after now (takes a reference on
 * cfg, dropping the previous one).  0, or ERR_FAIL with err. */
int schedule_start(struct schedule *s, struct cfg *cfg, char err[ERR_LEN]);

/* If the latest slot at or before now lies within cfg's catch_up window,
 * fire it now (once per slot per process).  Returns 1 when it fired. */
int schedule_catch_up(struct schedule *s);

/* The slot the schedule is armed for, or 0 when stopped. */
time_t schedule_next(const struct schedule *s);

/* Stop and free (after libuv has closed the handle).  NULL is a no-op. */
void schedule_free(struct schedule *s);

#endif
