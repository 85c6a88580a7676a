#!/usr/bin/env python3
"""Writes the OCI runtime config (runc's config.json) that runs an unpacked
image as its manifest in deploy runs it in a cluster:

    tests/images/spec.py BUNDLE gateway|runner [--run-dir DIR]
                         [--bind SRC:DEST]... [--host-network] -- ARG...

BUNDLE holds rootfs/ and image.json (the image config, tests/images/
unpack.py); this writes BUNDLE/config.json.  The process is the
image's entrypoint with ARG... as its arguments, as the image's user and
environment.

- gateway (30-gateway.yaml): the image's user (which must be 65532, as
  runAsUser says), no capabilities, no_new_privs, a read-only root, its
  own PID and network namespaces;
- runner (40-runner.yaml): root with exactly the capabilities the
  DaemonSet adds (less any this machine's bounding set lacks, said on
  stderr), no_new_privs, a read-only root, the host's PID
  namespace (hostPID), sysfs read-only with the host's /sys/fs/cgroup,
  /sys/kernel/tracing and /sys/kernel/btf bound read-only over it,
  --run-dir DIR bound at /run/tracegate (the hostPath) and a tmpfs at
  /var/cache/tracegate (the emptyDir).

--bind SRC:DEST binds more (read-only; SRC:DEST:rw writable), as a
volume; --host-network keeps the host's network (a Service port that
curl on the host reaches).

Both get the paths containerd masks and makes read-only in /proc."""
import argparse
import json
import os
import sys

RUNNER_CAPS = ["BPF", "PERFMON", "SYS_ADMIN", "SYS_RESOURCE", "SYS_PTRACE", "SETUID", "SETGID"]
MASKED = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
          "/sys/firmware", "/sys/devices/virtual/powercap"]
READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def fail(msg):
    print(f"spec: {msg}", file=sys.stderr)
    sys.exit(1)


CAP_NUMBERS = {"SETGID": 6, "SETUID": 7, "SYS_PTRACE": 19, "SYS_ADMIN": 21, "SYS_RESOURCE": 24,
               "PERFMON": 38, "BPF": 39}


def held(caps):
    """The capabilities of caps this process may pass on (its bounding set:
    a sandbox may lack some), and the others."""
    with open("/proc/self/status") as f:
        bnd = next(int(line.split()[1], 16) for line in f if line.startswith("CapBnd:"))
    have = [c for c in caps if bnd >> CAP_NUMBERS[c] & 1]
    return have, [c for c in caps if c not in have]


def bind(dest, src, ro=True):
    return {"destination": dest, "type": "bind", "source": src,
            "options": ["rbind", "nosuid", "nodev", "ro" if ro else "rw"]}


def main():
    ap = argparse.ArgumentParser(prog="spec.py")
    ap.add_argument("bundle")
    ap.add_argument("kind", choices=("gateway", "runner"))
    ap.add_argument("--run-dir")
    ap.add_argument("--bind", action="append", default=[])
    ap.add_argument("--host-network", action="store_true")
    if "--" not in sys.argv:
        fail("usage: spec.py BUNDLE gateway|runner [OPTIONS] -- ARG...")
    cut = sys.argv.index("--")
    o = ap.parse_args(sys.argv[1:cut])
    bundle, kind, args = o.bundle, o.kind, sys.argv[cut + 1:]
    if kind == "runner" and not o.run_dir:
        fail("a runner needs --run-dir (its /run/tracegate)")
    with open(os.path.join(bundle, "image.json")) as f:
        image = json.load(f)["config"]
    user = image.get("User", "")
    uid, _, gid = user.partition(":")
    if not uid.isdigit() or not gid.isdigit():
        fail(f"the image's user {user!r} is not numeric UID:GID")
    want = "65532" if kind == "gateway" else "0"
    if uid != want:
        fail(f"the {kind} image runs as uid {uid}, its manifest says {want}")
    caps = []
    if kind == "runner":
        have, lacking = held(RUNNER_CAPS)
        if lacking:
            print(f"# spec: this machine's bounding set lacks {', '.join(lacking)} of the DaemonSet's "
                  "capabilities: the runner runs without them", file=sys.stderr)
        caps = ["CAP_" + c for c in have]
    mounts = [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]},
    ]
    namespaces = [{"type": t} for t in ("mount", "ipc", "uts") + (() if o.host_network else ("network",))]
    if kind == "gateway":
        namespaces.append({"type": "pid"})
    else:
        mounts += [
            bind("/sys/fs/cgroup", "/sys/fs/cgroup"),
            bind("/sys/kernel/tracing", "/sys/kernel/tracing"),
            bind("/sys/kernel/btf", "/sys/kernel/btf"),
            bind("/run/tracegate", o.run_dir, ro=False),
            {"destination": "/var/cache/tracegate", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "nodev", "mode=0777"]},
        ]
    for b in o.bind:
        src, _, rest = b.partition(":")
        dest, _, mode = rest.partition(":")
        if not src.startswith("/") or not dest.startswith("/") or mode not in ("", "ro", "rw"):
            fail(f"--bind {b!r}: not /SRC:/DEST[:ro|rw]")
        mounts.append(bind(dest, src, ro=mode != "rw"))
    spec = {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": int(uid), "gid": int(gid)},
            "args": image.get("Entrypoint", []) + args,
            "env": image.get("Env", []),
            "cwd": image.get("WorkingDir") or "/",
            "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": f"tracegate-{kind}",
        "mounts": mounts,
        "linux": {"namespaces": namespaces, "maskedPaths": MASKED, "readonlyPaths": READONLY},
    }
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(spec, f, indent=1)


if __name__ == "__main__":
    main()
