#!/usr/bin/env python3
"""tracegate against bpftrace 0.17, measured in the same run, printed as
ratios (tracegate / bpftrace).  Never fails a build on a timing: it prints.

  start->attached (cold)   process start until __BPFTRACE_NOTIFY_PROBES_ATTACHED;
                           tracegate with an empty object cache
  start->attached (cached) the same program again, cache warm
  exit->maps printed       SIGINT until the process has printed its maps and exited
  wildcard ...             WILDCARD (about 360 syscall tracepoints, @[probe] = count()):
                           start->attached (cold, cached), SIGINT until the maps are
                           printed (the last write to stdout) and until the process
                           is gone (closing the tracepoints' perf events comes last)
  ns/event outside scope   extra cost of one getppid() while traced, the task
                           outside the scope (bpftrace: a cgroup predicate that fails)
  ns/event inside scope    the same with the task inside (predicate true), @ = count()
  printf events/s to file  one printf per getppid(), output to a file
  peak memory (KiB)        VmHWM of the tracer process (tracegate: the runner,
                           not clang, which runs as a child and exits)

    bench.py [--runs N] [--events N] [--loops K] [--only WHAT,...] [--json FILE]
             [--runner PATH]

--runner measures another tracegate-runner binary (an older build, for a
before/after comparison); default: bin/tracegate-runner of this tree.

Per-event cost is noisy on a shared 2-core machine, so it is taken in
rounds: in each round both tracers are measured, in alternating order
(tracegate first in even rounds, bpftrace first in odd ones: ABBA...).  One
measurement of a tracer is: K untraced loops of --events getppid() calls
on each CPU (pinned, at most 8 CPUs), the tracer started and attached, K
traced loops per CPU, the tracer stopped, K untraced loops per CPU again.
A loop's cost is its CPU time, not its wall time.  Other load only ever
makes a loop slower, so each side takes its fastest loop: per CPU, the
extra cost is min(traced) - min(untraced around it), and the round's
figure is the mean over the CPUs.  The figure is the median over --runs rounds;
the spread (min, quartiles, max over rounds) is printed below the table.
--only picks measures: start, wildcard, events, printf (default: all).
"""
import argparse
import fcntl
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
PRINTF_EVENTS = 500000
BENCH_MAX_CPUS = 8
OPENAT = 'tracepoint:syscalls:sys_enter_openat { printf("%s %s\\n", comm, str(args->filename)); }'
WILDCARD = 'tracepoint:syscalls:sys_enter_* { @[probe] = count(); }'


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
        # O_APPEND: the child's writes go to the end whatever our seek(0)
        # and read do to the offset the two share (a write landing at 0
        # overwrote the attach marker: tools.py's sslsnoop 'did not attach')
        fcntl.fcntl(self.errf, fcntl.F_SETFL, fcntl.fcntl(self.errf, fcntl.F_GETFL) | os.O_APPEND)
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

    def stop_output(self):
        """SIGINT, then (seconds until the last write to stdout, seconds
        until the process is gone); self.out must be a file."""
        self.sample_memory()
        t = time.monotonic()
        self.p.send_signal(signal.SIGINT)
        last, last_t = os.fstat(self.out.fileno()).st_size, t
        while self.p.poll() is None:
            size = os.fstat(self.out.fileno()).st_size
            if size != last:
                last, last_t = size, time.monotonic()
            if time.monotonic() - t > 120:
                self.p.kill()
            time.sleep(0.002)
        size = os.fstat(self.out.fileno()).st_size
        if size != last:
            last_t = time.monotonic()
        return last_t - t, time.monotonic() - t

    def stop(self):
        """SIGINT, then seconds until the process printed its maps and exited."""
        self.sample_memory()
        t = time.monotonic()
        self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(120)
        except subprocess.TimeoutExpired:
            # a tracer that ignored its SIGINT (seen with bpftrace 0.17 on
            # a machine at load 15): said, killed, and its time is the bound
            print("# %s did not exit within 120 s of SIGINT: killed" % self.p.args[0], file=sys.stderr)
            self.p.kill()
            self.p.wait()
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


def loop_cpu_ns(n, cgdir, cpu=None):
    """CPU time (user + system) of one getppid() of the loop, in ns.  The
    tracepoint and its BPF program run in the calling task, so they are in
    its system time; time spent waiting for a CPU (other engineers' load
    on a 2-core machine) is not, unlike the loop's own wall-clock figure.
    The process's start (exec, joining the cgroup) is in it too, the same
    with and without a tracer, so it cancels in the difference."""
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    p = subprocess.Popen([LOOP, str(n), cgdir], stdout=subprocess.DEVNULL, preexec_fn=pin)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError("%s exited with %d" % (LOOP, p.returncode))
    return (ru.ru_utime + ru.ru_stime) * 1e9 / n


def quartiles(xs):
    """min, 25th percentile, median, 75th percentile, max (linear)."""
    ys = sorted(xs)
    if not ys:
        return [float("nan")] * 5

    def q(f):
        k = (len(ys) - 1) * f
        lo = int(k)
        hi = min(lo + 1, len(ys) - 1)
        return ys[lo] + (ys[hi] - ys[lo]) * (k - lo)
    return [ys[0], q(0.25), q(0.5), q(0.75), ys[-1]]


def bench_cpus():
    """The CPUs the loop is pinned to in turn (at most BENCH_MAX_CPUS)."""
    return sorted(os.sched_getaffinity(0))[:BENCH_MAX_CPUS]


def traced_round(argv, n, k, cgdir):
    """Extra ns per event of one tracer, the mean over CPUs of: fastest
    traced loop on that CPU minus the fastest untraced loop on it of those
    taken just before and just after.  Per CPU because the cost is not the
    same everywhere: bpftrace opens its tracepoint's perf event on CPU 0
    only and its programs return 1, so events on CPU 0 also go through
    perf's sample path (about 40 ns more here)."""
    cpus = bench_cpus()

    def loops():
        got = {c: [] for c in cpus}
        for _ in range(k):
            for c in cpus:
                got[c].append(loop_cpu_ns(n, cgdir, c))
        return got
    base = loops()
    t = Tracer(argv)
    try:
        t.wait_attached()
        traced = loops()
    finally:
        if t.p.poll() is None:
            t.stop()
    after = loops()
    return statistics.mean(min(traced[c]) - min(base[c] + after[c]) for c in cpus)


def per_event(where, cg_in, cg_out, cgid_in, cgid_out, work, args):
    """Per-round extra ns per getppid() for tracegate and bpftrace, the
    loop always in cg_in; the scope (or predicate) is cg_in for "inside",
    cg_out for "outside"."""
    cnt = "tracepoint:syscalls:sys_enter_getppid %s { @ = count(); }"
    cg = cg_in if where == "inside" else cg_out
    cid = cgid_in if where == "inside" else cgid_out
    cache = os.path.join(work, "cache-ev")
    tg_argv = tg(cnt % "", cache, ["--cgroup", cg])
    bt_argv = bt(cnt % ("/cgroup == %d/" % cid))
    # compile once outside the measurement: the rounds start from the cache
    t = Tracer(tg_argv)
    t.wait_attached()
    t.stop()
    tgv, btv = [], []
    for i in range(args.runs):
        order = ((tg_argv, tgv), (bt_argv, btv))
        if i % 2:
            order = order[::-1]
        for argv, out in order:
            out.append(traced_round(argv, args.events, args.loops, cg_in))
    return tgv, btv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--events", type=int, default=200000)
    ap.add_argument("--loops", type=int, default=5)
    ap.add_argument("--only", default="start,wildcard,events,printf")
    ap.add_argument("--json")
    ap.add_argument("--runner")
    args = ap.parse_args()
    if args.runner:
        global RUNNER
        RUNNER = os.path.abspath(args.runner)
    only = set(args.only.split(","))
    if only - {"start", "wildcard", "events", "printf"} or args.runs < 1 or args.events < 1 or args.loops < 1:
        raise SystemExit("bench: --only takes start, wildcard, events, printf; --runs, --events, --loops >= 1")
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
    spread = {}
    try:
        # --- start to attached, exit to maps printed, peak memory ---
        cold, cached, btstart, tgexit, btexit, tgmem, btmem = [], [], [], [], [], [], []
        for i in range(args.runs if "start" in only else 0):
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
        if "start" in only:
            res["start_attached_cold"] = (median(cold), median(btstart))
            res["start_attached_cached"] = (median(cached), median(btstart))
            res["exit_maps_printed"] = (median(tgexit), median(btexit))
            res["peak_memory_kib"] = (median(tgmem), median(btmem))

        # --- the wildcard: ~360 tracepoints, one program each in bpftrace ---
        wcold, wcached, wbt, wtgmaps, wbtmaps, wtggone, wbtgone = [], [], [], [], [], [], []
        for i in range(args.runs if "wildcard" in only else 0):
            cache = os.path.join(work, "cache-w%d" % i)
            path = os.path.join(work, "wildcard.out")
            for who in ("tg-cold", "tg", "bt"):
                with open(path, "w") as f:
                    t = Tracer(bt(WILDCARD) if who == "bt" else tg(WILDCARD, cache), out=f)
                    a = t.wait_attached(120)
                    loop_ns(10000)
                    maps, gone = t.stop_output()
                if sum(1 for l in open(path) if l.startswith("@[tracepoint:")) == 0:
                    raise RuntimeError("%s printed no map of the wildcard" % who)
                if who == "tg-cold":
                    wcold.append(a)
                elif who == "tg":
                    wcached.append(a)
                    wtgmaps.append(maps)
                    wtggone.append(gone)
                else:
                    wbt.append(a)
                    wbtmaps.append(maps)
                    wbtgone.append(gone)
        if "wildcard" in only:
            res["wildcard_attached_cold"] = (median(wcold), median(wbt))
            res["wildcard_attached_cached"] = (median(wcached), median(wbt))
            res["wildcard_exit_maps"] = (median(wtgmaps), median(wbtmaps))
            res["wildcard_exit_gone"] = (median(wtggone), median(wbtgone))

        # --- per-event cost, outside and inside the scope ---
        if "events" in only:
            for where in ("outside", "inside"):
                tgv, btv = per_event(where, cg_in, cg_out, cgid_in, cgid_out, work, args)
                res["ns_per_event_" + where] = (median(tgv), median(btv))
                spread["ns_per_event_" + where] = (tgv, btv)

        # --- printf throughput to a file ---
        pf = 'tracepoint:syscalls:sys_enter_getppid %s { printf("%%d %%s\\n", pid, comm); }'
        tgr, btr = [], []
        for _ in range(args.runs if "printf" in only else 0):
            for who in ("tg", "bt"):
                path = os.path.join(work, "printf-%s.out" % who)
                with open(path, "w") as f:
                    if who == "tg":
                        t = Tracer(tg(pf % "", os.path.join(work, "cache-pf"), ["--cgroup", cg_in]), out=f)
                    else:
                        t = Tracer(bt(pf % ("/cgroup == %d/" % cgid_in)), out=f)
                    t.wait_attached()
                    t0 = time.monotonic()
                    loop_ns(PRINTF_EVENTS, cg_in)
                    elapsed = time.monotonic() - t0
                    t.stop()
                lines = sum(1 for l in open(path) if l[:1].isdigit())
                (tgr if who == "tg" else btr).append(lines / elapsed)
        if "printf" in only:
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
        "wildcard_attached_cold": ("<=", 1.0),
        "wildcard_attached_cached": ("<=", 0.1),
        "wildcard_exit_maps": ("<=", 1.0),
        "wildcard_exit_gone": ("<=", 1.0),
    }
    print("%-24s %14s %14s %8s  %s" % ("measure", "tracegate", "bpftrace", "ratio", "goal"))
    for k, (a, b) in res.items():
        ratio = a / b if b else float("inf")
        op, g = goals[k]
        met = ratio <= g if op == "<=" else ratio >= g
        print("%-24s %14.4g %14.4g %8.3f  %s %.3g %s" % (k, a, b, ratio, op, g, "met" if met else "NOT met"))
    if spread:
        print("\nper-event spread over %d rounds (ns; min, 25%%, median, 75%%, max)" % args.runs)
        for k, (a, b) in spread.items():
            for who, xs in (("tracegate", a), ("bpftrace", b)):
                print("  %-22s %-9s %s" % (k, who, " ".join("%7.1f" % x for x in quartiles(xs))))
            # rounds pair the two tracers, so the ratio of each round too
            rr = [x / y for x, y in zip(a, b) if y > 0]
            print("  %-22s %-9s %s" % (k, "ratio", " ".join("%7.3f" % x for x in quartiles(rr))))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": res, "rounds": spread}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
