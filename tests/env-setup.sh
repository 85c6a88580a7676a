#!/usr/bin/env bash
# What tests need from the machine and a fresh boot may not have: tracefs
# mounted (tracepoint formats), a cgroup2 mount, unlimited memlock.
set -u
if [ ! -e /sys/kernel/tracing/events ] && [ ! -e /sys/kernel/debug/tracing/events ]; then
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
		{ echo "env-setup: cannot mount tracefs on /sys/kernel/tracing" >&2; exit 1; }
fi
if ! grep -q ' - cgroup2 ' /proc/self/mountinfo; then
	echo "env-setup: no cgroup2 mount on this machine" >&2
	exit 1
fi
exit 0
