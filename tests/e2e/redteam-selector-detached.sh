#!/usr/bin/env bash
# Red team: a detached -l -A trace is filed in one namespace (the request's)
# but its pods span every namespace.  Detached traces are readable by anyone
# RBAC lets get traces and traces/log in that namespace, so alice (a tracer
# of team-a only) read team-b's pod names and events from the trace an
# admin started with -A -n team-a --detach.  A trace across namespaces must
# not be detached: nothing of team-b may be readable with team-a's rights.
source "$(dirname "$0")/lib.sh"
need_bpf "detached -A traces" || exit 0

selector_stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts"

PROG='tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); }'
W=$TG_WORK
KUBECONFIG=$TG_WORK/kubeconfig-admin kubectl trace run --context admin -l app=web -A -n team-a \
	--duration 60 --detach -e "$PROG" >"$W/created" 2>"$W/created.err"
rc=$?
ID=$(sed -n 's|^trace.tracegate.dev/\([^ ]*\) created.*|\1|p' "$W/created")
if [ "$rc" = 0 ] && [ -n "$ID" ]; then
	# until the trace has printed something of a pod (its log), 20 s at most
	logged() { kt alice logs -n team-a "$ID" >"$W/logs" 2>"$W/logs.err" && grep -q marker "$W/logs"; }
	wait_for 20 logged
	kt alice get "$ID" -n team-a -o json >"$W/get.json" 2>"$W/get.err"
	check "alice (team-a only) sees no team-b pod in the -A trace filed in team-a ($(head -c 300 "$W/get.json"))" \
		bash -c "! grep -q 'web-b' '$W/get.json'"
	check "alice (team-a only) reads no team-b event from its log ($(grep -m1 marker-web-b "$W/logs" | head -c 200))" \
		bash -c "! grep -q 'marker-web-b' '$W/logs' && ! grep -q 'team-b' '$W/logs'"
	KUBECONFIG=$TG_WORK/kubeconfig-admin kubectl trace delete --context admin -n team-a "$ID" >/dev/null 2>&1
else
	# refused: what it must say
	check "a detached -A trace is refused as a usage or request error (rc=$rc: $(head -c 300 "$W/created.err"))" \
		bash -c "[ $rc != 0 ] && grep -qi 'detach' '$W/created.err'"
	# the gateway refuses it itself, whatever the client
	code=$(curl -s -o "$W/direct" -w '%{http_code}' --cacert "$TG_CERTS/ca.crt" -H "Authorization: Bearer $(fixture_token admin)" \
		-H 'Content-Type: application/json' \
		--data-binary '{"selector":"app=web","allNamespaces":true,"detach":true,"program":"BEGIN { exit(); }"}' \
		"$TG_GATEWAY/apis/tracegate.dev/v1alpha1/namespaces/team-a/traces")
	check "the gateway refuses a detached -A body itself: 400 ($code: $(head -c 300 "$W/direct"))" \
		bash -c "[ $code = 400 ] && grep -q allNamespaces '$W/direct'"
fi
