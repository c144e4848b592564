"""Real systemd pieces for process tests: a standalone systemd-journald
and a systemd user manager, started only where the machine allows and
stopped again by whoever started them.

journald(): context manager yielding a Journal (or raising Skip).
user_manager(tmp): context manager yielding a UserManager (or Skip).
private_host(users): a mount namespace of this process's own in which a
    real unit's sandbox can be applied (see its docstring).
"""
import contextlib
import ctypes
import json
import os
import pwd
import shutil
import socket
import stat
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

    def share_notify_socket(self):
        """Let units that run as another user (User=) reach the manager's
        notify socket, as they reach PID 1's world-writable one; the
        runtime directory is otherwise root's alone."""
        rt = self.env["XDG_RUNTIME_DIR"]
        os.chmod(rt, 0o711)
        os.chmod(os.path.join(rt, "systemd"), 0o711)
        os.chmod(os.path.join(rt, "systemd", "notify"), 0o777)

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


_MS_BIND = 0x1000
_MS_REC = 0x4000
_MS_PRIVATE = 0x40000
_CLONE_NEWNS = 0x20000


def _mount(libc, src, target, fstype, flags, data=None):
    enc = (lambda v: v.encode() if v is not None else None)
    if libc.mount(enc(src), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise Skip("mount %s on %s: %s" % (src, target, os.strerror(err)))


def _inaccessible_nodes(parent):
    """The mode-0 nodes PID 1 makes at boot; ProtectHome=,
    InaccessiblePaths= and friends bind them over what they hide."""
    d = os.path.join(parent, "inaccessible")
    os.mkdir(d, 0o755)
    os.mkdir(os.path.join(d, "dir"), 0)
    for name, kind in (("reg", stat.S_IFREG), ("fifo", stat.S_IFIFO),
                       ("sock", stat.S_IFSOCK), ("chr", stat.S_IFCHR),
                       ("blk", stat.S_IFBLK)):
        os.mknod(os.path.join(d, name), kind, os.makedev(0, 0))
        os.chmod(os.path.join(d, name), 0)


def _free_id(taken):
    for i in range(999, 100, -1):
        if i not in taken:
            return i
    raise Skip("no free system uid/gid below 1000")


def _add_users(names):
    """Private /etc/passwd and /etc/group with a system user and group per
    name, as systemd-sysusers would add them; returns {name: (uid, gid)}."""
    ids = {}
    files = {}
    for f in ("passwd", "group"):
        with open("/etc/" + f) as fh:
            files[f] = fh.read()
    taken = {int(l.split(":")[2]) for f in files.values()
             for l in f.splitlines() if l.count(":") >= 3}
    known = {l.split(":")[0] for l in files["passwd"].splitlines()}
    for name in dict.fromkeys(names):
        if name in known:
            pw = pwd.getpwnam(name)
            ids[name] = (pw.pw_uid, pw.pw_gid)
            continue
        i = _free_id(taken)
        taken.add(i)
        ids[name] = (i, i)
        files["passwd"] += "%s:x:%d:%d:%s (test):/:/usr/sbin/nologin\n" % (
            name, i, i, name)
        files["group"] += "%s:x:%d:\n" % (name, i)
    return ids, files


def private_host(users=()):
    """Move this process, and everything it starts from now on, into a
    mount namespace of its own that looks like a host booted with systemd,
    so that a real unit keeps its whole sandbox under user_manager() and
    nothing of the machine (nor of tests running beside this one) changes:

    - /run becomes a mount point: ProtectProc=, ProcSubset=,
      ProtectKernelTunables= and ProtectControlGroups= imply MountAPIVFS=,
      which lays an empty tmpfs over /run when it is not one (as on this
      kind of VM), hiding journald's sockets from the unit;
    - /run/systemd, /run/log and /var/log/journal are private tmpfs, so
      journald() starts a journald of our own whose journal holds only
      this test's records, and no other test can stop it;
    - /run/systemd/inaccessible holds the nodes PID 1 makes at boot
      (ProtectHome= fails with 226/NAMESPACE without them);
    - each name in users becomes a system user and group in private
      copies of /etc/passwd and /etc/group (User=, Group=).

    Returns (root, ids): root is a private directory outside /tmp, for
    files the unit must read (PrivateTmp= hides /tmp from it); ids maps
    each name to (uid, gid).  There is no way back: call it in the test
    that needs it, before any thread starts (unshare refuses a process
    with threads).  Raises Skip where the machine refuses."""
    if os.geteuid() != 0:
        raise Skip("a private mount namespace needs root")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWNS) != 0:
        raise Skip("unshare(CLONE_NEWNS): %s" %
                   os.strerror(ctypes.get_errno()))
    _mount(libc, None, "/", None, _MS_REC | _MS_PRIVATE)
    if not os.path.ismount("/run"):
        _mount(libc, "/run", "/run", None, _MS_BIND | _MS_REC)
    # Mount points need a directory; journald() would make these anyway.
    os.makedirs("/run/systemd", exist_ok=True)
    os.makedirs("/run/log", exist_ok=True)
    for path in ("/run/systemd", "/run/log", "/var/log/journal"):
        if os.path.isdir(path):
            _mount(libc, "tmpfs", path, "tmpfs", 0, "mode=0755")
    _inaccessible_nodes("/run/systemd")
    root = "/run/systemd/test-root"  # on the private tmpfs
    os.mkdir(root, 0o755)
    ids, files = _add_users(users)
    for f, text in files.items():
        copy = os.path.join(root, "etc-" + f)
        with open(copy, "w") as fh:
            fh.write(text)
        os.chmod(copy, 0o644)
        _mount(libc, copy, "/etc/" + f, None, _MS_BIND)
    return root, ids
