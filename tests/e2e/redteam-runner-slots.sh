#!/usr/bin/env bash
# Red team: a flood of idle and slow TLS connections to a runner's port
# does not stop a real trace.  Any pod can reach a runner where no
# NetworkPolicy is enforced; the runner held at most 64 connections in
# handshake or request, each for up to 10 s, so a few connections a second
# from anywhere kept every slot and every session the gateway asked for was
# closed unanswered.  Here ten peer addresses (127.0.0.2-11, standing for
# ten hostile pods) each keep 20 connections open, half idle, half sending
# a TLS record one byte every half second, reopening each as soon as it is
# closed; meanwhile alice's traces through the real kubectl and the gateway
# (from 127.0.0.1) must run.  The runner bounds handshakes per peer
# address, ends a handshake after 3 s and gives a newcomer the oldest
# handshake of the peer holding the most slots.
source "$(dirname "$0")/lib.sh"
need_bpf "redteam runner slots" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts (kubesim, runner, gateway, two pods)"

out=$TG_WORK/out
err=$TG_WORK/err
stats=$TG_WORK/flood.stats
python3 "$(dirname "$0")/flood.py" "$TG_RUNNER_PORT" "$stats" 20 half-slow >"$TG_WORK/flood.log" 2>&1 &
FLOOD_PID=$!
TG_PIDS+=("$FLOOD_PID")
flood_field() { awk -v i="$1" '{ print $i }' "$stats" 2>/dev/null; }
# the flood is on: 200 connections were open at once and the runner has closed (and so
# handled) at least as many as it has slots
flooding() { [ "$(flood_field 4)" -ge 200 ] && [ "$(flood_field 3)" -ge 64 ]; }
if wait_for 30 flooding; then
	tap_ok "the flood opened 200 connections at once from 10 addresses ($(flood_field 3) closed by the runner and reopened so far)"
else
	tap_fail "the flood opened 200 connections at once from 10 addresses" "stats: $(cat "$stats" 2>/dev/null)" "$(tail -3 "$TG_WORK/flood.log")"
fi

ok=0
for i in 1 2 3; do
	start=$(date +%s)
	timeout 60 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a -e "$1"' \
		"$TG_WORK" 'tracepoint:syscalls:sys_enter_openat { @n = count(); if (@n > 2) { printf("seen\n"); exit(); } }' \
		>"$out.$i" 2>"$err.$i"
	rc=$?
	took=$(($(date +%s) - start))
	if [ $rc -eq 0 ] && grep -q '^seen$' "$out.$i"; then
		ok=$((ok + 1))
		tap_ok "trace $i of alice's pod runs during the flood (${took}s)"
	else
		tap_fail "trace $i of alice's pod runs during the flood" "rc=$rc took=${took}s" "$(tail -3 "$err.$i")" \
			"flood: $(cat "$stats")" "$(tail -3 "$TG_WORK/runner.log")"
	fi
done
check "the flood was still on after the traces ($(cat "$stats"))" kill -0 "$FLOOD_PID"
kill "$FLOOD_PID" 2>/dev/null
wait "$FLOOD_PID" 2>/dev/null
check "the runner logged the refusals, bounded (at most one line a second)" \
	bash -c "grep -cE 'refused: (too many TLS handshakes|all connection slots|a TLS handshake in progress dropped)' '$TG_WORK/runner.log' | awk '{ exit !(\$1 >= 1 && \$1 < 400) }'"
check "no program of ours is left" wait_for 5 no_progs_left
