/*
 * The systemd notification protocol (sd_notify(3)): readiness, reload,
 * stop, one-line status and the watchdog keep-alive.  Every call is a
 * no-op when $NOTIFY_SOCKET is unset, so the daemon runs the same way
 * from a shell.
 */
#ifndef SPOOKYD_CORE_NOTIFY_H
#define SPOOKYD_CORE_NOTIFY_H

#include <uv.h>

/* READY=1, with the current status line. */
void notify_ready(const char *status);

/* RELOADING=1 with MONOTONIC_USEC= (systemd 253+ needs it; 252 ignores
 * it); send notify_ready() when the reload is over, accepted or not. */
void notify_reloading(void);

/* STOPPING=1. */
void notify_stopping(void);

/* STATUS=<line>; newlines in line are replaced by spaces. */
void notify_status(const char *line);

/* Start a loop timer that sends WATCHDOG=1 at half the interval the
 * service manager asked for (WatchdogSec=).  Returns 0 and leaves timer
 * initialised only when a watchdog is wanted; 1 when none is, so the
 * caller knows whether to close the timer. */
int notify_watchdog_start(uv_loop_t *loop, uv_timer_t *timer);

#endif
