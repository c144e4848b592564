"""The running daemon against a NOTIFY_SOCKET the test owns: readiness,
status, reload (good and broken), watchdog, SIGUSR1, schedule, stop."""
import contextlib
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from spookyd import (SLOW, Daemon, NotifySocket, check, fields,  # noqa
                     run_tests, write_config)


@contextlib.contextmanager
def start(tmp, overrides=None, env=None):
    """Yield (config path, notify socket, daemon); always cleaned up."""
    conf = write_config(tmp, overrides)
    sock = NotifySocket(tmp)
    e = {"NOTIFY_SOCKET": sock.path}
    e.update(env or {})
    d = Daemon(tmp, conf, env=e)
    try:
        yield conf, sock, d
    finally:
        d.stop()
        sock.close()


def ready(sock):
    return fields(sock.wait_for(lambda m: "READY=1" in m, what="READY=1"))


def test_ready_status_and_clean_stop(tmp):
    with start(tmp) as (conf, sock, d):
        f = ready(sock)
        check(f["STATUS"].startswith("next run "), f)
        check(" EST" in f["STATUS"] or " EDT" in f["STATUS"], f)
        check("0 jobs in flight" in f["STATUS"], f)
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        sock.wait_for(lambda m: m == "STOPPING=1", what="STOPPING=1")
        check(d.wait(timeout=5) == 0, "exit status")
        check(time.monotonic() - t0 < 5 * SLOW, "stop took too long")
        check("ready (config %s)" % conf in d.stderr(), d.stderr())
        check("stopping on signal 15" in d.stderr(), d.stderr())


def test_sigint_stops_too(tmp):
    with start(tmp) as (_, sock, d):
        ready(sock)
        d.signal(signal.SIGINT)
        check(d.wait() == 0)


def test_reload_applies_new_config(tmp):
    with start(tmp) as (conf, sock, d):
        before = ready(sock)["STATUS"]
        # Move the schedule to another zone: the status line must follow.
        write_config(tmp, {"schedule": {"timezone": "Asia/Tokyo"},
                           "daemon": {"log_level": "debug"}})
        d.signal(signal.SIGHUP)
        m = fields(sock.wait_for(lambda m: "RELOADING=1" in m,
                                 what="RELOADING=1"))
        check(int(m["MONOTONIC_USEC"]) > 0, m)
        status = ready(sock)["STATUS"]
        check("JST" in status and status != before, status)
        d.wait_stderr("reload accepted: %s" % conf)


def test_broken_reload_keeps_running_config(tmp):
    with start(tmp) as (conf, sock, d):
        before = ready(sock)["STATUS"]
        with open(conf, "a") as f:
            f.write("[schedule]\nflavour = mint\n")
        d.signal(signal.SIGHUP)
        sock.wait_for(lambda m: "RELOADING=1" in m, what="RELOADING=1")
        # READY again even though the reload was refused
        status = ready(sock)["STATUS"]
        check(status == before, "%r != %r" % (status, before))
        d.wait_stderr("reload refused: keeping the running configuration")
        err = d.stderr()
        check("%s:19: unknown key 'flavour' in [schedule]" % conf in err,
              err)
        check(d.proc.poll() is None, "daemon died")
        d.signal(signal.SIGTERM)
        check(d.wait() == 0)


def test_broken_calendar_on_reload_is_refused(tmp):
    with start(tmp) as (conf, sock, d):
        ready(sock)
        with open(os.path.join(tmp, "calendar.json"), "w") as f:
            f.write('{"smarch": {"1": ["Nothing"]}}')
        d.signal(signal.SIGHUP)
        d.wait_stderr("reload refused")
        check("smarch" in d.stderr(), d.stderr())
        check(d.proc.poll() is None, "daemon died")


def test_watchdog_keepalive(tmp):
    # WATCHDOG_USEC without WATCHDOG_PID applies to whoever reads it.
    with start(tmp, env={"WATCHDOG_USEC": "200000"}) as (_, sock, d):
        ready(sock)
        for _ in range(3):
            sock.wait_for(lambda m: m == "WATCHDOG=1", timeout=2,
                          what="WATCHDOG=1")


def test_no_watchdog_without_request(tmp):
    with start(tmp) as (_, sock, d):
        ready(sock)
        d.signal(signal.SIGUSR1)  # some traffic, then stop
        d.wait_stderr("(SIGUSR1)")
        d.signal(signal.SIGTERM)
        d.wait()
        check(not any("WATCHDOG" in m for m in sock.messages),
              sock.messages)


def test_schedule_fires_on_time(tmp):
    # A 6-field cron firing every 2 seconds: the slot callback must run
    # (the generate step hangs off it).
    every_2s = {"schedule": {"cron": "*/2 * * * * *", "timezone": "UTC"}}
    with start(tmp, every_2s) as (_, sock, d):
        ready(sock)
        d.wait_stderr("(schedule)", timeout=6)


def test_catch_up_runs_missed_slot(tmp):
    # Every minute at second 0, with a one-hour window: the slot that
    # just passed counts as missed and runs at start.
    minutely = {"schedule": {"cron": "0 * * * * *", "timezone": "UTC",
                             "catch_up": "1h"}}
    with start(tmp, minutely) as (_, sock, d):
        ready(sock)
        d.wait_stderr("(catch-up)")


if __name__ == "__main__":
    run_tests(globals())
