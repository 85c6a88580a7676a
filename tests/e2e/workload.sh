#!/usr/bin/env bash
# Workload targets across nodes: `kubectl trace run deployment/web` traces
# every Running pod of the Deployment on every node it runs on.  Two real
# runners on this machine play node-1 and node-2, each with a cgroup root
# of its own (both see the same cgroup tree), behind one gateway, with
# kubesim's fixtures: Deployment web in team-a -> ReplicaSet web-7c9f8b6d5
# -> web-a (node-1), web-a2 (node-2), web-a3 (Pending); Deployment
# web-canary -> web-canary-a (node-2), whose labels match web's selector.
source "$(dirname "$0")/lib.sh"
need_bpf "workload targets" || exit 0

workload_stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts (kubesim, runners for node-1 and node-2, gateway, three pods)"

PROG='tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); }'
out=$TG_WORK/out
err=$TG_WORK/err

# 1. what deployment/web is: a dry run names its Running pods and nodes
kt alice check deployment/web -n team-a -e "$PROG" >"$out" 2>"$err"
rc=$?
if [ $rc -eq 0 ] && grep -qx "  pods: team-a/web-a, team-a/web-a2" "$out" &&
	grep -qx "  nodes: node-1, node-2" "$out"; then
	tap_ok "check deployment/web: pods web-a and web-a2 on node-1 and node-2 (not the Pending one, not web-canary's)"
else
	tap_fail "check deployment/web: pods web-a and web-a2 on node-1 and node-2" "rc=$rc" "$(cat "$out" "$err")"
fi
check "check deployment/web: compiled and verified on both nodes' runners" \
	grep -qx "  compiled and verified on: node-1 (1 probe), node-2 (1 probe)" "$out"
kt alice check deployment/web -n team-a -e 'tracepoint:syscalls:sys_enter_opnat { }' >"$out" 2>"$err"
rc=$?
check "check deployment/web of a misspelled tracepoint: exit 4, each node's why in bpftrace's form (rc=$rc)" \
	bash -c "[ '$rc' = 4 ] && grep -q '^program:1:1: ERROR: no probe of the program exists here' '$out' '$err'"
kt alice check rs/web-7c9f8b6d5 -n team-a -e "$PROG" >"$out" 2>"$err"
check "check rs/web-7c9f8b6d5: the same two pods" grep -qx "  pods: team-a/web-a, team-a/web-a2" "$out"

# 2. alice traces deployment/web: both pods' markers stream in while the
#    trace runs, each labelled with its pod and node; web-canary's never
: >"$out"
kt alice run deployment/web -n team-a --duration 5 -o json -e "$PROG" >"$out" 2>"$err" &
ktpid=$!
# (polled from the start: on a loaded machine the markers may show late,
# when one node's 5 s have already run out and its programs are gone)
both_hold() { [ -n "$(node_prog_ids "$RUNNER_PID_node_1")" ] && [ -n "$(node_prog_ids "$RUNNER_PID_node_2")" ]; }
check "while streaming, node-1's and node-2's runners both hold programs" wait_for 8 both_hold
if wait_for 8 grep -q "marker-web-a2" "$out" && wait_for 3 grep -q 'marker-web-a\\n' "$out"; then
	tap_ok "outputs of both nodes stream in while the trace runs"
else
	tap_fail "outputs of both nodes stream in while the trace runs" "$(tail -5 "$out")" "$(cat "$err")" \
		"$(tail -5 "$TG_WORK"/gateway-*.log "$TG_WORK"/runner-node-*.log)"
fi
wait "$ktpid"
rc=$?
check "the trace ends with exit status 0" test "$rc" -eq 0
got=$(py '[(r["pods"], r["nodes"]) for r in recs if r["type"] == "status" and r.get("phase") == "accepted"]' "$out" 2>&1)
check "the stream starts with both pods and both nodes" \
	test "$got" = "[(['team-a/web-a', 'team-a/web-a2'], ['node-1', 'node-2'])]"
got=$(py 'sorted({(r["pod"], r["node"]) for r in outs if "/marker-" in r["text"] and r["text"].split("/marker-")[1].strip() in ("web-a", "web-a2")})' "$out" 2>&1)
if [ "$got" = "[('team-a/web-a', 'node-1'), ('team-a/web-a2', 'node-2')]" ]; then
	tap_ok "each pod's marker comes labelled with its own pod and node"
else
	tap_fail "each pod's marker comes labelled with its own pod and node" "got: $got"
fi
got=$(py 'sorted({(r["text"].split("/marker-")[1].strip(), r["pod"]) for r in outs if "/marker-" in r["text"]})' "$out" 2>&1)
check "no marker is attributed to the wrong pod" \
	test "$got" = "[('web-a', 'team-a/web-a'), ('web-a2', 'team-a/web-a2')]"
if grep -q "marker-web-canary" "$out"; then
	tap_fail "web-canary's pod never shows, though its labels match" "$(grep -m3 marker-web-canary "$out")"
else
	tap_ok "web-canary's pod never shows, though its labels match"
fi
got=$(py '[(r["reason"], r["events"] > 0) for r in recs if r["type"] == "end"]' "$out" 2>&1)
check "one end line, reason duration, events summed" test "$got" = "[('duration', True)]"
check "the end line is the last line" test "$(py 'recs[-1]["type"]' "$out")" = end

# the control: web-canary's pod is traceable, so its absence above means something
kt alice run deployment/web-canary -n team-a --duration 2 -o json -e "$PROG" >"$out" 2>"$err"
got=$(py 'sorted({(r["pod"], r["node"]) for r in recs if r["type"] == "output"})' "$out" 2>&1)
check "deployment/web-canary (matchExpressions) sees only its own pod" \
	test "$got" = "[('team-a/web-canary-a', 'node-2')]"

# 3. --prefix: plain bpftrace lines, each begun with [pod/NAME/NODE]
kt alice run deployment/web -n team-a --duration 3 --prefix -e "$PROG" >"$out" 2>"$err"
rc=$?
if [ $rc -eq 0 ] && grep -qE '^\[pod/web-a/node-1\] cat .*/marker-web-a$' "$out" &&
	grep -qE '^\[pod/web-a2/node-2\] cat .*/marker-web-a2$' "$out"; then
	tap_ok "--prefix labels each line [pod/NAME/NODE]"
else
	tap_fail "--prefix labels each line [pod/NAME/NODE]" "rc=$rc" "$(head -5 "$out")" "$(cat "$err")"
fi
bad=$(grep -vE '^\[pod/web-a2?/node-[12]\] (cat|bash|sleep) |^Attaching 1 probe\.\.\.$' "$out" | head -3)
check "every --prefix line is one source's ($bad)" test -z "$bad"
kt alice run deployment/web -n team-a --duration 2 -e "$PROG" >"$out" 2>"$err"
check "without --prefix the lines are bpftrace's own" grep -qE '^cat .*/marker-web-a2$' "$out"

# 4. maps merged across pods and nodes: one @ map, one @files map, with
#    both nodes' markers in it
MPROG='tracepoint:syscalls:sys_enter_openat { @[comm] = count(); @files[str(args->filename)] = count(); }'
kt alice run deployment/web -n team-a --duration 3 -o json -e "$MPROG" >"$out" 2>"$err"
got=$(py 'sorted(r["name"] for r in recs if r["type"] == "map")' "$out" 2>&1)
check "@[comm] = count() comes back as one map (and @files as one)" test "$got" = "['@', '@files']"
got=$(py '
m = {r["name"]: {e["key"]: e["value"] for e in r["entries"]} for r in recs if r["type"] == "map"}
a = [v for k, v in m["@files"].items() if k.endswith("/marker-web-a")]
b = [v for k, v in m["@files"].items() if k.endswith("/marker-web-a2")]
(len(a), len(b), m["@"].get("cat", 0) >= sum(a) + sum(b) > 0)' "$out" 2>&1)
check "the merged maps hold both nodes' counts (node-1's marker, node-2's marker, @[cat] covers both)" \
	test "$got" = "(1, 1, True)"
[ "$got" = "(1, 1, True)" ] || echo "# got: $got"
kt alice run deployment/web -n team-a --duration 2 -e 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }' >"$out" 2>"$err"
check "as text, @[cat] is printed once" test "$(grep -c '^@\[cat\]: [0-9]' "$out")" -eq 1

# 4a. -o bpftrace-json (issue 11): the same maps merged as the text's, each
#     once, as bpftrace's JSON records; attached_probes once for both nodes
kt alice run deployment/web -n team-a --duration 2 -o bpftrace-json -e "$MPROG" >"$out" 2>"$err"
rc=$?
got=$(python3 - "$out" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
types = [r["type"] for r in recs]
maps = {k: v for r in recs if r["type"] == "map" for k, v in r["data"].items()}
files = maps.get("@files", {})
print(types.count("attached_probes"), types.count("map"), sorted(maps),
      sum(k.endswith("/marker-web-a") for k in files), sum(k.endswith("/marker-web-a2") for k in files),
      maps.get("@", {}).get("cat", 0) >= sum(v for k, v in files.items() if "/marker-web-a" in k) > 0)
EOF
)
check "-o bpftrace-json on deployment/web: one merged map record each, both nodes' markers (rc=$rc: $got)" \
	test "$rc $got" = "0 1 2 ['@', '@files'] 1 1 True"

# 4b. Ctrl-C on a workload trace (the keystroke in a pty, as a person):
#     both nodes stop gracefully, their maps come merged, exit 0
CPROG='tracepoint:syscalls:sys_enter_openat { @files[str(args->filename)] = count(); printf("%s\n", str(args->filename)); }'
rc=$(python3 "$TG_TOP/tests/e2e/pty-drive.py" "$out" 'wait:marker-web-a\r' 'wait:marker-web-a2\r' 'key:\x03' exit:60 -- \
	kubectl trace run --context alice deployment/web -n team-a -e "$CPROG" 2>"$err")
na=$(grep -cE '^@files\[.*/marker-web-a\]: [0-9]+' "$out")
nb=$(grep -cE '^@files\[.*/marker-web-a2\]: [0-9]+' "$out")
check "Ctrl-C on deployment/web: one merged @files with both nodes' markers, exit 0 (rc=$rc, $na, $nb)" \
	test "$rc" = 0 -a "$na" = 1 -a "$nb" = 1
[ "$rc" = 0 ] || tail -c 400 "$out" | sed 's/^/# /'

# 4c. print() per tick across nodes (issue 9): each tick's @x comes once,
#     while the trace runs, merged from both nodes (both markers in it)
TPROG='tracepoint:syscalls:sys_enter_openat /comm == "cat"/ { @x[str(args->filename)] = count(); }
interval:s:1 { print(@x); clear(@x); }'
nprints() { grep -c '"print":true' "$1"; }
: >"$out"
kt_bg alice run deployment/web -n team-a --duration 5 -o json -e "$TPROG" >"$out" 2>"$err" &
ktpid=$!
if wait_for 10 bash -c "[ \$(grep -c '\"print\":true' '$out') -ge 2 ]" && kill -0 "$ktpid" 2>/dev/null; then
	tap_ok "deployment/web: the ticks' prints arrive while the trace runs"
else
	tap_fail "deployment/web: the ticks' prints arrive while the trace runs" "$(tail -3 "$out")" "$(cat "$err")"
fi
wait "$ktpid"
got=$(py '
p = [r for r in recs if r["type"] == "map" and r.get("print")]
both = [any(e["key"].endswith("/marker-web-a") for e in r["entries"]) and any(e["key"].endswith("/marker-web-a2") for e in r["entries"]) for r in p]
(len(p) in (4, 5, 6), sum(both) >= len(p) - 1, [r.get("node") for r in p if "node" in r])' "$out" 2>&1)
check "one merged print per tick, with both nodes' markers ($got)" test "$got" = "(True, True, [])"

# a slow node does not hold the others' ticks: node-2's session frozen,
# node-1's prints still come, each at most TRACE_PRINT_WAIT_MS (2 s) late
: >"$out"
kt_bg alice run deployment/web -n team-a --duration 10 -o json -e "$TPROG" >"$out" 2>"$err" &
ktpid=$!
if wait_for 10 bash -c "[ \$(grep -c '\"print\":true' '$out') -ge 1 ]"; then
	frozen=$(pgrep -P "$RUNNER_PID_node_2" | tr '\n' ' ')
	# shellcheck disable=SC2086
	kill -STOP $frozen
	n0=$(nprints "$out")
	t0=$(date +%s%N)
	if wait_for 8 bash -c "[ \$(grep -c '\"print\":true,\"node\":\"node-1\"' '$out') -ge 2 ]"; then
		ms=$((($(date +%s%N) - t0) / 1000000))
		tap_ok "with node-2 frozen, node-1's prints go on alone (2 of them in $ms ms)"
	else
		tap_fail "with node-2 frozen, node-1's prints go on alone" "$(tail -3 "$out")"
	fi
	# shellcheck disable=SC2086
	kill -CONT $frozen
	wait "$ktpid"
	rc=$?
	check "the trace still ends with exit status 0 (rc=$rc)" test "$rc" -eq 0
else
	tap_fail "a trace to freeze node-2 in prints" "$(cat "$err")"
	kill -9 "$ktpid" 2>/dev/null
fi

# 5. authorization: get on the Deployment itself
KUBECONFIG=$TG_WORK/kubeconfig-dave kubectl trace run deployment/web -n team-a --context dave \
	-e "$PROG" >"$out" 2>"$err"
rc=$?
if [ $rc -ne 0 ] && grep -q 'Error from server (Forbidden): deployments.apps "web" is forbidden: User "dave" cannot get resource "deployments" in API group "apps" in the namespace "team-a"' "$err"; then
	tap_ok "a user without get deployments is refused (403) on deployment/web"
else
	tap_fail "a user without get deployments is refused (403) on deployment/web" "rc=$rc" "$(cat "$err")"
fi
KUBECONFIG=$TG_WORK/kubeconfig-dave kubectl trace check pod/web-a -n team-a --context dave \
	-e "$PROG" >"$out" 2>"$err"
check "the same user may trace pod/web-a (the 403 is about the Deployment)" grep -q "^allowed" "$out"
kt bob run deployment/web -n team-a -e "$PROG" >"$out" 2>"$err"
check "a user of another namespace is refused (403)" grep -q "Forbidden" "$err"
kt alice run deployment/nope -n team-a -e "$PROG" >"$out" 2>"$err"
check "an unknown deployment is 404" grep -q 'Error from server (NotFound): deployments.apps "nope" not found' "$err"

# 6. one runner killed mid-way: the other node's output goes on, the end
#    line says what happened
: >"$out"
kt_bg alice run deployment/web -n team-a --duration 8 -o json -e "$PROG" >"$out" 2>"$err" &
ktpid=$!
if wait_for 8 grep -q "marker-web-a2" "$out" && wait_for 3 grep -q 'marker-web-a\\n' "$out"; then
	victims="$RUNNER_PID_node_2 $(pgrep -P "$RUNNER_PID_node_2" | tr '\n' ' ')"
	# shellcheck disable=SC2086
	kill -9 $victims
	wait "$RUNNER_PID_node_2" 2>/dev/null
	killed_at=$(grep -c 'marker-web-a\\n' "$out")
	if wait_for 5 bash -c "[ \$(grep -c 'marker-web-a\\\\n' '$out') -gt $((killed_at + 5)) ]"; then
		tap_ok "with node-2's runner killed, node-1's output goes on"
	else
		tap_fail "with node-2's runner killed, node-1's output goes on" "$(tail -3 "$out")"
	fi
	wait "$ktpid"
	rc=$?
	check "the trace ends with exit status 5 (a node failed: runner lost)" test "$rc" -eq 5
	got=$(py '[(r["node"], "node-2" in r["message"]) for r in recs if r["type"] == "error"]' "$out" 2>&1)
	check "node-2's failure is streamed as an error line with its node" test "$got" = "[('node-2', True)]"
	got=$(py '[(r["reason"], r.get("failedNodes"), "node \"node-2\"" in r.get("message", "") and "the other nodes ran to the end (\"duration\")" in r.get("message", "")) for r in recs if r["type"] == "end"]' "$out" 2>&1)
	check "the end line says node-2 failed and node-1 ran to its end" \
		test "$got" = "[('runner-lost', ['node-2'], True)]"
	[ "$got" = "[('runner-lost', ['node-2'], True)]" ] || echo "# got: $got"
	ids=$(node_prog_ids "$RUNNER_PID_node_1")
	check "node-1's runner holds nothing afterwards" wait_for 3 test -z "$(node_prog_ids "$RUNNER_PID_node_1")"
else
	tap_fail "the trace to kill a runner in streams" "$(cat "$err")"
	kill -9 "$ktpid" 2>/dev/null
fi

# node-2's runner back for what follows (a check runs on every node's runner)
runner_node_start node-2 "$PORT2" || tap_fail "node-2's runner restarts" "$(tail -3 "$TG_WORK/runner-node-2.log")"

# 7. the audit record lists every pod and node, and the failure
got=$(audit_py '[(r["tracegate"]["target"], r["tracegate"]["pods"], r["tracegate"]["nodes"]) for r in recs if r["stage"] == "ResponseStarted" and r["annotations"]["authorization.k8s.io/decision"] == "allow" and r["tracegate"]["target"] == "deployment/web"][0]' 2>&1)
check "the audit record lists every pod and node" \
	test "$got" = "('deployment/web', ['team-a/web-a', 'team-a/web-a2'], ['node-1', 'node-2'])"
got=$(audit_py '[(r["tracegate"]["endReason"], r["tracegate"]["failedNodes"], r["tracegate"]["nodeEndReasons"]) for r in recs if r["stage"] == "ResponseComplete" and r["tracegate"].get("failedNodes")][-1]' 2>&1)
check "the ResponseComplete record names the failed node and how each node ended" \
	test "$got" = "('runner-lost', ['node-2'], {'node-1': 'duration', 'node-2': 'runner-lost'})"
[ "$got" = "('runner-lost', ['node-2'], {'node-1': 'duration', 'node-2': 'runner-lost'})" ] || echo "# got: $got"
check "tracegate audit verify passes on the log" bash -c "tracegate audit verify '$TG_AUDIT' >/dev/null"

# 8. a gateway that knows node-1's runner only: deployment/web also runs
#    on node-2; it runs on node-1 and names web-a2 as left out, unless
#    --all-nodes asks for all or nothing
GW2_PORT=$(free_port)
nodes_gateway_config "$TG_WORK/gateway2.json" "$GW2_PORT" "{\"node-1\":{\"url\":\"https://127.0.0.1:$PORT1\"}}"
if nodes_gateway_at "$TG_WORK/gateway2.json" "$GW2_PORT"; then
	LEFT='node "node-2": pod team-a/web-a2 was not added to the trace: not traced: no runner for node "node-2"'
	TRACEGATE_URL=https://127.0.0.1:$GW2_PORT kt alice check deployment/web -n team-a -e "$PROG" >"$out" 2>"$err"
	check "check with a pod on a node without a runner: it would be left out" \
		bash -c "grep -qx '  pods: team-a/web-a' '$out' && grep -qx '  left out: team-a/web-a2 (no runner for node \"node-2\")' '$out'"
	TRACEGATE_URL=https://127.0.0.1:$GW2_PORT kt alice run deployment/web -n team-a --duration 2 -o json \
		-e "$PROG" >"$out" 2>"$err"
	rc=$?
	check "a pod on a node without a runner: the trace runs on the others and exits 0 (rc=$rc)" test "$rc" -eq 0
	check "node-1's pod's events stream" grep -q 'marker-web-a\\n' "$out"
	got=$(py '[(r["pod"], r["node"], r.get("message")) for r in recs if r["type"] == "status" and r["phase"] == "pod-not-joined"]' "$out" 2>&1)
	check "the left-out pod gets a pod-not-joined record with its node and why" \
		test "$got" = "[('team-a/web-a2', 'node-2', 'not traced: no runner for node \"node-2\"')]"
	check "the plugin names the left-out pod and its node on stderr" grep -qF "$LEFT" "$err"
	check "the gateway log names it" grep -qF 'pod "team-a/web-a2" left out: no runner for node "node-2"' \
		"$TG_WORK/gateway-$GW2_PORT.log"
	got=$(TG_AUDIT=$TG_WORK/audit-$GW2_PORT.log audit_py '[(r["stage"], r["tracegate"]["pods"], [(p["pod"], p["node"], p["message"]) for p in r["tracegate"]["podsLeftOut"]]) for r in recs if r["stage"] in ("ResponseStarted", "ResponseComplete") and r["tracegate"].get("podsLeftOut") and not r["tracegate"].get("dryRun")]' 2>&1)
	want="[('ResponseStarted', ['team-a/web-a'], [('team-a/web-a2', 'node-2', 'not traced: no runner for node \"node-2\"')]), ('ResponseComplete', ['team-a/web-a'], [('team-a/web-a2', 'node-2', 'not traced: no runner for node \"node-2\"')])]"
	check "ResponseStarted and ResponseComplete name the left-out pod" test "$got" = "$want"
	[ "$got" = "$want" ] || echo "# got: $got"

	sessions_before=$(grep -c "session " "$TG_WORK/runner-node-1.log")
	TRACEGATE_URL=https://127.0.0.1:$GW2_PORT kt alice run deployment/web -n team-a --all-nodes --duration 1 \
		-e "$PROG" >"$out" 2>"$err"
	check "--all-nodes, a pod on a node without a runner: 503 naming the node, nothing started" \
		grep -q 'Error from server (ServiceUnavailable): no runner for node "node-2" of pod "team-a/web-a2"; nothing was started' "$err"
	grep -q "ServiceUnavailable" "$err" || echo "# $(cat "$err")"
	TRACEGATE_URL=https://127.0.0.1:$GW2_PORT kt alice run pod/web-a2 -n team-a --duration 1 \
		-e "$PROG" >"$out" 2>"$err"
	check "a single pod on a node without a runner: still 503 naming the node" \
		grep -q 'Error from server (ServiceUnavailable): no runner for node "node-2" of pod "team-a/web-a2"' "$err"
	sleep 1.5
	check "node-1's runner got no session from either" \
		test "$(grep -c "session " "$TG_WORK/runner-node-1.log")" -eq "$sessions_before"
else
	tap_fail "a gateway with node-1's runner only starts" "$(cat "$TG_WORK/gateway-$GW2_PORT.log")"
fi

# 9. maxPodsPerTrace
GW3_PORT=$(free_port)
nodes_gateway_config "$TG_WORK/gateway3.json" "$GW3_PORT" \
	"{\"node-1\":{\"url\":\"https://127.0.0.1:$PORT1\"},\"node-2\":{\"url\":\"https://127.0.0.1:$PORT2\"}}" \
	'{"maxPodsPerTrace":1}'
if nodes_gateway_at "$TG_WORK/gateway3.json" "$GW3_PORT"; then
	TRACEGATE_URL=https://127.0.0.1:$GW3_PORT kt alice run deployment/web -n team-a -e "$PROG" >"$out" 2>"$err"
	check "two pods over maxPodsPerTrace 1: refused naming the limit" \
		grep -q 'Error from server (BadRequest): deployment "web" in namespace "team-a" has 2 running pods, more than the limit "maxPodsPerTrace" (1)' "$err"
	TRACEGATE_URL=https://127.0.0.1:$GW3_PORT kt alice check rs/web-canary-5d8f9c7b6 -n team-a -e "$PROG" >"$out" 2>"$err"
	check "one pod is within it" grep -qx "  pods: team-a/web-canary-a" "$out"
else
	tap_fail "a gateway with maxPodsPerTrace 1 starts" "$(cat "$TG_WORK/gateway-$GW3_PORT.log")"
fi
