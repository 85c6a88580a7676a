#!/usr/bin/env bash
# A tenant's wildcard one-liner through kubectl trace: about 360 syscall
# tracepoints, one BPF program attached to each with the probe's identity
# in the attach cookie.  It attaches, runs its duration and ends normally
# with its maps (the runner's watchdog counts from "attached", and the
# slow part of detaching, closing the tracepoints' perf events, comes
# after the end record).
source "$(dirname "$0")/lib.sh"
need_bpf "tenant wildcard" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts (kubesim, runner, gateway, two pods)"

PROG='tracepoint:syscalls:sys_enter_* { @[probe] = count(); }'
out=$TG_WORK/wild.out
err=$TG_WORK/wild.err
ntp=$(grep -c '^syscalls:sys_enter_' /sys/kernel/tracing/available_events 2>/dev/null ||
	grep -c '^syscalls:sys_enter_' /sys/kernel/debug/tracing/available_events)

start=$SECONDS
timeout 300 env KUBECONFIG="$TG_WORK/kubeconfig" kubectl trace run --context alice pod/web-a -n team-a \
	--duration 3 -e "$PROG" >"$out" 2>"$err"
rc=$?
took=$((SECONDS - start))
if [ "$rc" -eq 0 ] && grep -q "^Attaching $ntp probes\.\.\.$" "$out"; then
	tap_ok "the wildcard one-liner ends normally ($took s, $ntp tracepoints)"
else
	tap_fail "the wildcard one-liner ends normally" "rc=$rc after $took s" "$(tail -5 "$out")" "$(cat "$err")" \
		"$(tail -20 "$TG_WORK/runner.log" "$TG_WORK/gateway.log" 2>/dev/null)"
fi
# the pod's loop sleeps: its sleeps are counted, under their probe's name
check "its maps are printed, keyed by each tracepoint's own name" \
	grep -qE '^@\[tracepoint:syscalls:sys_enter_(clock_)?nanosleep\]: [1-9][0-9]*$' "$out"
if grep -vE '^@\[tracepoint:syscalls:sys_enter_[a-z0-9_]+\]: [0-9]+$|^Attaching [0-9]+ probes\.\.\.$|^$' "$out" | grep -q .; then
	tap_fail "every map line names a syscall tracepoint" "$(grep -vE '^@\[tracepoint:syscalls:sys_enter_|^Attaching|^$' "$out" | head -3)"
else
	tap_ok "every map line names a syscall tracepoint"
fi
check "no error and no warning on stderr" test ! -s "$err"
check "the runner's watchdog killed nothing" test "$(grep -c 'killing child' "$TG_WORK/runner.log")" -eq 0
if wait_for 10 no_progs_left; then
	tap_ok "no program of ours is left after the session"
else
	tap_fail "no program of ours is left after the session" "held: $(runner_prog_ids | tr '\n' ' ')" "$(progs_report)"
fi
