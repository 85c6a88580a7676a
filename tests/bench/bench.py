#!/usr/bin/env python3
"""tracegate against bpftrace 0.17, measured in the same run, printed as
ratios (tracegate / bpftrace).  Never fails a build on a timing: it prints.

  start->attached (cold)   process start until __BPFTRACE_NOTIFY_PROBES_ATTACHED;
                           tracegate with an empty object cache
  start->attached (cached) the same program again, cache warm
  exit->maps printed       SIGINT until the process has printed its maps and exited
  ns/event outside scope   extra cost of one getppid() while traced, the task
                           outside the scope (bpftrace: a cgroup predicate that fails)
  ns/event inside scope    the same with the task inside (predicate true), @ = count()
  printf events/s to file  one printf per getppid(), output to a file
  peak memory (KiB)        VmHWM of the tracer process (tracegate: the runner,
                           not clang, which runs as a child and exits)

    bench.py [--runs N] [--events N] [--json FILE]
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
RUNNER = os.path.join(TOP, "bin", "tracegate-runner")
LOOP = os.path.join(TOP, "build", "tests", "tools", "lib-syscall-loop")
OPENAT = 'tracepoint:syscalls:sys_enter_openat { printf("%s %s\\n", comm, str(args->filename)); }'


def cgroup2_mnt():
    for line in open("/proc/self/mountinfo"):
        f = line.split()
        sep = f.index("-")
        if f[sep + 1] == "cgroup2":
            return f[4]
    raise SystemExit("no cgroup2 mount")


class Tracer:
    """A running tracer: start it, wait until attached, stop it."""

    def __init__(self, argv, out=None):
        self.errf = tempfile.TemporaryFile()
        self.out = out or subprocess.DEVNULL
        env = dict(os.environ, __BPFTRACE_NOTIFY_PROBES_ATTACHED="1")
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(argv, stdout=self.out, stderr=self.errf, env=env)
        self.attached_s = None
        self.hwm_kib = 0

    def wait_attached(self, limit=60):
        while time.monotonic() - self.t0 < limit:
            self.errf.seek(0)
            if b"__BPFTRACE_NOTIFY_PROBES_ATTACHED" in self.errf.read():
                self.attached_s = time.monotonic() - self.t0
                return self.attached_s
            if self.p.poll() is not None:
                break
            time.sleep(0.002)
        self.errf.seek(0)
        raise RuntimeError("did not attach: %s" % self.errf.read().decode(errors="replace")[-500:])

    def sample_memory(self):
        try:
            for line in open("/proc/%d/status" % self.p.pid):
                if line.startswith("VmHWM:"):
                    self.hwm_kib = max(self.hwm_kib, int(line.split()[1]))
        except OSError:
            pass

    def stop(self):
        """SIGINT, then seconds until the process printed its maps and exited."""
        self.sample_memory()
        t = time.monotonic()
        self.p.send_signal(signal.SIGINT)
        self.p.wait(30)
        return time.monotonic() - t


def tg(prog, cache, extra=()):
    return [RUNNER, "exec", "--cache-dir", cache] + list(extra) + ["-e", prog]


def bt(prog):
    return ["bpftrace", "-e", prog]


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def loop_ns(n, cgdir=None):
    argv = [LOOP, str(n)] + ([cgdir] if cgdir else [])
    return float(subprocess.check_output(argv).decode().strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--events", type=int, default=2000000)
    ap.add_argument("--json")
    args = ap.parse_args()
    for need in (RUNNER, LOOP):
        if not os.access(need, os.X_OK):
            raise SystemExit("bench: %s is missing: run make first" % need)
    work = tempfile.mkdtemp(prefix="tg-bench.")
    mnt = cgroup2_mnt()
    cg_in = os.path.join(mnt, "tg-bench-%d-in" % os.getpid())
    cg_out = os.path.join(mnt, "tg-bench-%d-out" % os.getpid())
    os.mkdir(cg_in)
    os.mkdir(cg_out)
    cgid_in = os.stat(cg_in).st_ino
    cgid_out = os.stat(cg_out).st_ino
    res = {}
    try:
        # --- start to attached, exit to maps printed, peak memory ---
        cold, cached, btstart, tgexit, btexit, tgmem, btmem = [], [], [], [], [], [], []
        for i in range(args.runs):
            cache = os.path.join(work, "cache-%d" % i)
            t = Tracer(tg(OPENAT, cache))
            cold.append(t.wait_attached())
            t.stop()
            t = Tracer(tg(OPENAT, cache))
            cached.append(t.wait_attached())
            t.stop()
            b = Tracer(bt(OPENAT))
            btstart.append(b.wait_attached())
            b.sample_memory()
            btexit.append(b.stop())
            btmem.append(b.hwm_kib)
            mp = 'tracepoint:syscalls:sys_enter_getppid { @c[comm] = count(); @h = hist(pid); }'
            t = Tracer(tg(mp, cache))
            t.wait_attached()
            loop_ns(100000)
            t.sample_memory()
            tgexit.append(t.stop())
            tgmem.append(t.hwm_kib)
            b = Tracer(bt(mp))
            b.wait_attached()
            loop_ns(100000)
            b.stop()
        res["start_attached_cold"] = (median(cold), median(btstart))
        res["start_attached_cached"] = (median(cached), median(btstart))
        res["exit_maps_printed"] = (median(tgexit), median(btexit))
        res["peak_memory_kib"] = (median(tgmem), median(btmem))

        # --- per-event cost, outside and inside the scope ---
        n = args.events
        base = median([loop_ns(n, cg_in) for _ in range(args.runs)])
        cnt = "tracepoint:syscalls:sys_enter_getppid %s { @ = count(); }"
        for where, cg in (("outside", cg_out), ("inside", cg_in)):
            tgv, btv = [], []
            for _ in range(args.runs):
                t = Tracer(tg(cnt % "", os.path.join(work, "cache-ev"), ["--cgroup", cg]))
                t.wait_attached()
                tgv.append(loop_ns(n, cg_in) - base)
                t.stop()
                cid = cgid_in if where == "inside" else cgid_out
                b = Tracer(bt(cnt % ("/cgroup == %d/" % cid)))
                b.wait_attached()
                btv.append(loop_ns(n, cg_in) - base)
                b.stop()
            res["ns_per_event_" + where] = (median(tgv), median(btv))

        # --- printf throughput to a file ---
        pf = 'tracepoint:syscalls:sys_enter_getppid %s { printf("%%d %%s\\n", pid, comm); }'
        tgr, btr = [], []
        for _ in range(args.runs):
            for who in ("tg", "bt"):
                path = os.path.join(work, "printf-%s.out" % who)
                with open(path, "w") as f:
                    if who == "tg":
                        t = Tracer(tg(pf % "", os.path.join(work, "cache-pf"), ["--cgroup", cg_in]), out=f)
                    else:
                        t = Tracer(bt(pf % ("/cgroup == %d/" % cgid_in)), out=f)
                    t.wait_attached()
                    t0 = time.monotonic()
                    loop_ns(n // 4, cg_in)
                    elapsed = time.monotonic() - t0
                    t.stop()
                lines = sum(1 for l in open(path) if l[:1].isdigit())
                (tgr if who == "tg" else btr).append(lines / elapsed)
        res["printf_events_per_s"] = (median(tgr), median(btr))
    finally:
        for cg in (cg_in, cg_out):
            try:
                os.rmdir(cg)
            except OSError:
                pass
        shutil.rmtree(work, ignore_errors=True)

    goals = {
        "start_attached_cold": ("<=", 1.0),
        "start_attached_cached": ("<=", 0.1),
        "exit_maps_printed": ("<=", 1.0),
        "ns_per_event_outside": ("<=", 1.0),
        "ns_per_event_inside": ("<=", 1.0),
        "printf_events_per_s": (">=", 1.0),
        "peak_memory_kib": ("<=", 1 / 3),
    }
    print("%-24s %14s %14s %8s  %s" % ("measure", "tracegate", "bpftrace", "ratio", "goal"))
    for k, (a, b) in res.items():
        ratio = a / b if b else float("inf")
        op, g = goals[k]
        met = ratio <= g if op == "<=" else ratio >= g
        print("%-24s %14.4g %14.4g %8.3f  %s %.3g %s" % (k, a, b, ratio, op, g, "met" if met else "NOT met"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
