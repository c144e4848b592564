"""Real systemd pieces for process tests: a standalone systemd-journald
and a systemd user manager, started only where the machine allows and
stopped again by whoever started them.

journald(): context manager yielding a Journal (or raising Skip).
user_manager(tmp): context manager yielding a UserManager (or Skip).
"""
import contextlib
import json
import os
import shutil
import socket
import subprocess
import time

from spookyd import SLOW, Skip

JOURNALD = "/lib/systemd/systemd-journald"
JOURNAL_SOCKET = "/run/systemd/journal/socket"


def _socket_alive(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


class Journal:
    def entries(self, *matches, timeout=5.0, want=1):
        """journalctl -o json entries matching FIELD=VALUE matches; waits
        until at least `want` arrive (journald writes asynchronously)."""
        deadline = time.monotonic() + timeout * SLOW
        while True:
            out = subprocess.run(
                ["journalctl", "--no-pager", "-o", "json", "--all"] +
                list(matches), capture_output=True, text=True).stdout
            found = [json.loads(l) for l in out.splitlines() if l.strip()]
            if len(found) >= want or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def dump(self, *matches):
        """Every field of matching entries as one string (for greps)."""
        return subprocess.run(
            ["journalctl", "--no-pager", "-o", "export", "--all"] +
            list(matches), capture_output=True).stdout

    def stream(self, identifier):
        """A socket connected to journald's stdout-stream protocol, as
        systemd hands a service for stderr; returns (sock, JOURNAL_STREAM
        value)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect("/run/systemd/journal/stdout")
        s.sendall(("%s\n\n6\n0\n0\n0\n0\n" % identifier).encode())
        st = os.fstat(s.fileno())
        return s, "%d:%d" % (st.st_dev, st.st_ino)


@contextlib.contextmanager
def journald():
    if os.geteuid() != 0:
        raise Skip("standalone systemd-journald needs root")
    if not os.path.exists(JOURNALD) or not shutil.which("journalctl"):
        raise Skip("systemd-journald or journalctl not installed")
    proc = None
    if not _socket_alive(JOURNAL_SOCKET):
        os.makedirs("/run/systemd/journal", exist_ok=True)
        proc = subprocess.Popen([JOURNALD], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not _socket_alive(JOURNAL_SOCKET):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise Skip("systemd-journald would not start here "
                           "(exit %s)" % proc.poll())
            time.sleep(0.05)
    try:
        yield Journal()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)


class UserManager:
    def __init__(self, env, unit_dir):
        self.env = env
        self.unit_dir = unit_dir

    def systemctl(self, *args, check=True):
        r = subprocess.run(["systemctl", "--user", "--no-pager"] +
                           list(args), env=self.env, capture_output=True,
                           text=True, timeout=60 * SLOW)
        if check and r.returncode != 0:
            raise AssertionError("systemctl %s: %s%s" %
                                 (" ".join(args), r.stdout, r.stderr))
        return r

    def install(self, name, text):
        with open(os.path.join(self.unit_dir, name), "w") as f:
            f.write(text)
        self.systemctl("daemon-reload")

    def show(self, unit, *props):
        r = self.systemctl("show", unit, "-p", ",".join(props))
        return dict(l.split("=", 1) for l in r.stdout.splitlines()
                    if "=" in l)

    def wait_prop(self, unit, prop, pred, timeout=10.0):
        deadline = time.monotonic() + timeout * SLOW
        while True:
            v = self.show(unit, prop).get(prop, "")
            if pred(v):
                return v
            if time.monotonic() > deadline:
                raise AssertionError("%s %s stayed %r" % (unit, prop, v))
            time.sleep(0.1)


@contextlib.contextmanager
def user_manager(tmp):
    """A private `systemd --user` with HOME and XDG_RUNTIME_DIR in tmp."""
    if os.geteuid() != 0:
        raise Skip("this test starts a user manager as root")
    if not os.path.exists("/lib/systemd/systemd"):
        raise Skip("systemd is not installed")
    created_marker = False
    if not os.path.exists("/run/systemd/system"):
        # systemd --user refuses to start unless the system looks booted
        # with systemd; remove the marker afterwards, or Debian's package
        # scripts start believing systemd runs.
        os.makedirs("/run/systemd/system")
        created_marker = True
    runtime = os.path.join(tmp, "runtime")
    home = os.path.join(tmp, "home")
    unit_dir = os.path.join(home, ".config", "systemd", "user")
    os.makedirs(runtime, mode=0o700)
    os.makedirs(unit_dir)
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, HOME=home)
    env.pop("NOTIFY_SOCKET", None)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    log = open(os.path.join(tmp, "user-manager.log"), "w")
    proc = subprocess.Popen(["/lib/systemd/systemd", "--user"], env=env,
                            stdout=log, stderr=log)
    try:
        mgr = UserManager(env, unit_dir)
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise Skip("systemd --user exited with %s here: %s" %
                           (proc.returncode, open(log.name).read()[-500:]))
            r = mgr.systemctl("is-system-running", check=False)
            if r.stdout.strip() in ("running", "degraded"):
                break
            if time.monotonic() > deadline:
                raise Skip("systemd --user did not come up: %r" % r.stdout)
            time.sleep(0.1)
        yield mgr
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        if created_marker:
            os.rmdir("/run/systemd/system")
