"""Helpers for process tests that run the real spookyd binary.

A test file defines test_* functions and ends with run_tests(globals()).
Each test gets a fresh temporary directory (the `tmp` argument).  A test
raises Skip("reason") when the machine cannot run it; the file then exits
77 if nothing ran, and every skip is printed with its reason.

Environment (set by tests/run): SPOOKYD_BIN, SPOOKYD_TOP, and
SPOOKYD_WRAPPER (e.g. a valgrind command line) to run the daemon under.
"""
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

TOP = os.environ.get("SPOOKYD_TOP") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("SPOOKYD_BIN") or os.path.join(
    TOP, "build", "default", "spookyd")
WRAPPER = shlex.split(os.environ.get("SPOOKYD_WRAPPER", ""))
# valgrind slows start-up and shutdown by an order of magnitude.
SLOW = 10.0 if WRAPPER else 1.0


class Skip(Exception):
    """Raised by a test the machine cannot run; the message says why."""


def command(*args):
    """argv for running spookyd with args, under the wrapper if any."""
    return WRAPPER + [BIN] + list(args)


def run(*args, env=None, timeout=30):
    """Run spookyd to completion; returns CompletedProcess (text)."""
    return subprocess.run(command(*args), capture_output=True, text=True,
                          env=env, timeout=timeout * SLOW)


TEST_CALENDAR = """{
  "Prompt": "A spooky illustration for National ",
  "january": {"15": ["Hat", "Strawberry Ice Cream"]},
  "july": {"10": ["Pi\\u00f1a Colada", "Don't Cry Over Spilled Milk"]},
  "december": {"3": ["Roof Over Your Head"]}
}
"""

BASE_CONFIG = {
    "daemon": {"log_level": "info"},
    "schedule": {"cron": "0 8 * * mon-fri", "timezone": "America/New_York",
                 "catch_up": "0"},
    "calendar": {"source": "calendar.json"},
    "aws": {"bucket": "spooky", "table": "jobs"},
    "x": {"credentials": "env:X_CREDENTIALS"},
}


def config_text(overrides=None):
    """INI text of BASE_CONFIG with overrides ({section: {key: value}}; a
    value of None removes the key)."""
    sections = {s: dict(kv) for s, kv in BASE_CONFIG.items()}
    for sec, kv in (overrides or {}).items():
        sections.setdefault(sec, {})
        for k, v in kv.items():
            if v is None:
                sections[sec].pop(k, None)
            else:
                sections[sec][k] = v
    out = []
    for sec, kv in sections.items():
        out.append("[%s]" % sec)
        out.extend("%s = %s" % (k, v) for k, v in kv.items())
        out.append("")
    return "\n".join(out)


def write_config(tmp, overrides=None, name="spookyd.conf", calendar=None):
    """Write a config (and its calendar) into tmp; returns the path."""
    with open(os.path.join(tmp, "calendar.json"), "w") as f:
        f.write(TEST_CALENDAR if calendar is None else calendar)
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(config_text(overrides))
    return path


class NotifySocket:
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []

    def _drain(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            return False
        self.messages.append(data.decode())
        return True

    def wait_for(self, pred, timeout=5.0, what="message"):
        """Wait for a message m with pred(m) true that was not returned
        before; returns it.  Raises AssertionError on timeout."""
        deadline = time.monotonic() + timeout * SLOW
        seen = getattr(self, "_seen", 0)
        while True:
            for i in range(seen, len(self.messages)):
                if pred(self.messages[i]):
                    self._seen = i + 1
                    return self.messages[i]
            seen = len(self.messages)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s from the daemon; got %r" %
                                     (what, self.messages))
            self._drain(min(left, 0.5))

    def close(self):
        self.sock.close()


def fields(message):
    """'A=1\\nB=2' -> {'A': '1', 'B': '2'}"""
    return dict(l.split("=", 1) for l in message.split("\n") if "=" in l)


class Daemon:
    """spookyd running in the foreground, stderr captured to a file."""

    def __init__(self, tmp, config, env=None, args=()):
        self.stderr_path = os.path.join(tmp, "stderr.log")
        self.stderr_file = open(self.stderr_path, "w")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            command("-c", config, "--log=stderr", *args),
            stdout=subprocess.DEVNULL, stderr=self.stderr_file, env=full_env)

    def signal(self, signum):
        self.proc.send_signal(signum)

    def wait(self, timeout=5.0):
        return self.proc.wait(timeout=timeout * SLOW)

    def stderr(self):
        if not self.stderr_file.closed:
            self.stderr_file.flush()
        with open(self.stderr_path) as f:
            return f.read()

    def wait_stderr(self, needle, timeout=5.0):
        deadline = time.monotonic() + timeout * SLOW
        while needle not in self.stderr():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("%r not in stderr:\n%s" %
                                     (needle, self.stderr()))
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr_file.close()


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def run_tests(namespace):
    """Run every test_* function in namespace; exit 0, 1, or 77."""
    tests = [(n, f) for n, f in namespace.items()
             if n.startswith("test_") and callable(f)]
    only = os.environ.get("TEST_ONLY")
    passed = failed = skipped = 0
    for name, fn in tests:
        if only and only not in name:
            continue
        with tempfile.TemporaryDirectory(prefix="spookyd-") as tmp:
            try:
                fn(tmp)
            except Skip as e:
                skipped += 1
                print("  SKIP %s: %s" % (name, e), flush=True)
                continue
            except Exception:
                failed += 1
                print("  FAIL %s" % name, flush=True)
                traceback.print_exc(file=sys.stdout)
                continue
        passed += 1
        print("  ok   %s" % name, flush=True)
    print("  %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    if failed:
        sys.exit(1)
    sys.exit(77 if passed == 0 and skipped else 0)
