"""spookyd as a Type=notify unit under a real systemd user manager:
start -> active with a Status line, reload -> ExecReload -> new config in
effect, stop -> clean exit."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from spookyd import (BIN, TEST_ENV, WRAPPER, check,  # noqa: E402
                     run_tests, write_config)
from sysd import user_manager  # noqa: E402

UNIT = """[Unit]
Description=spookyd under test

[Service]
Type=notify
ExecStart={exe} -c {conf}
ExecReload=/bin/kill -HUP $MAINPID
WatchdogSec=30
TimeoutStartSec=60
EnvironmentFile={envfile}
StandardError=append:{log}
"""


def test_start_reload_stop(tmp):
    conf = write_config(tmp)
    log = os.path.join(tmp, "daemon.log")
    exe = " ".join(WRAPPER + [BIN])
    envfile = os.path.join(tmp, "env")
    with open(envfile, "w") as f:
        for k, v in TEST_ENV.items():
            f.write("%s='%s'\n" % (k, v))
    with user_manager(tmp) as mgr:
        mgr.install("spookyd-test.service",
                    UNIT.format(exe=exe, conf=conf, log=log,
                                envfile=envfile))
        mgr.systemctl("start", "spookyd-test.service")
        p = mgr.show("spookyd-test.service", "ActiveState", "StatusText",
                     "MainPID")
        check(p["ActiveState"] == "active", p)
        check(p["StatusText"].startswith("next run ") and
              ("EST" in p["StatusText"] or "EDT" in p["StatusText"]), p)
        status = mgr.systemctl("status", "spookyd-test.service",
                               check=False).stdout
        check("Status: \"next run " in status, status)

        write_config(tmp, {"schedule": {"timezone": "Asia/Tokyo"}})
        mgr.systemctl("reload", "spookyd-test.service")
        mgr.wait_prop("spookyd-test.service", "StatusText",
                      lambda v: "JST" in v)
        check(mgr.show("spookyd-test.service", "MainPID")["MainPID"] ==
              p["MainPID"], "reload restarted the process")

        mgr.systemctl("stop", "spookyd-test.service")
        r = mgr.show("spookyd-test.service", "ActiveState", "Result",
                     "ExecMainStatus")
        check(r["ActiveState"] == "inactive" and r["Result"] == "success"
              and r["ExecMainStatus"] == "0", r)
    with open(log) as f:
        text = f.read()
    check("reload accepted" in text and "stopping on signal 15" in text,
          text)


if __name__ == "__main__":
    run_tests(globals())
