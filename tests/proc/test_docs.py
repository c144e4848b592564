"""The documentation keeps up with the code: both man pages pass `mandoc
-T lint` and render with `man -l` without a groff warning; spookyd(8)
names every option of `spookyd --help`, spookyd.conf(5) every key of the
config table under its section; README's layout names every part of src/
and every page in docs/, and names nothing that is not there."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from spookyd import TOP, Skip, check, run, run_tests  # noqa: E402

PAGES = ["docs/spookyd.8", "docs/spookyd.conf.5"]


def read(rel):
    with open(os.path.join(TOP, rel), encoding="utf-8") as f:
        return f.read()


def test_man_pages_lint_clean(tmp):
    if not shutil.which("mandoc"):
        raise Skip("mandoc is not installed (tests/setup-deps)")
    # Warnings and worse; STYLE notes such as "referenced manual not
    # found" depend on the machine's manual database.
    r = subprocess.run(["mandoc", "-T", "lint", "-W", "warning"] +
                       [os.path.join(TOP, p) for p in PAGES],
                       capture_output=True, text=True)
    check(r.stdout + r.stderr == "", r.stdout + r.stderr)


def test_man_pages_render(tmp):
    if not shutil.which("man"):
        raise Skip("man is not installed (tests/setup-deps)")
    for page in PAGES:
        r = subprocess.run(["man", "--warnings", "-l", "-P", "cat",
                            os.path.join(TOP, page)], capture_output=True,
                           text=True, env=dict(os.environ, MANWIDTH="80"))
        check(r.returncode == 0 and r.stderr == "", page + ": " + r.stderr)
        check("SYNOPSIS" in r.stdout or "DESCRIPTION" in r.stdout,
              page + " rendered empty")


def test_man_page_names_every_option(tmp):
    r = run("--help")
    options = set(re.findall(r"--([a-z]+)", r.stdout))
    check(len(options) >= 8, r.stdout)
    page = read("docs/spookyd.8")
    missing = [o for o in sorted(options)
               if not re.search(r"^\.(?:It|Op) .*Fl -%s\b" % o, page,
                                re.M)]
    check(missing == [], "spookyd.8 lacks --%s" % ", --".join(missing))


def config_keys():
    """(section, key) of every entry of the config table in cfg.c."""
    return re.findall(r'KEY\("([a-z]+)", "([a-z_0-9]+)"',
                      read("src/core/cfg.c"))


def test_conf_page_names_every_key(tmp):
    keys = config_keys()
    check(len(keys) > 20, keys)
    page = read("docs/spookyd.conf.5")
    sections = {}
    for part in re.split(r"^\.Ss ", page, flags=re.M)[1:]:
        m = re.match(r"(?:\\&)?\[([a-z]+)\]", part)
        if m:
            sections[m.group(1)] = part
    missing = ["[%s] %s" % (s, k) for s, k in keys
               if not re.search(r"^\.It Cm (?:.* )?%s\b" % k,
                                sections.get(s, ""), re.M)]
    check(missing == [], "spookyd.conf.5 lacks " + ", ".join(missing))


def layout_block():
    text = read("README.md")
    m = re.search(r"^## Layout\n\n((?:    .*\n|\n)+)", text, re.M)
    check(m, "README has no Layout section")
    return m.group(1)


def test_readme_layout_matches_the_tree(tmp):
    block = layout_block()
    named = set(re.findall(r"(?<![\w/.-])((?:src|docs|include|conf|tests|"
                           r"systemd|packer|terraform)/[\w./-]*)", block))
    for path in named:
        check(os.path.exists(os.path.join(TOP, path)),
              "README names %s, which does not exist" % path)
    src = os.path.join(TOP, "src")
    want = ["src/" + e + ("/" if os.path.isdir(os.path.join(src, e))
                          else "")
            for e in os.listdir(src)
            if e.endswith(".c") or os.path.isdir(os.path.join(src, e))]
    want += ["docs/" + e for e in os.listdir(os.path.join(TOP, "docs"))
             if e.endswith(".md")]
    missing = sorted(w for w in want if w not in named)
    check(missing == [], "README's layout lacks " + ", ".join(missing))


if __name__ == "__main__":
    run_tests(globals())
