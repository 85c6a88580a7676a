#!/usr/bin/env python3
"""tests/e2e-lint.py: races the e2e files must not have.

1. An EXIT trap acts only in the test's own shell.  A child forked from
it (`kt_bg ... &`, a command substitution) that takes a signal before
it execs runs the EXIT trap it was forked with: `rm -rf "$work"` or a
stack stop would then pull the test's files or stack from under it.
So every `trap ... EXIT` is `if [ "$BASHPID" = "$$" ]; then ...; fi`
(or calls a function that checks it, as lib.sh's stack_stop does).

2. Background output files:

A command started in the background with its output sent to a file
(`cmd >"$out" &`) truncates that file only once its subshell runs.  A
`wait_for` on the file's contents right after can still see what an
earlier section wrote there, go on, and then read a file the new command
has just emptied: under load, a check fails on a trace that ran fine.
So a background command whose output file is then waited on must empty
the file first, in the foreground (`: >"$out"`), or write a fresh file.
"""
import glob
import re
import sys

REDIRECT = re.compile(r'(?:^|(?<=\s))&?>>?\s*("[^"]+"|[^\s;&|)]+)')


def statements(path):
    """(line number, text) of each logical line: continuations joined."""
    out, buf, start = [], "", 0
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if not buf:
            start = n
        s = line.rstrip("\n")
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        out.append((start, buf + s))
        buf = ""
    return out


def background(text):
    t = text.split("#", 1)[0].rstrip() if not text.lstrip().startswith("#") else ""
    return t.endswith("&") and not t.endswith("&&")


def truncated(target, before):
    pat = re.compile(r'(^|[;&|(]\s*|\s):\s*>\s*' + re.escape(target) + r'(\s|$|;)')
    return any(pat.search(t) for _, t in before)


GUARDED_TRAP = re.compile(r"""^\s*trap '(if \[ "\$BASHPID" = "\$\$" \]; then .*; fi)' EXIT$""")


def traps(path):
    """EXIT traps that would run in a forked child too"""
    bad = []
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if re.match(r"\s*trap\b.*\bEXIT\b", line) and not GUARDED_TRAP.match(line.rstrip("\n")) \
                and line.split() != ["trap", "stack_stop", "EXIT"]:
            bad.append(n)
    return bad


def main():
    bad = 0
    files = sorted(glob.glob("tests/e2e/*.sh"))
    for path in files:
        for n in traps(path):
            print("not ok - e2e lint: %s:%d: an EXIT trap that a forked child would run too "
                  "(guard it: trap 'if [ \"$BASHPID\" = \"$$\" ]; then ...; fi' EXIT)" % (path, n))
            bad += 1
        st = statements(path)
        for i, (n, text) in enumerate(st):
            if not background(text):
                continue
            targets = [m.group(1) for m in REDIRECT.finditer(text)]
            targets = [t for t in targets if "/dev/null" not in t]
            after = " ".join(t for _, t in st[i + 1:i + 4])
            if not targets or "wait_for" not in after:
                continue
            # stdout only: the first redirect without a file descriptor
            target = targets[0]
            if not truncated(target, st[max(0, i - 3):i]):
                print("not ok - e2e lint: %s:%d starts a background command writing %s and "
                      "waits on it without emptying it first (': >%s' before it)"
                      % (path, n, target, target))
                bad += 1
    if not bad:
        print("ok - e2e lint: every EXIT trap acts in the test's own shell only, every background "
              "output file that is waited on is emptied first (%d files)" % len(files))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
