"""The libFuzzer targets of tests/fuzz build (clang, ASan, UBSan) and
replay every seed of their corpus without a crash, leak or broken
invariant.  No fuzzing happens here (`make fuzz` does that), so the run
is short and its result does not depend on time.  Skipped, with the
reason, when clang or its libFuzzer runtime is missing."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from spookyd import TOP, check, run_tests  # noqa: E402

FUZZ_CC = os.environ.get("FUZZ_CC", "clang")
CORPUS = os.path.join(TOP, "tests", "fuzz", "corpus")
PROBE = "int LLVMFuzzerTestOneInput(const char *d, unsigned long n)" \
        "{ (void)d; (void)n; return 0; }\n"


def targets():
    """Target names from tests/fuzz/fuzz_<name>.c."""
    return sorted(os.path.basename(p)[5:-2] for p in
                  glob.glob(os.path.join(TOP, "tests", "fuzz", "fuzz_*.c")))


def seeds(name):
    d = os.path.join(CORPUS, name)
    return sorted(os.path.join(d, f) for f in os.listdir(d)) \
        if os.path.isdir(d) else []


def make_env():
    # Not the calling make's jobserver: its descriptors are not ours.
    return {k: v for k, v in os.environ.items()
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}


def libfuzzer_missing():
    """Why FUZZ_CC cannot build a libFuzzer target, or None."""
    if shutil.which(FUZZ_CC) is None:
        return ("%s not found: the fuzz targets need clang with libFuzzer "
                "(Debian: clang, libclang-rt-14-dev)" % FUZZ_CC)
    with tempfile.TemporaryDirectory(prefix="spookyd-") as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(PROBE)
        r = subprocess.run([FUZZ_CC, "-fsanitize=fuzzer,address,undefined",
                            "-o", os.path.join(tmp, "probe"), src],
                           capture_output=True, text=True)
    if r.returncode != 0:
        return ("%s cannot link -fsanitize=fuzzer (libFuzzer runtime "
                "missing? Debian: libclang-rt-14-dev): %s" %
                (FUZZ_CC, " ".join(r.stderr.strip().splitlines()[-1:])))
    return None


def test_every_target_has_seeds(tmp):
    names = targets()
    check(len(names) >= 15, "only %d fuzz targets: %s" % (len(names), names))
    for name in names:
        check(len(seeds(name)) > 0, "no seeds in tests/fuzz/corpus/" + name)
    for d in os.listdir(CORPUS):
        check(d in names, "tests/fuzz/corpus/%s has no fuzz_%s.c" % (d, d))
    total = sum(os.path.getsize(p) for n in names for p in seeds(n))
    check(total < 1 << 20, "seed corpora hold %d bytes (keep < 1 MB)" % total)


def test_seeds_replay(tmp):
    names = targets()
    bins = ["build/fuzz/fuzz_" + n for n in names]
    r = subprocess.run(["make", "-s", "-j2", "-C", TOP, "FUZZ_CC=" + FUZZ_CC]
                       + bins, capture_output=True, text=True, env=make_env())
    check(r.returncode == 0, "building the fuzz targets failed:\n" +
          r.stdout[-3000:] + r.stderr[-3000:])
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    for name, binary in zip(names, bins):
        files = seeds(name)
        # Files, not a directory: libFuzzer then only runs them, never
        # writes, and never starts fuzzing.  The timeout guards a hang.
        r = subprocess.run([os.path.join(TOP, binary)] + files,
                           capture_output=True, text=True, env=env,
                           timeout=600, cwd=tmp)
        ran = r.stderr.count("\nExecuted ") + r.stderr.startswith("Executed ")
        check(r.returncode == 0, "fuzz_%s failed on its seeds (exit %d):\n%s"
              % (name, r.returncode, r.stderr[-4000:]))
        check(ran == len(files), "fuzz_%s ran %d of %d seeds" %
              (name, ran, len(files)))
        print("  fuzz_%s: %d seeds replayed" % (name, len(files)), flush=True)


if __name__ == "__main__":
    why = libfuzzer_missing()
    if why is not None:
        print("SKIP: " + why, flush=True)
        sys.exit(77)
    run_tests(globals())
