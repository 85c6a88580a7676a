#!/usr/bin/env python3
"""Runs bpftrace 0.17's own runtime tests (the selection in
../shared/compat/bpftrace-runtime/selected.tsv, and milestone J: its
json-output tests listed in tests/compat/selected-json.tsv, those that need
no test programs, --unsafe or -k) against a tracer, the way
bpftrace's harness does, and prints TAP lines plus a summary per milestone.

    runtime.py [--tracer tracegate|bpftrace] [--milestone M1,M2] [--filter REGEX]

Semantics (from ../shared/compat/README.md): PROG runs as `TRACER -e PROG`,
RUN substitutes {{BPFTRACE}}; EXPECT is a regular expression searched in
stdout+stderr (the last one counts); BEFORE starts first, AFTER once the
tracer says __BPFTRACE_NOTIFY_PROBES_ATTACHED; REQUIRES skips when its
shell check fails; a test passes when EXPECT matches and the exit status
is 0 (non-zero under WILL_FAIL), within its TIMEOUT.

Known gaps are listed in tests/compat/known-failures.tsv with the reason
(the same list is in docs/compat.md); a listed test that fails is reported
as a skip naming the gap, and a listed test that passes is a failure, so
the list cannot go stale.  Every milestone (M1, M2 and M3) is held to
this: a failure that is not listed fails.
"""
import argparse
import csv
import fcntl
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
DATA = os.path.join(os.path.dirname(TOP), "shared", "compat", "bpftrace-runtime")
FLAG_RE = re.compile(r",(?=[A-Z_]+=)")


def load_tests():
    idx = {}
    with open(os.path.join(DATA, "index.tsv"), newline="") as f:
        for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            idx[(r["suite"], r["idx"])] = r
    tests = []
    rows = []
    for path in (os.path.join(DATA, "selected.tsv"), os.path.join(HERE, "selected-json.tsv")):
        with open(path, newline="") as f:
            rows += list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if True:
        for s in rows:
            r = dict(idx[(s["suite"], s["idx"])])
            r.update(s)
            flags = {}
            if r["flags"]:
                for part in FLAG_RE.split(r["flags"]):
                    k, _, v = part.partition("=")
                    flags[k.strip()] = v
            r["flagd"] = flags
            exps = [e[len("EXPECT:"):] for e in r["expects"].split(" && ") if e.startswith("EXPECT:")]
            r["expect"] = exps[-1] if exps else None
            tests.append(r)
    return tests


def load_known():
    known = {}
    path = os.path.join(HERE, "known-failures.tsv")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if not line.strip() or line.startswith("#"):
                    continue
                suite, name, why = (line.rstrip("\n").split("\t") + ["", ""])[:3]
                known[(suite, name)] = why
    return known


TRACER_DIR = None


def tracer_cmd(tracer):
    """tracegate runs through a symlink named `bpftrace` (tracegate-runner
    is a multi-call binary), so its own comm is "bpftrace" as bpftrace's
    tests assume (`comm == "bpftrace"`, print(comm))."""
    global TRACER_DIR
    if tracer == "bpftrace":
        return ["bpftrace"]
    if TRACER_DIR is None:
        TRACER_DIR = tempfile.mkdtemp(prefix="tg-tracer.")
        os.symlink(os.path.join(TOP, "bin", "tracegate-runner"),
                   os.path.join(TRACER_DIR, "bpftrace"))
    return [os.path.join(TRACER_DIR, "bpftrace")]


def run_one(t, tracer, workdir):
    flags = t["flagd"]
    if t["host_ok"] != "host" and t["baseline_bpftrace_0.17"] != "PASS":
        return "skip", "needs hardware or modules this host lacks (bpftrace skips it too)"
    if "ARCH" in flags and os.uname().machine not in flags["ARCH"].split("|"):
        return "skip", "architecture " + flags["ARCH"]
    if "REQUIRES" in flags:
        if subprocess.call(flags["REQUIRES"], shell=True, cwd=workdir,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) != 0:
            return "skip", "REQUIRES failed: " + flags["REQUIRES"]
    env = dict(os.environ)
    env["__BPFTRACE_NOTIFY_PROBES_ATTACHED"] = "1"
    env.pop("CI", None)
    if "ENV" in flags:
        k, _, v = flags["ENV"].partition("=")
        env[k] = v
    base = tracer_cmd(tracer)
    if t["kind"] == "PROG":
        cmd = base + ["-e", t["prog_or_run"]]
        shell = False
    else:
        cmd = t["prog_or_run"].replace("{{BPFTRACE}}", " ".join(base))
        shell = True
    timeout = float(t["timeout"] or 5) + 2.0
    # Some tests wait for an event that an idle machine does not make
    # (glibc 2.36 sleeps with clock_nanosleep; no traffic arrives; page
    # faults: bpftrace makes its own after attaching, a quiet runner
    # makes none): make it once probes are attached, as their AFTER would.
    faults = "while :; do cat /proc/self/status >/dev/null; sleep 0.05; done"
    triggers = {
        "software": faults,
        "software_order": faults,
        "tracepoint_pointer_type_resolution":
            "while :; do python3 -c 'import ctypes,struct; ctypes.CDLL(None).syscall(35, struct.pack(\"qq\", 0, 10000000), None)'; done",
        "tracepoint_nested_pointer_type_resolution":
            "while :; do python3 -c 'import socket; socket.socket(2, 2).sendto(b\"x\", (\"127.0.0.1\", 9))'; sleep 0.1; done",
    }
    if t["name"] in triggers and "AFTER" not in flags:
        flags = dict(flags, AFTER=triggers[t["name"]])
    before = None
    if "BEFORE" in flags:
        before = subprocess.Popen(flags["BEFORE"], shell=True, cwd=workdir,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        time.sleep(0.1)
    out = tempfile.TemporaryFile()
    # O_APPEND: the child's writes go to the end whatever our seek(0)
    # and read do to the offset the two share (a write landing at 0
    # overwrote the attach marker: tools.py's sslsnoop 'did not attach')
    fcntl.fcntl(out, fcntl.F_SETFL, fcntl.fcntl(out, fcntl.F_GETFL) | os.O_APPEND)
    start = time.monotonic()
    p = subprocess.Popen(cmd, shell=shell, cwd=workdir, env=env, stdout=out,
                         stderr=subprocess.STDOUT, start_new_session=True)
    after = None
    timed_out = False
    try:
        while p.poll() is None:
            if time.monotonic() - start > timeout:
                timed_out = True
                os.killpg(p.pid, signal.SIGINT)
                try:
                    p.wait(2)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
                break
            if "AFTER" in flags and after is None:
                out.seek(0)
                if b"__BPFTRACE_NOTIFY_PROBES_ATTACHED" in out.read():
                    after = subprocess.Popen(flags["AFTER"], shell=True, cwd=workdir,
                                             stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL,
                                             start_new_session=True)
            time.sleep(0.02)
    finally:
        for q in (after, before):
            if q and q.poll() is None:
                os.killpg(q.pid, signal.SIGKILL)
                q.wait()
    out.seek(0)
    text = out.read().decode("utf-8", "replace")
    secs = time.monotonic() - start
    matched = t["expect"] is not None and re.search(t["expect"], text, re.M) is not None
    want_fail = "WILL_FAIL" in flags
    ok_status = (p.returncode != 0) if want_fail else (p.returncode == 0)
    if matched and ok_status and not timed_out:
        return "pass", "%.2fs" % secs
    why = "timed out" if timed_out else ("exit %d" % p.returncode if not ok_status else "no match")
    tail = " | ".join(l for l in text.strip().splitlines()[-3:])
    return "fail", "%s; expected /%s/; got: %s" % (why, t["expect"], tail[:300])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracer", default="tracegate", choices=["tracegate", "bpftrace"])
    ap.add_argument("--milestone", default="M1,M2,M3,J")
    ap.add_argument("--filter", default=None)
    args = ap.parse_args()
    if not os.path.isdir(DATA):
        print("not ok - compat data found at %s" % DATA)
        return 1
    tests = load_tests()
    known = load_known() if args.tracer == "tracegate" else {}
    wanted = set(args.milestone.split(","))
    workdir = tempfile.mkdtemp(prefix="tg-compat.")
    # bpftrace's tests name their scripts runtime/scripts/x.bt from tests/
    os.symlink(DATA, os.path.join(workdir, "runtime"))
    summary = {}
    seen_known = set()
    for t in tests:
        m = t["milestone"]
        if m not in wanted:
            continue
        name = "%s/%s" % (t["suite"], t["name"])
        if args.filter and not re.search(args.filter, name):
            continue
        res, detail = run_one(t, args.tracer, workdir)
        key = (t["suite"], t["name"])
        label = "compat %s %s (%s)" % (m, name, args.tracer)
        s = summary.setdefault(m, {"pass": 0, "fail": 0, "skip": 0, "known": 0})
        if key in known:
            seen_known.add(key)
            if res == "fail":
                print("ok - %s # SKIP known gap: %s" % (label, known[key]))
                s["known"] += 1
                continue
            if res == "pass":
                print("not ok - %s: passes now; remove it from tests/compat/known-failures.tsv" % label)
                s["fail"] += 1
                continue
        if res == "pass":
            print("ok - %s" % label)
            s["pass"] += 1
        elif res == "skip":
            print("ok - %s # SKIP %s" % (label, detail))
            s["skip"] += 1
        else:
            print("not ok - %s: %s" % (label, detail))
            s["fail"] += 1
        sys.stdout.flush()
    shutil.rmtree(workdir, ignore_errors=True)
    if TRACER_DIR:
        shutil.rmtree(TRACER_DIR, ignore_errors=True)
    for m in sorted(summary):
        s = summary[m]
        print("# %s with %s: %d passed, %d failed, %d skipped (%d known gaps)" %
              (m, args.tracer, s["pass"], s["fail"], s["skip"] + s["known"], s["known"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
