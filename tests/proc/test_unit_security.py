"""systemd/spookyd.service as `make install` renders it: `systemd-analyze
verify` prints nothing (with the credentials drop-in too), `systemd-analyze
security --offline=yes` scores at most 1.5, the unit keeps the daemon's
contract, and spookyd.sysusers.conf creates the user the unit runs as.
Mutated copies show the checks notice a typo and a weaker sandbox."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from spookyd import TOP, Skip, check, run_tests  # noqa: E402

BUILD = os.environ.get("BUILD", "build/default")
MAX_EXPOSURE = 1.5
UNIT = "spookyd.service"


def need(tool):
    if not shutil.which(tool):
        raise Skip("%s is not installed" % tool)


def install(tmp):
    """`make install` into a private prefix, so that ExecStart= names a
    real binary and Documentation= real man pages; returns (root, unit)."""
    root = os.path.join(tmp, "root")
    r = subprocess.run(["make", "-s", "-C", TOP, "BUILD=" + BUILD, "install",
                        "PREFIX=" + root, "sysconfdir=" + root + "/etc"],
                       capture_output=True, text=True)
    check(r.returncode == 0, r.stdout + r.stderr)
    unit = os.path.join(root, "lib", "systemd", "system", UNIT)
    check(os.path.exists(unit), "make install did not install " + UNIT)
    return root, unit


def add_dropin(unit):
    d = unit + ".d"
    os.makedirs(d, exist_ok=True)
    shutil.copy(os.path.join(TOP, "systemd", "credentials.conf.example"),
                os.path.join(d, "credentials.conf"))


def verify(root, unit):
    """Everything `systemd-analyze verify` prints about the unit and its
    drop-ins (it exits 0 even after "Unknown key" warnings)."""
    env = dict(os.environ,
               SYSTEMD_UNIT_PATH=os.path.dirname(unit) + ":")
    args = ["systemd-analyze", "verify"]
    if shutil.which("man"):
        env["MANPATH"] = os.path.join(root, "share", "man")
    else:
        print("  note: man is not installed; Documentation= not checked")
        args.append("--man=no")
    r = subprocess.run(args + [unit], capture_output=True, text=True,
                       env=env, timeout=120)
    return r.returncode, (r.stdout + r.stderr).strip()


def exposure(unit):
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                        "--no-pager", unit],
                       capture_output=True, text=True, timeout=120)
    m = re.search(r"Overall exposure level for %s: (\d+(?:\.\d+)?) " %
                  re.escape(os.path.basename(unit)), r.stdout)
    check(r.returncode == 0 and m, r.stdout[-2000:] + r.stderr)
    return float(m.group(1)), r.stdout


def mutate(unit, tmp, name, edit):
    """A copy of unit in its own directory with edit(text) applied."""
    d = os.path.join(tmp, name)
    os.makedirs(d)
    path = os.path.join(d, UNIT)
    with open(unit) as f:
        text = edit(f.read())
    with open(path, "w") as f:
        f.write(text)
    return path


def service_settings(path):
    """{key: [values]} of the [Service] section."""
    out, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
            elif section == "[Service]" and "=" in line:
                k, v = line.split("=", 1)
                out.setdefault(k.strip(), []).append(v.strip())
    return out


def seconds(value):
    m = re.fullmatch(r"(\d+)(s|min)?", value)
    check(m, "unexpected time span %r" % value)
    return int(m.group(1)) * (60 if m.group(2) == "min" else 1)


def test_verify_prints_nothing(tmp):
    need("systemd-analyze")
    root, unit = install(tmp)
    add_dropin(unit)
    rc, out = verify(root, unit)
    check(rc == 0 and out == "", "verify: exit %d\n%s" % (rc, out))


def test_verify_notices_a_typo_and_a_missing_binary(tmp):
    need("systemd-analyze")
    root, unit = install(tmp)
    typo = mutate(unit, tmp, "typo", lambda t: t.replace(
        "ProtectSystem=strict", "ProtectSytem=strict"))
    rc, out = verify(root, typo)
    check("ProtectSytem" in out, "typo not reported: %r" % out)
    gone = mutate(unit, tmp, "gone", lambda t: t.replace(
        "/sbin/spookyd -c", "/sbin/spookyd-missing -c", 1))
    rc, out = verify(root, gone)
    check("spookyd-missing" in out, "missing binary not reported: %r" % out)


def test_exposure_at_most_1_5(tmp):
    need("systemd-analyze")
    _, unit = install(tmp)
    score, report = exposure(unit)
    print("  exposure %.1f (limit %.1f)" % (score, MAX_EXPOSURE))
    check(score <= MAX_EXPOSURE, report)


def test_exposure_notices_a_weaker_sandbox(tmp):
    need("systemd-analyze")
    _, unit = install(tmp)
    score, _ = exposure(unit)
    gone = ("SystemCallFilter", "CapabilityBoundingSet", "NoNewPrivileges",
            "ProtectSystem", "PrivateUsers", "PrivateDevices")
    weak = mutate(unit, tmp, "weak", lambda t: "".join(
        l for l in t.splitlines(True) if l.split("=")[0] not in gone))
    weak_score, report = exposure(weak)
    check(weak_score > MAX_EXPOSURE and weak_score > score,
          "%.1f -> %.1f\n%s" % (score, weak_score, report))


def test_unit_keeps_the_daemon_contract(tmp):
    _, unit = install(tmp)
    s = service_settings(unit)
    check(s.get("Type") == ["notify"], s.get("Type"))
    check(any(v.startswith("/bin/kill -HUP $MAINPID")
              for v in s.get("ExecReload", [])), s.get("ExecReload"))
    check(s["ExecStart"][0].startswith(os.path.join(tmp, "root", "sbin",
                                                    "spookyd") + " -c "),
          s["ExecStart"])
    check(seconds(s["WatchdogSec"][-1]) > 0, s["WatchdogSec"])
    # The daemon drains work for 30 s after SIGTERM before systemd kills.
    check(seconds(s["TimeoutStopSec"][-1]) > 30, s["TimeoutStopSec"])
    families = set(" ".join(s["RestrictAddressFamilies"]).split())
    check(families == {"AF_INET", "AF_INET6", "AF_UNIX"}, families)
    check(s.get("ProtectSystem") == ["strict"] and
          "ReadWritePaths" not in s, "the daemon needs no writable path")


def test_sysusers_creates_the_unit_user(tmp):
    need("systemd-sysusers")
    _, unit = install(tmp)
    s = service_settings(unit)
    sysroot = os.path.join(tmp, "sysroot")
    os.makedirs(os.path.join(sysroot, "etc"))
    conf = os.path.join(TOP, "systemd", "spookyd.sysusers.conf")
    r = subprocess.run(["systemd-sysusers", "--root=" + sysroot, conf],
                       capture_output=True, text=True)
    check(r.returncode == 0, r.stderr)
    with open(os.path.join(sysroot, "etc", "passwd")) as f:
        users = {l.split(":")[0]: l.strip().split(":") for l in f}
    with open(os.path.join(sysroot, "etc", "group")) as f:
        groups = {l.split(":")[0] for l in f}
    user = users.get(s["User"][-1])
    check(user is not None, "sysusers made %s, not %s" %
          (sorted(users), s["User"]))
    check(s["Group"][-1] in groups, groups)
    check(int(user[2]) < 1000 and user[6].endswith("nologin"), user)


if __name__ == "__main__":
    run_tests(globals())
