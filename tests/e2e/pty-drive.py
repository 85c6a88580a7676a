#!/usr/bin/env python3
"""Drives a command in a pseudo-terminal as a person would.

    pty-drive.py TRANSCRIPT STEP... -- COMMAND ARGS...

Steps, in order:
    wait:REGEX[:SECONDS]   until the terminal output so far matches (default 60 s)
    key:TEXT               type TEXT (Python escapes: \\x03 is Ctrl-C)
    exit[:SECONDS]         until the command exits (default 60 s)
    sh:COMMAND             run a shell command once (its status is ignored)
    until:COMMAND          run a shell command every 0.1 s until it succeeds (60 s)

The command's terminal output (stdout and stderr: a terminal has one
screen) is written to TRANSCRIPT as it comes.  Prints the exit status
(128+N for a signal N) on stdout; exit status 1 when a step timed out
(after killing the command), 0 otherwise.  Only conditions are waited
on, never a fixed time.
"""
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time


def main():
    argv = sys.argv[1:]
    sep = argv.index("--")
    transcript, steps, cmd = argv[0], argv[1:sep], argv[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    seen = b""
    out = open(transcript, "wb")
    status = None

    def pump(deadline):
        nonlocal seen, status
        r, _, _ = select.select([fd], [], [], max(0.0, min(0.2, deadline - time.monotonic())))
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if data:
                seen += data
                out.write(data)
                out.flush()
                return
        if status is None:
            p, st = os.waitpid(pid, os.WNOHANG)
            if p == pid:
                status = os.waitstatus_to_exitcode(st)
                if status < 0:
                    status = 128 - status

    def fail(why):
        sys.stderr.write("pty-drive: %s\n" % why)
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        print("timeout")
        sys.exit(1)

    for step in steps:
        kind, _, arg = step.partition(":")
        if kind == "wait":
            m = re.match(r"^(.*?)(?::(\d+))?$", arg, re.S)
            rx, secs = re.compile(m.group(1).encode()), int(m.group(2) or 60)
            deadline = time.monotonic() + secs
            while not rx.search(seen):
                if time.monotonic() > deadline:
                    fail("no %r within %d s" % (m.group(1), secs))
                if status is not None:
                    # drain what is left, then give up
                    pump(time.monotonic() + 0.2)
                    if not rx.search(seen):
                        fail("exited (%d) before %r" % (status, m.group(1)))
                pump(deadline)
        elif kind == "sh":
            subprocess.run(["bash", "-c", arg], stdout=subprocess.DEVNULL)
        elif kind == "until":
            deadline = time.monotonic() + 60
            while subprocess.run(["bash", "-c", arg], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL).returncode != 0:
                if time.monotonic() > deadline:
                    fail("%r never succeeded within 60 s" % arg)
                pump(time.monotonic() + 0.1)
        elif kind == "key":
            os.write(fd, arg.encode().decode("unicode_escape").encode())
        elif kind == "exit":
            deadline = time.monotonic() + int(arg or 60)
            while status is None:
                if time.monotonic() > deadline:
                    fail("still running after %s s" % (arg or 60))
                pump(deadline)
            # the rest of the output
            end = time.monotonic() + 2
            while time.monotonic() < end:
                r, _, _ = select.select([fd], [], [], 0.1)
                if not r:
                    break
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    break
                if not data:
                    break
                out.write(data)
        else:
            fail("unknown step %r" % step)
    out.close()
    print(status if status is not None else "running")


main()
