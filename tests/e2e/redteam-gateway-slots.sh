#!/usr/bin/env bash
# Red team (issue 7's held-out suite): a flood of idle and slow TLS
# connections to the GATEWAY's port does not keep tenants out.  Anyone
# who reaches the gateway (no credential needed: nothing is said before
# the TLS handshake) held its 256 connection slots (limits.maxConnections)
# with plain idle TCP connections, each for up to requestTimeoutSeconds
# (30 s), and the listener was switched off while they were held: alice's
# `kubectl trace` failed with "SSL connection timeout".  Here ten peer
# addresses (127.0.0.2-11) each keep 40 connections open (400 > 256),
# idle (they never send a byte),
# reopening each as soon as it is closed; alice's traces (from
# 127.0.0.1) must run.  The gateway now ends a handshake after
# limits.handshakeTimeoutSeconds (5 s), holds at most
# limits.maxPendingPerPeer (32) connections of one address that have not
# yet been handed a request, and, when every slot is taken, gives a
# newcomer the oldest pending connection of the address holding the most.
source "$(dirname "$0")/lib.sh"
need_bpf "redteam gateway slots" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts (kubesim, runner, gateway, two pods)"

out=$TG_WORK/out
err=$TG_WORK/err
stats=$TG_WORK/flood.stats
python3 "$(dirname "$0")/flood.py" "$TG_GATEWAY_PORT" "$stats" 40 idle >"$TG_WORK/flood.log" 2>&1 &
FLOOD_PID=$!
TG_PIDS+=("$FLOOD_PID")
flood_field() { awk -v i="$1" '{ print $i }' "$stats" 2>/dev/null; }
# the flood is on: 256 connections (every slot) were open at once
flooding() { [ "$(flood_field 4)" -ge 256 ]; }
if wait_for 30 flooding; then
	tap_ok "the flood opened $(flood_field 4) connections at once from 10 addresses"
else
	tap_fail "the flood opened 256 connections at once from 10 addresses" "stats: $(cat "$stats" 2>/dev/null)" "$(tail -3 "$TG_WORK/flood.log")"
fi

for i in 1 2 3; do
	start=$(date +%s)
	timeout 60 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a -e "$1"' \
		"$TG_WORK" 'tracepoint:syscalls:sys_enter_openat { @n = count(); if (@n > 2) { printf("seen\n"); exit(); } }' \
		>"$out.$i" 2>"$err.$i"
	rc=$?
	took=$(($(date +%s) - start))
	if [ $rc -eq 0 ] && grep -q '^seen$' "$out.$i"; then
		tap_ok "trace $i of alice's pod runs during the flood (${took}s)"
	else
		tap_fail "trace $i of alice's pod runs during the flood" "rc=$rc took=${took}s" "$(tail -3 "$err.$i")" \
			"flood: $(cat "$stats")" "$(tail -3 "$TG_WORK/gateway.log")"
	fi
done
check "the flood was still on after the traces ($(cat "$stats"))" kill -0 "$FLOOD_PID"
kill "$FLOOD_PID" 2>/dev/null
wait "$FLOOD_PID" 2>/dev/null
check "the audit chain is intact" tracegate audit verify "$TG_AUDIT"
check "no program of ours is left" wait_for 5 no_progs_left
