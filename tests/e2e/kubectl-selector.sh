#!/usr/bin/env bash
# `kubectl trace run -l SELECTOR [-A]` (issue 10) through the real kubectl:
# every Running pod the label selector matches, as kubectl logs -l picks
# them.  Two runners (node-1, node-2) and kubesim's fixtures: in team-a
# web-a (node-1), web-a2 (node-2), web-canary-a (node-2, track=canary),
# all app=web; in team-b web-b (node-1, app=web).
source "$(dirname "$0")/lib.sh"
need_bpf "label selectors" || exit 0

selector_stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts (kubesim, runners for node-1 and node-2, gateway, four pods)"

PROG='tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); }'
out=$TG_WORK/out
err=$TG_WORK/err
# the markers seen, as "POD-OF-RECORD:MARKER" sorted
markers() { py 'sorted({r["pod"] + ":" + r["text"].split("/marker-")[1].strip() for r in outs if "/marker-" in r["text"]})' "$1" 2>&1; }

# 1. -l in one namespace: exactly the pods that match, each its own events
kt alice check -l 'app=web,track!=canary' -n team-a -e "$PROG" >"$out" 2>"$err"
rc=$?
check "check -l 'app=web,track!=canary': web-a and web-a2, not the canary (rc=$rc)" \
	grep -qx "  pods: team-a/web-a, team-a/web-a2" "$out"
kt alice run -l 'app=web,track!=canary' -n team-a --duration 3 -o json -e "$PROG" >"$out" 2>"$err"
rc=$?
got=$(markers "$out")
check "run -l 'app=web,track!=canary': web-a's and web-a2's markers only, each from its pod (rc=$rc, $got)" \
	test "$rc $got" = "0 ['team-a/web-a2:web-a2', 'team-a/web-a:web-a']"
kt alice run -l 'track in (canary)' -n team-a --duration 3 -o json -e "$PROG" >"$out" 2>"$err"
got=$(markers "$out")
check "run -l 'track in (canary)': web-canary-a's only ($got)" test "$got" = "['team-a/web-canary-a:web-canary-a']"
got=$(audit_py '[(r["tracegate"].get("selector"), r["tracegate"].get("pods")) for r in recs if r["stage"] == "ResponseStarted" and r["tracegate"].get("selector")][-1]')
check "the audit record names the selector and the pods ($got)" \
	test "$got" = "('track in (canary)', ['team-a/web-canary-a'])"

# 2. no pod matches: 404 naming the selector and the namespace, nothing started
kt alice run -l app=nope -n team-a -e "$PROG" >"$out" 2>"$err"
rc=$?
check "no pod matches: exit 1, NotFound naming the selector and namespace (rc=$rc: $(head -c 300 "$err"))" \
	bash -c "[ $rc = 1 ] && grep -qF 'Error from server (NotFound): no running pods match label selector \"app=nope\" in namespace \"team-a\"; nothing was started' '$err'"

# 3. usage: a TARGET and -l, a hostile selector
kt alice run pod/web-a -l app=web -n team-a -e "$PROG" >"$out" 2>"$err"
rc=$?
check "pod/web-a with -l: usage error, exit 2 (rc=$rc)" \
	bash -c "[ $rc = 2 ] && grep -q 'a TARGET (\"pod/web-a\") and -l cannot be given together' '$err'"
kt alice run -l 'app=web&x=y' -n team-a -e "$PROG" >"$out" 2>"$err"
rc=$?
check "a selector with '&': usage error naming the position (rc=$rc)" \
	bash -c "[ $rc = 2 ] && grep -q 'label selector: at position 5: invalid label value \"web&x\"' '$err'"
# the gateway reads it again: a body past the plugin is refused the same way
code=$(curl -s -o "$out" -w '%{http_code}' --cacert "$TG_CERTS/ca.crt" -H "Authorization: Bearer $(fixture_token alice)" \
	-H 'Content-Type: application/json' --data-binary '{"selector":"app in (a,b","program":"BEGIN { exit(); }"}' \
	"$TG_GATEWAY/apis/tracegate.dev/v1alpha1/namespaces/team-a/traces")
check "the gateway refuses a malformed selector itself: 400 with the position ($code: $(head -c 300 "$out"))" \
	bash -c "[ $code = 400 ] && grep -q 'label selector: at position 12: expected' '$out'"

# 4. -A: create traces and list pods at the cluster scope, as kubectl get
#    pods -A; alice may trace in team-a only: refused, nothing listed
kt alice run -l app=web -A -e "$PROG" >"$out" 2>"$err"
rc=$?
check "-A as alice (team-a only): 403 at the cluster scope, exit 3 (rc=$rc: $(head -c 300 "$err"))" \
	bash -c "[ $rc = 3 ] && grep -qF 'Error from server (Forbidden): traces.tracegate.dev is forbidden: User \"alice\" cannot create resource \"traces\" in API group \"tracegate.dev\" at the cluster scope' '$err'"
KUBECONFIG=$TG_WORK/kubeconfig-admin kubectl trace run --context admin -l 'app=web,track!=canary' -A \
	--duration 3 -o json -e "$PROG" >"$out" 2>"$err"
rc=$?
got=$(markers "$out")
check "-A as admin: team-a's and team-b's matching pods, each its own events (rc=$rc, $got)" \
	test "$rc $got" = "0 ['team-a/web-a2:web-a2', 'team-a/web-a:web-a', 'team-b/web-b:web-b']"
[ "$rc" = 0 ] || tail -3 "$err" | sed 's/^/# /'

# 5. a pod labelled while the trace runs joins it; unlabelled, it leaves
relabel() { # relabel POD TRACK: PUT the pod back with label track=TRACK
	api GET "/api/v1/namespaces/team-a/pods/$1" |
		python3 -c 'import json, sys; d = json.load(sys.stdin); d["metadata"]["labels"]["track"] = sys.argv[1]; print(json.dumps(d))' "$2" >"$TG_WORK/pod.json" &&
		api PUT "/api/v1/namespaces/team-a/pods/$1" "$(cat "$TG_WORK/pod.json")"
}
: >"$out"
kt_bg alice run -l 'app=web,track!=canary' -n team-a --duration 30 -o json -e "$PROG" >"$out" 2>"$err" &
ktpid=$!
wait_for 30 grep -q 'marker-web-a2' "$out" || tap_fail "the trace streams" "$(tail -3 "$err")"
relabel web-canary-a stable >"$TG_WORK/patch" 2>&1
if wait_for 30 grep -q '"phase":"pod-joined"' "$out"; then
	got=$(py '[(r["pod"], r["node"]) for r in recs if r["type"] == "status" and r["phase"] == "pod-joined"]' "$out" 2>&1)
	check "web-canary-a relabelled track=stable joins: pod-joined ($got)" \
		test "$got" = "[('team-a/web-canary-a', 'node-2')]"
	check "its events stream, labelled with it" wait_for 30 grep -q 'marker-web-canary-a' "$out"
else
	tap_fail "web-canary-a relabelled track=stable joins" "$(head -c 300 "$TG_WORK/patch")" "$(tail -3 "$out")" "$(tail -3 "$err")"
fi
relabel web-canary-a canary >/dev/null
if wait_for 30 grep -q '"phase":"pod-left"' "$out"; then
	got=$(py '[r["pod"] for r in recs if r["type"] == "status" and r["phase"] == "pod-left"]' "$out" 2>&1)
	check "labelled back, it leaves: pod-left ($got)" test "$got" = "['team-a/web-canary-a']"
else
	tap_fail "labelled back, it leaves" "$(tail -3 "$out")"
fi
kill -INT "$ktpid" 2>/dev/null
wait "$ktpid"
rc=$?
check "Ctrl-C ends it gracefully, exit 0 (rc=$rc)" test "$rc" = 0
check "no program is left on the nodes" wait_for 10 no_progs_left
