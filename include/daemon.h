/*
 * The long-running daemon: one libuv loop holding the schedule, signal
 * handlers (SIGHUP reload, SIGTERM/SIGINT stop, SIGUSR1 run today now),
 * the systemd watchdog and status line.  The generate and tweet steps
 * hang off this loop.
 */
#ifndef SPOOKYD_DAEMON_H
#define SPOOKYD_DAEMON_H

#include "core/buf.h"

struct calendar;
struct cfg;

/* Grace period in-flight work gets after SIGTERM before we exit anyway;
 * below systemd's default TimeoutStopSec= of 90 s. */
#define DAEMON_STOP_GRACE_MS 30000

/* Load cfg's calendar when it is a local file: a new calendar, or NULL
 * with "path: json.path: message\n" appended to errors.  *deferred is set
 * (and NULL returned without error) when the source is s3://, which only
 * the running daemon can read. */
struct calendar *daemon_load_calendar(const struct cfg *cfg,
                                      struct buf *errors, int *deferred);

/* Run until SIGTERM/SIGINT.  Takes ownership of cfg's reference and of
 * cal.  Returns the process exit status. */
int daemon_run(struct cfg *cfg, struct calendar *cal);

#endif
