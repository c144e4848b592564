"""The command-line contract: --check, --version, --help, usage errors."""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from spookyd import (TOP, check, config_text, run, run_tests,  # noqa: E402
                     write_config)


def test_check_good_config(tmp):
    conf = write_config(tmp)
    r = run("-c", conf, "--check")
    check(r.returncode == 0, r.stderr)
    check(r.stdout == "%s: configuration OK; calendar %s/calendar.json: "
          "3 dates\n" % (conf, tmp), r.stdout)
    check(r.stderr == "", r.stderr)


def test_check_shipped_example_config(tmp):
    # The example in conf/ must pass as shipped, pointing at the shipped
    # calendar (installed to /etc/spookyd next to it).
    with open(os.path.join(TOP, "conf", "spookyd.conf")) as f:
        text = f.read()
    text = text.replace("/etc/spookyd/national-days.json",
                        os.path.join(TOP, "conf", "national-days.json"))
    conf = os.path.join(tmp, "spookyd.conf")
    with open(conf, "w") as f:
        f.write(text)
    r = run("-c", conf, "--check")
    check(r.returncode == 0, r.stdout + r.stderr)
    check("366 dates" in r.stdout, r.stdout)


def test_check_reports_every_problem_with_file_and_line(tmp):
    conf = write_config(tmp, {
        "daemon": {"log_level": "chatty", "max_parallel": "0"},
        "schedule": {"cron": "0 8 * * fri-mon-", "timezone": "Nowhere/City"},
        "x": {"credentials": "hunter2-inline-secret"},
    })
    r = run("-c", conf, "--check")
    check(r.returncode == 1, "exit %d" % r.returncode)
    check(r.stdout == "", r.stdout)
    lines = r.stderr.splitlines()
    check(len(lines) == 5, r.stderr)
    expect = [
        (2, "log_level: 'chatty' is not one of debug, info"),
        (3, "max_parallel: '0' is not a whole number from 1 to 64"),
        (6, "cron: "),
        (7, "timezone: "),
        (18, "credentials: not a secret reference"),
    ]
    for line, (num, text) in zip(lines, expect):
        prefix = "%s:%d: %s" % (conf, num, text)
        check(line.startswith(prefix), "%r does not start with %r" %
              (line, prefix))
    check("hunter2" not in r.stderr, "secret echoed: " + r.stderr)


def test_check_refuses_a_caption_x_would_refuse(tmp):
    # 280 weighted characters is X's limit: a long name plus a padded
    # template goes over for that day only, and --check names it.
    long_day = "Very " * 30 + "Long"
    cal = '{"march": {"3": ["Pie", "%s"]}}' % long_day
    conf = write_config(tmp, {"calendar": {
        "caption": "National {day} Day! {hashtag} " + "boo " * 10}},
        calendar=cal)
    r = run("-c", conf, "--check")
    check(r.returncode == 1, r.stdout + r.stderr)
    check(r.stderr.startswith('%s: [calendar] caption for "%s": caption '
                              'is ' % (conf, long_day)), r.stderr)
    check("X allows 280" in r.stderr and "\"Pie\"" not in r.stderr,
          r.stderr)


def test_check_missing_file(tmp):
    r = run("-c", os.path.join(tmp, "absent.conf"), "--check")
    check(r.returncode == 1)
    check(r.stderr == "%s/absent.conf:0: cannot open: No such file or "
          "directory\n" % tmp, r.stderr)


def test_check_broken_calendar_names_json_path(tmp):
    conf = write_config(tmp, calendar='{"december": {"32": ["Late"]}}')
    r = run("-c", conf, "--check")
    check(r.returncode == 1, r.stdout)
    check("december.32: day out of range" in r.stderr, r.stderr)
    check(r.stderr.startswith(os.path.join(tmp, "calendar.json")), r.stderr)


def test_check_s3_calendar_is_deferred(tmp):
    conf = write_config(tmp, {"calendar": {"source": "s3://b/days.json"}})
    r = run("-c", conf, "--check")
    check(r.returncode == 0, r.stderr)
    check("calendar s3://b/days.json is read at run time" in r.stdout,
          r.stdout)




def test_version_and_help_output(tmp):
    r = run("--version")
    check(r.returncode == 0 and re.fullmatch(r"spookyd \d+\.\d+\.\d+\n",
                                             r.stdout), r.stdout)
    r = run("--help")
    check(r.returncode == 0 and "--approve JOB_ID" in r.stdout, r.stdout)
    check("/etc/spookyd/spookyd.conf" in r.stdout, r.stdout)


def test_usage_errors_exit_2(tmp):
    conf = write_config(tmp)
    cases = [
        (["--check", "--once"], "choose one of"),
        (["--date", "2026-01-15"], "--date goes with --once or --jobs"),
        (["--once", "--date", "2026-02-29"], "is not a YYYY-MM-DD date"),
        (["--once", "--date", "15/01/2026"], "is not a YYYY-MM-DD date"),
        (["--log=syslog"], "--log takes auto, journal or stderr"),
        (["--bogus"], "usage:"),
        (["extra"], "unexpected argument 'extra'"),
    ]
    for args, msg in cases:
        r = run("-c", conf, *args)
        check(r.returncode == 2, "%s: exit %d" % (args, r.returncode))
        check(msg in r.stderr, "%s: %r" % (args, r.stderr))



if __name__ == "__main__":
    if not shutil.which("python3"):
        sys.exit(77)
    run_tests(globals())
