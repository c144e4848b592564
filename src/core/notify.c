/*
 * notify.c: thin layer over sd_notify().  A stuck loop stops feeding the
 * watchdog, so systemd restarts us: the keep-alive must come from a loop
 * timer, never from a thread.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "core/log.h"
#include "core/notify.h"

static void
send_status(const char *prefix, const char *status)
{
    char line[512];
    size_t i, start = strlen(prefix);

    snprintf(line, sizeof(line), "%s%s", prefix, status ? status : "");
    /* A newline in the status would start a new assignment. */
    for (i = start; line[i]; i++)
        if (line[i] == '\n')
            line[i] = ' ';
    sd_notify(0, line);
}

void
notify_ready(const char *status)
{
    send_status("READY=1\nSTATUS=", status);
}

void
notify_reloading(void)
{
    struct timespec ts;
    char msg[64];

    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ULL +
                 (unsigned long long)ts.tv_nsec / 1000ULL);
    sd_notify(0, msg);
}

void
notify_stopping(void)
{
    sd_notify(0, "STOPPING=1");
}

void
notify_status(const char *line)
{
    send_status("STATUS=", line);
}

static void
on_watchdog(uv_timer_t *timer)
{
    (void)timer;
    sd_notify(0, "WATCHDOG=1");
}

int
notify_watchdog_start(uv_loop_t *loop, uv_timer_t *timer)
{
    uint64_t usec = 0;
    uint64_t half_ms;

    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return 1;
    half_ms = usec / 2000;
    if (half_ms == 0)
        half_ms = 1;
    uv_timer_init(loop, timer);
    uv_timer_start(timer, on_watchdog, half_ms, half_ms);
    log_info(NULL, "watchdog enabled, keep-alive every %llu ms",
             (unsigned long long)half_ms);
    return 0;
}
