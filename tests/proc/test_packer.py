"""packer/ passes Debian's Packer 1.6.6 `packer validate` (the full check,
not -syntax-only: it needs no AWS credentials and no network) for both
architectures and `packer fmt -check`; a mutated copy fails validation.
provision.sh parses, names real Debian packages, and its runtime list
covers every library the built spookyd links."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from spookyd import BIN, TOP, Skip, check, run_tests  # noqa: E402

PACKER_DIR = os.path.join(TOP, "packer")
PROVISION = os.path.join(PACKER_DIR, "provision.sh")
# Part of every Debian system: provision.sh need not name them.
BASE_PACKAGES = {"libc6"}


def packer(tmp, *args, cwd=TOP):
    """Run packer offline: no AWS credentials or config, no update check."""
    if not shutil.which("packer"):
        raise Skip("packer is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=tmp, CHECKPOINT_DISABLE="1",
               AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_EC2_METADATA_DISABLED="true")
    r = subprocess.run(["packer"] + list(args), cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def shell_list(name):
    """The words of NAME="..." in provision.sh."""
    with open(PROVISION) as f:
        m = re.search(r'^%s="([^"]*)"' % name, f.read(), re.M)
    check(m, "provision.sh sets no %s" % name)
    return m.group(1).split()


def owner(path):
    """The Debian package that ships path; bookworm's merged /usr means
    the file may be listed under /lib or /usr/lib."""
    real = os.path.realpath(path)
    for p in (path, real, re.sub(r"^/usr/lib/", "/lib/", real)):
        r = subprocess.run(["dpkg", "-S", p], capture_output=True,
                           text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0]
    return None


def test_validate_arm64_default(tmp):
    rc, out = packer(tmp, "validate", "packer/")
    check(rc == 0, out)


def test_validate_amd64(tmp):
    rc, out = packer(tmp, "validate", "-var", "arch=amd64",
                     "-var", "instance_type=t3.small", "packer/")
    check(rc == 0, out)


def test_validate_refuses_an_unknown_arch(tmp):
    rc, out = packer(tmp, "validate", "-var", "arch=x86", "packer/")
    check(rc != 0 and "arm64 or amd64" in out, "rc %d: %s" % (rc, out))


def test_validate_notices_an_unknown_argument(tmp):
    copy = os.path.join(tmp, "packer")
    shutil.copytree(PACKER_DIR, copy)
    path = os.path.join(copy, "spookyd.pkr.hcl")
    with open(path) as f:
        text = f.read()
    check("ssh_username" in text, "template has no ssh_username")
    with open(path, "w") as f:
        f.write(text.replace("ssh_username", "ssh_user_name", 1))
    rc, out = packer(tmp, "validate", copy)
    check(rc != 0 and "ssh_user_name" in out, "rc %d: %s" % (rc, out))


def test_fmt_clean(tmp):
    rc, out = packer(tmp, "fmt", "-check", "-diff", "packer/")
    check(rc == 0, "packer fmt would change:\n" + out)


def test_provision_script_parses(tmp):
    r = subprocess.run(["sh", "-n", PROVISION], capture_output=True,
                       text=True)
    check(r.returncode == 0, r.stderr)


def test_provision_names_real_packages(tmp):
    if not shutil.which("apt-cache"):
        raise Skip("apt-cache is not installed")
    names = shell_list("BUILD_DEPS") + shell_list("RUNTIME")
    r = subprocess.run(["apt-cache", "show", "--no-all-versions"] + names,
                       capture_output=True, text=True)
    found = set(re.findall(r"^Package: (\S+)", r.stdout, re.M))
    check(set(names) <= found, "not in apt: %s" % sorted(set(names) - found))


def test_runtime_covers_linked_libraries(tmp):
    for tool in ("readelf", "ldd", "dpkg"):
        if not shutil.which(tool):
            raise Skip("%s is not installed" % tool)
    if not os.path.exists(BIN):
        raise Skip("spookyd is not built")
    if os.environ.get("SANITIZE") == "1":
        raise Skip("the sanitizer build links libasan and libubsan; the "
                   "AMI gets the plain build")
    needed = re.findall(r"\(NEEDED\).*\[(\S+)\]", subprocess.run(
        ["readelf", "-d", BIN], capture_output=True, text=True).stdout)
    resolved = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.run(
        ["ldd", BIN], capture_output=True, text=True).stdout, re.M))
    check(needed and set(needed) <= set(resolved), (needed, resolved))
    runtime = set(shell_list("RUNTIME"))
    for lib in needed:
        pkg = owner(resolved[lib])
        check(pkg, "no package owns " + resolved[lib])
        check(pkg in runtime or pkg in BASE_PACKAGES,
              "%s comes from %s, which provision.sh does not install" %
              (lib, pkg))


if __name__ == "__main__":
    run_tests(globals())
