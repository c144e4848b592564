"""Where spookyd's CPU goes in a --once cycle, for make bench.

Two profilers, each turned into the same handful of categories (base64,
SHA-256, TLS, JSON, copies, page faults, ...):
  perf    sampling with call stacks (DWARF unwinding), kernel included,
          native code paths; with hardware counters if `perf stat -e
          instructions` counts here, else the cpu-clock software event.
  callgrind (valgrind) user-space instructions, exact but emulated: its
          CPU lacks SHA-NI, so OpenSSL takes a slower SHA-256 path.
A sample or function goes to the first category that names one of its
frames, from the innermost outwards.  Relies on perf, valgrind and
callgrind_annotate being installed; each part reports None otherwise.
"""
import collections
import os
import re
import shutil
import subprocess

START_EXIT = {
    "_dl_start", "_dl_start_final", "_dl_init", "_dl_relocate_object",
    "dl_main", "_dl_map_object", "__x64_sys_execve", "do_exit",
    "do_group_exit", "exit_mmap", "_dl_fini", "__run_exit_handlers",
    "curl_global_init", "curl_global_cleanup", "OPENSSL_init_crypto",
    "OPENSSL_cleanup", "_dl_catch_exception", "_dl_sysdep_start",
}
START_EXIT_NAME = "process start and exit (exec, linking, lib init)"

# (category, exact names, name prefixes), tried innermost frame first.
RULES = [
    ("base64 decode + check",
     {"EVP_DecodeBlock", "EVP_DecodeUpdate", "EVP_DecodeFinal",
      "EVP_EncodeBlock", "openai_b64_decode", "openai_b64_char",
      "openai_unescape", "openai_b64_scan",
      # callgrind sees no inlining: openai_succeeded's own instructions
      # are almost all its inlined openai_b64_scan loop.
      "openai_succeeded"}, ()),
    ("SHA-256 (payload hashes, HMAC)",
     {"SHA256_Update", "SHA256_Final", "SHA256_Init", "SHA256",
      "sigv4_sha256_hex", "s3_digest", "EVP_Digest", "EVP_DigestUpdate",
      "EVP_DigestFinal_ex", "HMAC", "SHA1_Update"},
     ("sha256_block", "ossl_sha256", "sha1_block")),
    ("TLS", set(), ("SSL_", "ssl3_", "ssl_", "tls_", "tls1_", "aes",
                    "ossl_gcm", "gcm_", "CRYPTO_gcm128", "ChaCha20")),
    ("JSON (jansson, b64_json scan)",
     {"openai_find_b64", "openai_string_end", "openai_load_rest"},
     ("json_", "ddbjson_", "jsonp_")),
    ("copies (memcpy/memmove)", {"memcpy", "memmove"},
     ("__memcpy", "__memmove", "__mempcpy")),
    ("kernel: page faults (first touch of new memory)",
     {"exc_page_fault", "asm_exc_page_fault", "do_anonymous_page",
      "handle_mm_fault"}, ()),
    ("kernel: mmap/munmap/mremap/brk",
     {"__x64_sys_munmap", "__x64_sys_mremap", "__x64_sys_brk",
      "__x64_sys_mmap", "__x64_sys_madvise"}, ()),
    ("kernel: socket receive",
     {"__x64_sys_recvfrom", "tcp_recvmsg", "__x64_sys_recvmsg"}, ()),
    ("kernel: socket send",
     {"__x64_sys_sendto", "__x64_sys_sendmsg", "tcp_sendmsg"}, ()),
    ("kernel: epoll and scheduling",
     {"__x64_sys_epoll_wait", "__x64_sys_epoll_pwait", "do_epoll_wait",
      "schedule", "__schedule", "__x64_sys_epoll_ctl"}, ()),
    ("malloc/free",
     {"malloc", "free", "realloc", "calloc", "_int_malloc", "_int_free",
      "_int_realloc", "__libc_malloc", "__libc_free", "__libc_realloc",
      "__GI___libc_free", "__GI___libc_malloc", "__GI___libc_realloc",
      "malloc_consolidate", "mremap_chunk", "munmap_chunk"}, ()),
    ("logging", set(), ("log_msg", "log_emit")),
]
BY_DSO = [("libcurl", "HTTP (libcurl)"), ("libuv", "event loop (libuv)"),
          ("libcrypto", "libcrypto other"), ("libjansson", "JSON (jansson,"
                                             " b64_json scan)"),
          ("ld-linux", START_EXIT_NAME), ("kernel", "kernel: other"),
          ("libc.so", "libc other"), ("spookyd", "spookyd other")]


def categorize(frames):
    """Category of one stack: frames is [(symbol, dso)], innermost
    first."""
    names = {s for s, _ in frames}
    if names & START_EXIT:
        return START_EXIT_NAME
    for sym, _ in frames:
        for cat, exact, prefixes in RULES:
            if sym in exact or (prefixes and sym.startswith(prefixes)):
                return cat
    dso = frames[0][1] if frames else ""
    for part, cat in BY_DSO:
        if part in dso:
            return cat
    return "other"


# --- perf ---------------------------------------------------------------

def perf_event():
    """"instructions" if hardware counters count here, "cpu-clock" if
    perf works at all, else None."""
    if shutil.which("perf") is None:
        return None
    r = subprocess.run(["perf", "stat", "-x,", "-e", "instructions",
                        "true"], capture_output=True, text=True)
    field = r.stderr.strip().split("\n")[-1].split(",")[0] if r.stderr \
        else ""
    if r.returncode == 0 and field.isdigit():
        return "instructions"
    r = subprocess.run(["perf", "stat", "-x,", "-e", "cpu-clock", "true"],
                       capture_output=True, text=True)
    return "cpu-clock" if r.returncode == 0 else None


def perf_record(argv, out, event, env, freq=10000):
    """Run argv under perf record (DWARF call stacks); returns its exit
    status."""
    cmd = ["perf", "record", "-q", "-o", out, "-e", event,
           "--call-graph", "dwarf,16384"]
    if event == "cpu-clock":
        cmd += ["-F", str(freq)]
    with open(out + ".log", "w") as log:
        return subprocess.run(cmd + ["--"] + argv, env=env,
                              stdout=subprocess.DEVNULL, stderr=log,
                              stdin=subprocess.DEVNULL).returncode


def perf_samples(data):
    """Counter of categories over the samples (weighted by period) and
    the total weight."""
    p = subprocess.run(["perf", "script", "-i", data, "-F",
                        "period,ip,sym,dso"], capture_output=True, text=True)
    counts = collections.Counter()
    total = 0
    for block in p.stdout.split("\n\n"):
        lines = [l for l in block.split("\n") if l.strip()]
        if not lines:
            continue
        head = lines[0].split()
        try:
            period = int(head[0])
        except (IndexError, ValueError):
            continue
        frames = []
        for l in lines[1:]:
            m = re.match(r"\s*[0-9a-f]+ (.*) \((.*)\)$", l)
            if m:
                sym = re.sub(r"\+0x[0-9a-f]+$", "", m.group(1))
                sym = sym.replace(" (inlined)", "")
                frames.append((sym, os.path.basename(m.group(2))))
        counts[categorize(frames)] += period
        total += period
    return counts, total


# --- callgrind ------------------------------------------------------------

def callgrind_record(argv, out, env):
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out]
    with open(out + ".log", "w") as log:
        return subprocess.run(cmd + argv, env=env, stdout=subprocess.DEVNULL,
                              stderr=log,
                              stdin=subprocess.DEVNULL).returncode


_ANN = re.compile(r"^\s*([\d,]+) \([ \d.]+%\)\s+([<>* ])\s*(.*?)"
                  r"(?: \((\d+)x\))?(?: \[(.*)\])?$")


def _fn_name(text):
    # "file:function" -> "function"; the file part may hold colons too.
    return text.rsplit(":", 1)[-1].strip()


def callgrind_categories(out):
    """Counter of categories over self instruction counts, and the total.
    Unnamed functions (stripped libraries) take the name of their biggest
    caller, which callgrind_annotate --tree=caller lists above them."""
    p = subprocess.run(["callgrind_annotate", "--tree=caller",
                        "--threshold=100", "--auto=no", out],
                       capture_output=True, text=True)
    counts = collections.Counter()
    total = 0
    callers = []
    for line in p.stdout.splitlines():
        if "PROGRAM TOTALS" in line:
            total = int(line.split()[0].replace(",", ""))
            continue
        m = _ANN.match(line)
        if not m:
            callers = []
            continue
        ir = int(m.group(1).replace(",", ""))
        kind, name, dso = m.group(2), _fn_name(m.group(3)), m.group(5) or ""
        if kind == "<":
            callers.append((ir, _fn_name(m.group(3)), dso))
            continue
        if kind != "*":
            continue
        frames = [(name, os.path.basename(dso))]
        if name.startswith("0x") and callers:
            big = max(callers)
            frames.append((big[1], os.path.basename(big[2])))
        counts[categorize(frames)] += ir
        callers = []
    return counts, total


def top_functions(out, n=12):
    """[(instructions, function, object)] with the most self cost."""
    p = subprocess.run(["callgrind_annotate", "--threshold=100",
                        "--auto=no", out], capture_output=True, text=True)
    rows = []
    for line in p.stdout.splitlines():
        m = _ANN.match(line)
        if m and m.group(2) == " " and "PROGRAM TOTALS" not in line:
            rows.append((int(m.group(1).replace(",", "")),
                         _fn_name(m.group(3)),
                         os.path.basename(m.group(5) or "")))
    return sorted(rows, reverse=True)[:n]
