"""make install / uninstall into a DESTDIR honour PREFIX, sysconfdir and
unitdir, and leave the operator's config behind on uninstall."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from spookyd import TOP, check, run_tests  # noqa: E402

BUILD = os.environ.get("BUILD", "build/default")


def make(*args):
    r = subprocess.run(["make", "-s", "-C", TOP, "BUILD=" + BUILD] +
                       list(args), capture_output=True, text=True)
    check(r.returncode == 0, r.stdout + r.stderr)


def test_install_and_uninstall(tmp):
    dest = os.path.join(tmp, "root")
    opts = ["DESTDIR=" + dest, "PREFIX=/usr", "sysconfdir=/etc",
            "unitdir=/lib/systemd/system"]
    make("install", *opts)
    want = ["usr/sbin/spookyd", "usr/share/man/man8/spookyd.8",
            "usr/share/man/man5/spookyd.conf.5", "etc/spookyd/spookyd.conf",
            "usr/share/spookyd/spookyd.conf",
            "usr/lib/sysusers.d/spookyd.conf"]
    for rel in want:
        check(os.path.exists(os.path.join(dest, rel)), "missing " + rel)
    check(os.access(os.path.join(dest, "usr/sbin/spookyd"), os.X_OK))
    mode = os.stat(os.path.join(dest, "etc/spookyd/spookyd.conf")).st_mode
    check(mode & 0o007 == 0, "config readable by others: %o" % mode)
    if os.path.exists(os.path.join(TOP, "conf", "national-days.json")):
        check(os.path.exists(os.path.join(
            dest, "etc/spookyd/national-days.json")))
    if os.path.exists(os.path.join(TOP, "systemd", "spookyd.service")):
        unit = open(os.path.join(
            dest, "lib/systemd/system/spookyd.service")).read()
        check("@sbindir@" not in unit and "/usr/sbin/spookyd" in unit, unit)

    # An operator's edited config survives a reinstall and an uninstall.
    conf = os.path.join(dest, "etc/spookyd/spookyd.conf")
    with open(conf, "a") as f:
        f.write("# edited by the operator\n")
    make("install", *opts)
    check("edited by the operator" in open(conf).read(), "config replaced")
    make("uninstall", *opts)
    for rel in want[:3] + want[4:]:
        check(not os.path.exists(os.path.join(dest, rel)), "left " + rel)
    check(os.path.exists(conf), "uninstall removed the operator's config")


if __name__ == "__main__":
    run_tests(globals())
