#!/usr/bin/env python3
"""The structure issue 12 asks for, checked on every run (TAP lines):

- no function longer than 150 lines (a function's body is the text from a
  `{` alone at column 0 to the next `}` alone at column 0, as STYLE.md lays
  functions out; generated tables aside);
- no two object files that call each other (A uses a symbol B defines and
  B one that A defines), read from the built objects with nm.

tests/structure-exceptions.tsv lists what is still to be done: a listed
item that no longer offends fails the run too, so the list only shrinks.
"""
import collections
import glob
import os
import subprocess
import sys

MAX_LINES = 150
FOLDERS = ("lib", "lang", "output", "policy", "kube", "wire", "runner", "gateway", "plugin")
GENERATED = ("policy/tpfields-table.c",)


def long_functions():
    out = {}
    for f in sorted(glob.glob("*/*.c")):
        if f.split("/")[0] not in FOLDERS or f in GENERATED:
            continue
        lines = open(f, errors="replace").read().split("\n")
        i = 0
        while i < len(lines):
            if lines[i] == "{" and i > 0:
                j = i - 1
                while j > 0 and "(" not in lines[j]:
                    j -= 1
                head = lines[j].split("(")[0].split()
                name = head[-1].lstrip("*") if head else "?"
                k = i + 1
                while k < len(lines) and lines[k] != "}":
                    k += 1
                if k - i + 1 > MAX_LINES:
                    out["function\t%s:%s" % (f, name)] = k - i + 1
                i = k
            i += 1
    return out


def mutual_calls(objdir):
    defs, refs = {}, collections.defaultdict(set)
    for o in glob.glob(os.path.join(objdir, "*", "*.o")):
        if o.split(os.sep)[-2] not in FOLDERS:
            continue
        name = os.path.relpath(o, objdir)[:-2] + ".c"
        res = subprocess.run(["nm", o], capture_output=True, text=True, check=True)
        for line in res.stdout.split("\n"):
            p = line.split()
            if len(p) == 3 and p[1] in "TDBR":
                defs[p[2]] = name
            elif len(p) == 2 and p[0] == "U":
                refs[name].add(p[1])
    edges = collections.defaultdict(set)
    for o, syms in refs.items():
        for s in syms:
            if s in defs and defs[s] != o:
                edges[o].add(defs[s])
    out = {}
    for a in edges:
        for b in edges[a]:
            if a < b and a in edges.get(b, ()):
                out["calls\t%s <-> %s" % (a, b)] = 0
    return out


def main():
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    os.chdir(top)
    objdir = "build/obj"
    if not os.path.isdir(objdir):
        print("not ok - structure: %s missing (run make tests-build first)" % objdir)
        return 1
    known = set()
    for line in open("tests/structure-exceptions.tsv"):
        line = line.rstrip("\n")
        if line and not line.startswith("#"):
            known.add("\t".join(line.split("\t")[:2]))
    found = dict(long_functions())
    found.update(mutual_calls(objdir))
    rc = 0
    for k in sorted(found):
        kind, what = k.split("\t")
        desc = ("%s is %d lines (at most %d)" % (what, found[k], MAX_LINES)
                if kind == "function" else "%s call each other" % what)
        if k in known:
            print("ok - structure: %s (known, tests/structure-exceptions.tsv)" % desc)
        else:
            print("not ok - structure: %s" % desc)
            rc = 1
    for k in sorted(known - set(found)):
        print("not ok - structure: %s is listed in tests/structure-exceptions.tsv "
              "but no longer offends: remove the line" % k.replace("\t", " "))
        rc = 1
    if not found and not known:
        print("ok - structure: no function over %d lines, no two files call each other" % MAX_LINES)
    return rc


if __name__ == "__main__":
    sys.exit(main())
