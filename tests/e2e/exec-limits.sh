#!/usr/bin/env bash
# tracegate-runner exec limits: each limit takes effect with its reason and
# its counts reach the end record (--summary prints it on stderr).
#   --max-map-entries  refused map updates counted as mapDrops
#   --rate             events beyond the rate dropped in BPF, counted as drops
#   max duration       (--policy's maxDuration) ends with reason "duration"
#   --cpu-budget       ends with reason "cpu-budget" and a warning
#   --max-output-bytes ends with reason "output-limit" and a warning
#   --policy           a denial explains itself and nothing loads
source "$(dirname "$0")/lib.sh"
RUNNER=${TG_RUNNER:-$TG_BIN/tracegate-runner}
need_bpf "exec limits" || exit 0
if [ ! -x "$RUNNER" ]; then
	tap_fail "exec limits: $RUNNER is not built"
	exit 0
fi
work=$(mktemp -d)
cleanup() {
	local p
	for p in "${TG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap 'if [ "$BASHPID" = "$$" ]; then cleanup; fi' EXIT

# a flood of syscalls: many distinct keys and many events
bash -c 'while :; do cat /dev/null; done' >/dev/null 2>&1 &
TG_PIDS+=($!)
disown

end_field() { # end_field KEY FILE: a field of the end record
	python3 -c 'import json, sys
for l in open(sys.argv[2]):
    if l.startswith("{") and "\"end\"" in l:
        print(json.loads(l)[sys.argv[1]])' "$1" "$2"
}
run() { # run NAME ARGS...: exec with --summary; stdout NAME.out, stderr NAME.err
	local name=$1
	shift
	timeout 40 "$RUNNER" exec --summary --cache-dir "$work/cache" "$@" >"$work/$name.out" 2>"$work/$name.err"
}

# 1. map entries
run map --max-map-entries 16 --duration 2 \
	-e 'tracepoint:syscalls:sys_enter_openat { @[pid, nsecs] = count(); }'
n=$(grep -c '^@\[' "$work/map.out")
md=$(end_field mapDrops "$work/map.err")
if [ "$n" -le 16 ] && [ "$n" -gt 0 ] && [ "${md:-0}" -gt 0 ] && grep -q "map updates refused (map entry limit)" "$work/map.err"; then
	tap_ok "exec limits: --max-map-entries 16 keeps $n entries, $md refused updates counted"
else
	tap_fail "exec limits: --max-map-entries" "entries $n mapDrops ${md:-none}" "$(tail -3 "$work/map.err")"
fi

# 1b. map bytes: each map's entries capped so all maps fit (key 16 bytes +
# a per-CPU 8-byte count), and a limit too small for one entry refused
cpus=$(nproc)
per=$((16 + 8 * cpus))
run mapb --max-map-bytes $((per * 10)) --duration 2 \
	-e 'tracepoint:syscalls:sys_enter_openat { @[pid, nsecs] = count(); }'
n=$(grep -c '^@\[' "$work/mapb.out")
md=$(end_field mapDrops "$work/mapb.err")
if [ "$n" -le 10 ] && [ "$n" -gt 0 ] && [ "${md:-0}" -gt 0 ]; then
	tap_ok "exec limits: --max-map-bytes $((per * 10)) keeps $n entries of $per bytes, $md refused updates counted"
else
	tap_fail "exec limits: --max-map-bytes" "entries $n mapDrops ${md:-none}" "$(tail -3 "$work/mapb.err")"
fi
run mapb0 --max-map-bytes 8 -e 'BEGIN { @[1] = count(); exit(); }'
if grep -q 'more than the limit maxMapBytes (8)' "$work/mapb0.err"; then
	tap_ok "exec limits: a maxMapBytes too small for one entry is refused, naming the limit"
else
	tap_fail "exec limits: a maxMapBytes too small for one entry is refused" "$(tail -3 "$work/mapb0.err")"
fi

# 2. events per second: dropped in BPF, counted
run rate --rate 200 --duration 3 -e 'tracepoint:syscalls:sys_enter_openat { printf("%d\n", pid); }'
ev=$(end_field events "$work/rate.err")
dr=$(end_field drops "$work/rate.err")
lines=$(wc -l <"$work/rate.out")
# a full bucket (one second) plus three seconds of rate, and a little slack
# for the time between attaching and the deadline
if [ "${ev:-0}" -gt 0 ] && [ "$ev" -le 900 ] && [ "${dr:-0}" -gt 1000 ] && [ "$lines" -ge "$ev" ]; then
	tap_ok "exec limits: --rate 200 for 3 s delivers $ev events, $dr dropped and counted"
else
	tap_fail "exec limits: --rate" "events ${ev:-none} drops ${dr:-none} lines $lines" "$(tail -3 "$work/rate.err")"
fi
# without the rate the same program delivers far more (not vacuous)
run norate --duration 1 -e 'tracepoint:syscalls:sys_enter_openat { printf("%d\n", pid); }'
ev2=$(end_field events "$work/norate.err")
if [ "${ev2:-0}" -gt 2000 ]; then
	tap_ok "exec limits: without --rate the flood delivers $ev2 events in 1 s"
else
	tap_fail "exec limits: without --rate the flood delivers many events" "events ${ev2:-none}"
fi

# 3. max duration from a policy, shorter than --duration
cat >"$work/policy.yaml" <<'YAML'
apiVersion: tracegate.dev/v1alpha1
kind: TracePolicy
metadata:
  name: local-short
spec:
  subjects:
    groups: ["system:authenticated"]
    namespaces: ["*"]
  scope: [node, pod]
  probes:
    allow: ["tracepoint:syscalls:*", "BEGIN", "END", "interval:*"]
  builtins:
    allow: [pid, comm, nsecs]
  functions:
    allow: [printf, count, exit]
  limits:
    maxDuration: 2s
    maxMapEntries: 8
    eventsPerSecond: 50
    cpuBudget: 0.5
YAML
start=$(date +%s%N)
run policy --policy "$work/policy.yaml" --duration 30 \
	-e 'tracepoint:syscalls:sys_enter_openat { @[pid, nsecs] = count(); printf("%d\n", pid); }'
rc=$?
el=$(( ($(date +%s%N) - start) / 1000000 ))
reason=$(end_field reason "$work/policy.err")
if [ "$rc" -eq 0 ] && [ "$reason" = duration ] && [ "$el" -lt 10000 ]; then
	tap_ok "exec limits: the policy's maxDuration 2s ends a --duration 30 run with reason duration (${el} ms)"
else
	tap_fail "exec limits: policy maxDuration" "rc $rc reason ${reason:-none} elapsed ${el} ms" "$(tail -5 "$work/policy.err")"
fi
md=$(end_field mapDrops "$work/policy.err")
ev=$(end_field events "$work/policy.err")
if [ "${md:-0}" -gt 0 ] && [ "$(grep -c '^@\[' "$work/policy.out")" -le 8 ] && [ "${ev:-0}" -le 250 ]; then
	tap_ok "exec limits: the policy's maxMapEntries and eventsPerSecond apply (mapDrops $md, events $ev)"
else
	tap_fail "exec limits: the policy's limits apply" "mapDrops ${md:-none} events ${ev:-none}"
fi

# 4. a denial explains itself, nothing loads
run deny --policy "$work/policy.yaml" -e 'tracepoint:sched:sched_switch { @ = count(); }'
rc=$?
if [ "$rc" -eq 1 ] && grep -q '1:1: probe "tracepoint:sched:sched_switch" is not allowed' "$work/deny.err" &&
	! grep -q '"type":"end"' "$work/deny.err" && ! grep -q Attaching "$work/deny.out"; then
	tap_ok "exec limits: --policy denial names the probe and line:col, exits 1 before loading"
else
	tap_fail "exec limits: --policy denial" "rc $rc" "$(cat "$work/deny.err")"
fi

# 5. CPU budget: an expensive body on every syscall of a busy loop
run cpu --cpu-budget 0.001 --duration 20 \
	-e 'tracepoint:raw_syscalls:sys_enter { $i = 0; $x = 0; unroll(100) { $x = $x * 3 + $i; $i = $i + 1; } @ = sum($x); }'
reason=$(end_field reason "$work/cpu.err")
cpu=$(end_field cpuNs "$work/cpu.err")
if [ "$reason" = cpu-budget ] && grep -q "WARNING: cpu budget: the programs used" "$work/cpu.err" && [ "${cpu:-0}" -gt 1000000 ]; then
	tap_ok "exec limits: --cpu-budget 0.001 stops with reason cpu-budget (cpuNs $cpu)"
else
	tap_fail "exec limits: --cpu-budget" "reason ${reason:-none} cpuNs ${cpu:-none}" "$(tail -3 "$work/cpu.err")"
fi
# a generous budget does not stop the same program
run cpuok --cpu-budget 0.9 --duration 2 \
	-e 'tracepoint:raw_syscalls:sys_enter { $i = 0; $x = 0; unroll(100) { $x = $x * 3 + $i; $i = $i + 1; } @ = sum($x); }'
reason=$(end_field reason "$work/cpuok.err")
check "exec limits: --cpu-budget 0.9 lets it run to its duration (reason ${reason:-none})" test "$reason" = duration

# 5b. output bytes (red team 4: printf of 32 x %4096d made 128 KB of text
# of each 4 KB record, 146 MB in 1.9 s): the record that would pass the
# limit is not printed, the run ends with reason output-limit, counted
BOMB_FMT=$(python3 -c 'print("%4096d" * 32)')
BOMB_ARGS=$(python3 -c 'print(", ".join(["1"] * 32))')
run outb --max-output-bytes 1000000 --duration 20 \
	-e "tracepoint:syscalls:sys_enter_openat { printf(\"$BOMB_FMT\n\", $BOMB_ARGS); }"
reason=$(end_field reason "$work/outb.err")
ob=$(end_field outputBytes "$work/outb.err")
got=$(wc -c <"$work/outb.out")
if [ "$reason" = output-limit ] && [ "${ob:-0}" -gt 0 ] && [ "$ob" -le 1000000 ] && [ "$got" -le 1000100 ] &&
	grep -q "WARNING: output limit: .* would pass the limit maxOutputBytes (1000000); stopping" "$work/outb.err"; then
	tap_ok "exec limits: --max-output-bytes 1000000 stops a printf bomb with reason output-limit ($ob bytes counted, $got on stdout)"
else
	tap_fail "exec limits: --max-output-bytes" "reason ${reason:-none} outputBytes ${ob:-none} stdout $got" \
		"$(tail -3 "$work/outb.err")"
fi
# the policy's maxOutputBytes is the limit of exec --policy too
cat >"$work/outpol.yaml" <<'YAML'
apiVersion: tracegate.dev/v1alpha1
kind: TracePolicy
metadata:
  name: local-output
spec:
  subjects:
    groups: ["system:authenticated"]
    namespaces: ["*"]
  scope: [node, pod]
  probes:
    allow: ["tracepoint:syscalls:*"]
  functions:
    allow: [printf]
  limits:
    maxOutputBytes: 300Ki
YAML
run outp --policy "$work/outpol.yaml" --duration 20 \
	-e "tracepoint:syscalls:sys_enter_openat { printf(\"$BOMB_FMT\n\", $BOMB_ARGS); }"
reason=$(end_field reason "$work/outp.err")
ob=$(end_field outputBytes "$work/outp.err")
if [ "$reason" = output-limit ] && [ "${ob:-0}" -le $((300 * 1024)) ] && [ "${ob:-0}" -gt 0 ]; then
	tap_ok "exec limits: a policy's maxOutputBytes 300Ki stops it ($ob bytes)"
else
	tap_fail "exec limits: a policy's maxOutputBytes" "reason ${reason:-none} outputBytes ${ob:-none}" \
		"$(tail -3 "$work/outp.err")"
fi

# 6. bad values are refused with the flag named
for bad in "--rate 0" "--rate x" "--max-map-entries 0" "--cpu-budget -1" "--cpu-budget nan" "--max-output-bytes 0"; do
	# shellcheck disable=SC2086
	timeout 10 "$RUNNER" exec $bad -e 'BEGIN { exit(); }' >/dev/null 2>"$work/bad.err"
	rc=$?
	flag=${bad%% *}
	if [ "$rc" -eq 2 ] && grep -q -- "$flag" "$work/bad.err"; then
		tap_ok "exec limits: $bad refused"
	else
		tap_fail "exec limits: $bad refused" "rc $rc" "$(cat "$work/bad.err")"
	fi
done
