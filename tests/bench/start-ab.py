#!/usr/bin/env python3
"""Start -> attached of two (or more) tracegate-runner builds, interleaved,
for before/after figures finer than bench.py's: stderr is a pipe read as
it arrives (bench.py polls a file every 2 ms), the builds alternate in
ABBA order so that the machine's load hits each alike, and every build
gets its own warm cache (one run per build before measuring).

    start-ab.py [--runs N] [--cold] RUNNER [RUNNER...]
    start-ab.py RUNNER:ENV=VALUE ...     (e.g. bin/tracegate-runner:TRACEGATE_COMPILE_JAIL=off)

Prints min, quartiles and median per build, in ms.  Never fails on a
timing.
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

OPENAT = 'tracepoint:syscalls:sys_enter_openat { printf("%s %s\\n", comm, str(args->filename)); }'


def start_ms(runner, cache, env):
    env = dict(os.environ, __BPFTRACE_NOTIFY_PROBES_ATTACHED="1", **env)
    r, w = os.pipe()
    t0 = time.monotonic()
    p = subprocess.Popen([runner, "exec", "--cache-dir", cache, "-e", OPENAT],
                         stdout=subprocess.DEVNULL, stderr=w, env=env)
    os.close(w)
    seen = b""
    while b"__BPFTRACE_NOTIFY_PROBES_ATTACHED" not in seen:
        d = os.read(r, 4096)
        if not d:
            raise SystemExit("%s did not attach: %s" % (runner, seen.decode(errors="replace")))
        seen += d
    t = time.monotonic() - t0
    p.send_signal(signal.SIGINT)
    while os.read(r, 4096):
        pass
    p.wait()
    os.close(r)
    return t * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--cold", action="store_true", help="an empty cache every run")
    ap.add_argument("runners", nargs="+")
    args = ap.parse_args()
    builds = []
    for a in args.runners:
        path, *envs = a.split(":")
        builds.append((a, os.path.abspath(path), dict(e.split("=", 1) for e in envs)))
    work = tempfile.mkdtemp(prefix="tg-start-ab.")
    res = {b[0]: [] for b in builds}
    try:
        for i, b in enumerate(builds):
            start_ms(b[1], os.path.join(work, "warm-%d" % i), b[2])
        for run in range(args.runs):
            order = list(enumerate(builds)) if run % 2 == 0 else list(enumerate(builds))[::-1]
            for i, b in order:
                cache = os.path.join(work, ("cold-%d-%d" % (run, i)) if args.cold else "warm-%d" % i)
                res[b[0]].append(start_ms(b[1], cache, b[2]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for b in builds:
        v = sorted(res[b[0]])
        print("%-60s min %7.2f  q1 %7.2f  median %7.2f  q3 %7.2f ms" %
              (b[0], v[0], v[len(v) // 4], statistics.median(v), v[3 * len(v) // 4]))


if __name__ == "__main__":
    main()
