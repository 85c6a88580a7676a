#!/usr/bin/env python3
"""Runs the bpftrace tools Debian ships (/usr/sbin/*.bt) under bpftrace 0.17
and under tracegate with the same small workload, and compares what they
print: the lines before the first event (banner, column headers) and the
layout of every map printed at exit (names, keys' shape, hist/lhist rows).
Values and event counts may differ; shapes may not.

kprobe tools cannot attach on this kernel (no kprobes), so for them the
check is that tracegate's object passes the kernel verifier: `exec
--load-only` loads every program without attaching.

    tools.py [--filter REGEX] [--seconds N]
"""
import argparse
import fcntl
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
RUNNER = os.path.join(TOP, "bin", "tracegate-runner")
TLS_WORKLOAD = os.path.join(HERE, "tls_workload.py")
PROBE_RE = re.compile(r"^\s*(kprobe|kretprobe|k|kr|tracepoint|t|uprobe|uretprobe|u|ur|usdt|U|"
                      r"interval|i|profile|p|software|s|BEGIN|END)\b[^{]*", re.M)

WORKLOAD = r"""
end=$((SECONDS + %d))
while [ $SECONDS -lt $end ]; do
	cat /etc/hostname /etc/passwd >/dev/null
	ls / >/dev/null
	stat /etc >/dev/null
	sync
	kill -0 $$ 2>/dev/null
	sleep 0.05
	bash -c 'echo hi' >/dev/null
done
"""


def probe_types(text):
    types = set()
    for m in PROBE_RE.finditer(text):
        t = m.group(1)
        t = {"k": "kprobe", "kr": "kretprobe", "t": "tracepoint", "u": "uprobe",
             "ur": "uretprobe", "U": "usdt", "i": "interval", "p": "profile",
             "s": "software"}.get(t, t)
        types.add(t)
    return types


def run(cmd, seconds, tls=False):
    """Runs cmd with the workload for `seconds`, then SIGINT; returns (rc,
    output, attached).  tls: TLS_WORKLOAD runs beside it until the tracer
    has exited."""
    out = tempfile.TemporaryFile()
    # O_APPEND: the child's writes go to the end whatever our seek(0)
    # and read do to the offset the two share (a write landing at 0
    # overwrote the attach marker: tools.py's sslsnoop 'did not attach')
    fcntl.fcntl(out, fcntl.F_SETFL, fcntl.fcntl(out, fcntl.F_GETFL) | os.O_APPEND)
    env = dict(os.environ, __BPFTRACE_NOTIFY_PROBES_ATTACHED="1")
    env.pop("CI", None)
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                         start_new_session=True)
    start = time.monotonic()
    attached = False
    while time.monotonic() - start < 20 and p.poll() is None:
        out.seek(0)
        if b"__BPFTRACE_NOTIFY_PROBES_ATTACHED" in out.read():
            attached = True
            break
        time.sleep(0.05)
    tlsp = None
    if attached and tls:
        tlsp = subprocess.Popen([TLS_WORKLOAD], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        tlsp.stdout.readline()          # "ready": a handshake is in flight
    if attached:
        subprocess.run(["bash", "-c", WORKLOAD % seconds], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=seconds + 20)
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGINT)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    if tlsp:
        os.killpg(tlsp.pid, signal.SIGKILL)
        tlsp.wait()
    out.seek(0)
    text = out.read().decode("utf-8", "replace")
    text = "\n".join(l for l in text.splitlines() if "__BPFTRACE_NOTIFY_PROBES_ATTACHED" not in l)
    return p.returncode, text, attached


def norm(line):
    line = re.sub(r"0x[0-9a-fA-F]+", "#", line)
    line = re.sub(r"\d+", "#", line)
    line = re.sub(r"@+", "@", line)        # hist bars
    return re.sub(r"\s+", " ", line).strip()


def shape(text):
    """(header, maps): header = the normalized leading lines up to the first
    line that holds a digit (an event or a value; the "Attaching N
    probes..." banner excepted) or a map; maps = {name: set of line kinds}."""
    lines = [l for l in text.splitlines() if "couldn't set RLIMIT_MEMLOCK" not in l]
    header = []
    for l in lines:
        if l.startswith("@") or (re.search(r"\d", l) and not l.startswith("Attaching ")):
            break
        header.append(norm(l))
    while header and not header[-1]:
        header.pop()
    maps = {}
    cur = None
    for l in lines:
        m = re.match(r"^(@[A-Za-z0-9_]*)(\[.*?\])?:", l)
        if m:
            cur = m.group(1)
            kind = "keyed" if m.group(2) else "scalar"
            rest = l[m.end():].strip()
            maps.setdefault(cur, set()).add(kind + (" value" if rest else " block"))
        elif cur and re.match(r"^[\[(]", l.strip()):
            maps[cur].add("bucket")
        elif not l.strip():
            pass
    return header, maps


def load_known():
    """tests/compat/known-failures.tsv rows whose suite is "tool"."""
    known = {}
    path = os.path.join(HERE, "known-failures.tsv")
    if os.path.exists(path):
        for line in open(path):
            if not line.strip() or line.startswith("#"):
                continue
            suite, name, why = (line.rstrip("\n").split("\t") + ["", ""])[:3]
            if suite == "tool":
                known[name] = why
    return known


def report(counts, known, name, label, ok, detail):
    """One TAP line; a listed tool that fails is a documented gap (a skip
    naming it), a listed tool that passes is a failure (the list is stale)."""
    if name in known:
        if ok:
            print("not ok - %s: passes now; remove it from tests/compat/known-failures.tsv" % label)
            counts["fail"] += 1
        else:
            print("ok - %s # SKIP known gap: %s" % (label, known[name]))
            counts["skip"] += 1
    elif ok:
        print("ok - %s: %s" % (label, detail))
        counts["pass"] += 1
    else:
        print("not ok - %s: %s" % (label, detail))
        counts["fail"] += 1
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--filter")
    ap.add_argument("--seconds", type=int, default=2)
    args = ap.parse_args()
    tools = sorted(glob.glob("/usr/sbin/*.bt"))
    if not tools:
        print("not ok - tools: /usr/sbin/*.bt not found (apt-get install bpftrace)")
        return 0
    counts = {"pass": 0, "fail": 0, "skip": 0}
    known = load_known()
    # tracegate-runner is a multi-call binary: as `bpftrace` it is `exec`,
    # and its own comm is "bpftrace" as the tools assume
    tdir = tempfile.mkdtemp(prefix="tg-tracer.")
    tracer = os.path.join(tdir, "bpftrace")
    os.symlink(RUNNER, tracer)
    for path in tools:
        name = os.path.basename(path)
        if args.filter and not re.search(args.filter, name):
            continue
        text = open(path).read()
        types = probe_types(text)
        label = "tool %s" % name
        if types & {"kprobe", "kretprobe"}:
            rc, out, _ = run([RUNNER, "exec", "--load-only", path], 0)
            report(counts, known, name, label, rc == 0,
                   "kprobe tool passes the kernel verifier (load only)" if rc == 0 else
                   "kprobe tool does not load: " + " | ".join(out.strip().splitlines()[-3:])[:300])
            continue
        # the ssl tools see what the host's TLS traffic does unless there
        # is some of our own: handshakes, and one in flight at exit
        tls = "libssl" in text
        brc, bout, battached = run(["bpftrace", path], args.seconds, tls)
        if not battached:
            print("ok - %s # SKIP bpftrace 0.17 does not run it here: %s" %
                  (label, " | ".join(bout.strip().splitlines()[-2:])[:200]))
            counts["skip"] += 1
            continue
        trc, tout, tattached = run([tracer, path], args.seconds, tls)
        bh, bm = shape(bout)
        th, tm = shape(tout)
        # Whether a tool sees any event at all depends on what the host
        # does during its window: when exactly one side saw none, run both
        # again, twice at most, before calling it a difference.
        for _ in range(2):
            if not tattached or bool(bm) == bool(tm):
                break
            brc, bout, battached = run(["bpftrace", path], args.seconds, tls)
            trc, tout, tattached = run([tracer, path], args.seconds, tls)
            bh, bm = shape(bout)
            th, tm = shape(tout)
        problems = []
        only = []
        if not tattached:
            problems.append("tracegate did not attach: " + " | ".join(tout.strip().splitlines()[-3:])[:300])
        else:
            if bh != th:
                problems.append("header differs: bpftrace %r, tracegate %r" % (bh, th))
            # A map is printed only when it holds entries, and which
            # entries exist is a matter of values (a call in flight at
            # exit leaves one in a per-thread map): maps both printed must
            # have the same layout; a map only one side printed is noted;
            # one side printing maps and the other none is a failure.
            both = sorted(set(bm) & set(tm))
            diff = [k for k in both if bm[k] != tm[k]]
            if diff:
                problems.append("map layouts differ: " + "; ".join(
                    "%s bpftrace %s, tracegate %s" % (k, sorted(bm[k]), sorted(tm[k])) for k in diff))
            if bool(bm) != bool(tm):
                problems.append("maps differ: bpftrace %r, tracegate %r" %
                                ({k: sorted(v) for k, v in bm.items()},
                                 {k: sorted(v) for k, v in tm.items()}))
            only = sorted(set(bm) ^ set(tm))
        note = ("; printed by one side only (entries depend on timing): %s" % ", ".join(only)
                if not problems and only else "")
        report(counts, known, name, label, not problems,
               "; ".join(problems) if problems else
               "output matches bpftrace's layout (%d maps in both)%s" % (len(set(bm) & set(tm)), note))
    shutil.rmtree(tdir, ignore_errors=True)
    print("# tools: %d passed, %d failed, %d skipped" % (counts["pass"], counts["fail"], counts["skip"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
