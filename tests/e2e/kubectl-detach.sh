#!/usr/bin/env bash
# Detached traces (issue 10) through the real kubectl: `run --detach`
# returns a name and the trace runs on the runner with nobody attached; it
# survives the client and a gateway restart (the runner holds the sessions
# and their output); `logs` shows what it printed meanwhile; `get` lists
# it; bob, without rights in team-a, can neither see nor delete it (403
# naming the rule), an operator with list rights can; `attach` and its
# Ctrl-C end it as an attached trace (END, maps); `delete` unloads every
# program (bpftool); a trace ends at its duration with nobody attached;
# detached traces count against maxConcurrentTraces; each request has its
# audit record.
source "$(dirname "$0")/lib.sh"
need_bpf "detached traces" || exit 0

# olive: an operator of team-a who may get, list and delete anyone's traces
TG_EXTRA_TOKENS=$(mktemp /tmp/tg-detach-tokens.XXXXXX)
OLIVE_TOKEN=tg-olive-detach-e2e-7d1f3a
cat >"$TG_EXTRA_TOKENS" <<EOF
- token: $OLIVE_TOKEN
  username: olive
  uid: 9d3c1f0e-011e-4e00-8000-0000000011e0
  groups: ["team-a-operators"]
  audiences: ["tracegate"]
EOF
TG_EXTRA_RBAC=$(mktemp -d /tmp/tg-detach-rbac.XXXXXX)
cat >"$TG_EXTRA_RBAC/olive.yaml" <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: trace-operator, namespace: team-a}
rules:
- apiGroups: ["tracegate.dev"]
  resources: ["traces", "traces/log"]
  verbs: ["get", "list", "delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: trace-operator, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: trace-operator}
subjects:
- {kind: Group, name: team-a-operators, apiGroup: rbac.authorization.k8s.io}
EOF
export TG_EXTRA_TOKENS TG_EXTRA_RBAC
stack_start || { tap_fail "detach: stack starts" "$(tail -5 "$TG_WORK"/*.log)"; exit 1; }
rm -f "$TG_EXTRA_TOKENS"
rm -rf "$TG_EXTRA_RBAC"
PTY=$TG_TOP/tests/e2e/pty-drive.py
W=$TG_WORK
olive() { local sub=$1; shift; kt alice "$sub" --token "$OLIVE_TOKEN" "$@"; }
nopen() { grep -c '^open$' "$1" 2>/dev/null || true; }

# Each open of the pod's marker prints "open" and counts in @opens; END prints.
PROG='tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$TG_MARK_A"'"/ { @opens[comm] = count(); printf("open\n"); } END { printf("END ran\n"); }'

# ---- run --detach: a name, the client gone ----------------------------------------------
kt alice run pod/web-a -n team-a -e "$PROG" --duration 300 --detach >"$W/created" 2>"$W/created.err"
rc=$?
ID=$(sed -n 's|^trace.tracegate.dev/\([0-9a-f-]*\) created$|\1|p' "$W/created")
check "run --detach prints trace.tracegate.dev/NAME created and exits 0 (rc=$rc: $(cat "$W/created" "$W/created.err"))" \
	bash -c "[ '$rc' = 0 ] && [ -n '$ID' ]"
if wait_for 60 bash -c "KUBECONFIG=$W/kubeconfig kubectl trace get --context alice -n team-a | grep -E '^$ID +pod/web-a +node-1 +Running +[0-9]+ +[0-9]+[smhd]\$'"; then
	tap_ok "the client is gone, the trace runs: get lists it Running"
else
	tap_fail "the client is gone, the trace runs: get lists it Running" \
		"$(kt alice get "$ID" -n team-a -o json 2>&1)" "$(tail -20 "$W/runner.log")"
fi
kt alice get -n team-a >"$W/get.txt" 2>&1
check "get's table has kubectl's columns ($(head -1 "$W/get.txt"))" \
	grep -Eq '^NAME +TARGET +NODES +STATE +EVENTS +AGE$' "$W/get.txt"
check "it prints with nobody attached: logs shows its output" \
	wait_for 60 bash -c "KUBECONFIG=$W/kubeconfig kubectl trace logs --context alice -n team-a $ID | grep -q '^open\$'"
PIDS_BEFORE=$(runner_prog_ids | tr '\n' ' ')
check "its programs are loaded on the runner ($PIDS_BEFORE)" test -n "$PIDS_BEFORE"

# ---- a gateway restart loses nothing ---------------------------------------------------
kt alice logs -n team-a "$ID" >"$W/logs1" 2>&1
n1=$(nopen "$W/logs1")
kill "$TG_GATEWAY_PID"
wait "$TG_GATEWAY_PID" 2>/dev/null
gateway_start || { tap_fail "the gateway restarts" "$(tail -5 "$W/gateway.log")"; exit 1; }
kt alice get "$ID" -n team-a -o json >"$W/get.json" 2>"$W/get.err"
check "after a gateway restart get still finds it, Running ($(json_get 'd["status"]["phase"]' <"$W/get.json" 2>/dev/null))" \
	bash -c "python3 -c 'import json,sys; d=json.load(open(\"$W/get.json\")); sys.exit(not (d[\"kind\"]==\"Trace\" and d[\"metadata\"][\"name\"]==\"$ID\" and d[\"status\"][\"phase\"]==\"Running\" and d[\"spec\"][\"target\"]==\"pod/web-a\" and d[\"metadata\"][\"creationTimestamp\"]))'"
wait_for 30 bash -c "[ \$(KUBECONFIG=$W/kubeconfig kubectl trace logs --context alice -n team-a $ID | grep -c '^open\$') -gt $n1 ]"
kt alice logs -n team-a "$ID" >"$W/logs2" 2>&1
n2=$(nopen "$W/logs2")
check "logs after the restart shows what it printed before and meanwhile ($n1 then $n2 lines)" \
	bash -c "[ $n1 -gt 0 ] && [ $n2 -gt $n1 ]"
kt alice logs -n team-a "$ID" --timestamps >"$W/logs-ts" 2>&1
check "logs --timestamps begins each line with the time the runner got it" \
	grep -Eq '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z open$' "$W/logs-ts"

# ---- bob may not, olive (list rights) may ----------------------------------------------------
kt bob get "$ID" -n team-a >"$W/bob.out" 2>"$W/bob.err"
rc=$?
check "bob cannot get alice's trace: 403 naming the rule, exit 3 (rc=$rc: $(head -c 300 "$W/bob.err"))" \
	bash -c "[ '$rc' = 3 ] && grep -q 'User \"bob\" cannot get resource \"traces\" in API group \"tracegate.dev\" in the namespace \"team-a\"' '$W/bob.err'"
kt bob get -n team-a >"$W/bob.list" 2>&1
check "bob's list of team-a does not show it" bash -c "! grep -q '$ID' '$W/bob.list'"
kt bob logs "$ID" -n team-a >/dev/null 2>"$W/bob.logs.err"
rc=$?
check "bob cannot read its log (rc=$rc)" bash -c "[ '$rc' = 3 ] && grep -q 'cannot get resource \"traces/log\"' '$W/bob.logs.err'"
kt bob delete "$ID" -n team-a >/dev/null 2>"$W/bob.del.err"
rc=$?
check "bob cannot delete it (rc=$rc)" bash -c "[ '$rc' = 3 ] && grep -q 'cannot delete resource \"traces\"' '$W/bob.del.err'"
check "and it still runs" bash -c "KUBECONFIG=$W/kubeconfig kubectl trace get --context alice -n team-a $ID | grep -q Running"
olive get -n team-a >"$W/olive.list" 2>&1
check "olive, with list rights in team-a, sees it" grep -q "^$ID " "$W/olive.list"
olive logs -n team-a "$ID" >"$W/olive.logs" 2>&1
check "olive reads its log" grep -q '^open$' "$W/olive.logs"

# ---- logs -f follows -----------------------------------------------------------------------
: >"$W/follow"
kt_bg alice logs -f -n team-a "$ID" >"$W/follow" 2>&1 &
fpid=$!
n0=$(nopen "$W/logs2")
check "logs -f goes on printing what it prints" \
	wait_for 30 bash -c "[ \$(grep -c '^open\$' '$W/follow') -gt $((n0 + 3)) ]"
kill "$fpid" 2>/dev/null
wait "$fpid" 2>/dev/null

# ---- delete: END runs, everything unloaded ------------------------------------------------
ids=$(runner_prog_ids | tr '\n' ' ')
olive delete -n team-a "$ID" >"$W/del.out" 2>&1
rc=$?
check "olive deletes it: trace.tracegate.dev \"NAME\" deleted (rc=$rc: $(cat "$W/del.out"))" \
	bash -c "[ '$rc' = 0 ] && grep -q 'trace.tracegate.dev \"$ID\" deleted' '$W/del.out'"
# shellcheck disable=SC2086
check "delete unloaded every program of the trace (bpftool: ids $ids gone)" wait_for 10 progs_gone $ids
check "no program of the runner is left" wait_for 10 no_progs_left
kt alice get "$ID" -n team-a >/dev/null 2>"$W/gone.err"
check "a deleted trace is gone: 404" grep -q 'not found' "$W/gone.err"

# ---- detached traces count against maxConcurrentTraces ------------------------------------
# the runners know what runs: the gateway counts there (a restart forgets nothing)
extra=()
rc=0
for _ in 1 2 3 4 5; do
	kt alice run pod/web-a -n team-a -e "$PROG" --duration 300 --detach >"$W/c.out" 2>"$W/c.err"
	rc=$?
	[ "$rc" = 0 ] || break
	extra+=("$(sed -n 's|^trace.tracegate.dev/\([0-9a-f-]*\) created$|\1|p' "$W/c.out")")
done
check "the detached start past maxConcurrentTraces.perUser is refused, exit 3, naming the limit (${#extra[@]} ran; rc=$rc: $(head -c 300 "$W/c.err"))" \
	bash -c "[ '$rc' = 3 ] && [ ${#extra[@]} -ge 1 ] && grep -q 'too many concurrent traces: user \"alice\" already runs ${#extra[@]}' '$W/c.err'"
for id in "${extra[@]}"; do
	kt alice delete -n team-a "$id" >/dev/null 2>&1
done
check "the extra traces deleted, nothing left loaded" wait_for 10 no_progs_left

# ---- attach, and its Ctrl-C ends it as an attached trace --------------------------------
kt alice run pod/web-a -n team-a -e "$PROG" --detach >"$W/created2" 2>"$W/created2.err"
ID2=$(sed -n 's|^trace.tracegate.dev/\([0-9a-f-]*\) created$|\1|p' "$W/created2")
check "without --duration it says it runs for the policy's maximum ($(cat "$W/created2.err"))" \
	grep -Eq "no --duration: it runs for the policy's maximum, [0-9]+ s" "$W/created2.err"
wait_for 60 bash -c "KUBECONFIG=$W/kubeconfig kubectl trace logs --context alice -n team-a $ID2 | grep -q '^open\$'"
rc=$(python3 "$PTY" "$W/attach" 'wait:open\r?\nopen\r?\n' 'key:\x03' exit:90 -- \
	kubectl trace attach --context alice -n team-a "$ID2" 2>"$W/pty.err")
check "attach, then Ctrl-C: END runs, the map is printed, exit 0 (rc=$rc)" \
	bash -c "[ '$rc' = 0 ] && grep -q 'END ran' '$W/attach' && grep -Eq '^@opens\\[cat\\]: [0-9]+' '$W/attach'"
check "the attached trace's Ctrl-C left nothing loaded" wait_for 10 no_progs_left

# ---- a detached trace ends at its duration, nobody attached -------------------------------
kt alice run pod/web-a -n team-a -e "$PROG" --duration 3 --detach >"$W/created3" 2>&1
ID3=$(sed -n 's|^trace.tracegate.dev/\([0-9a-f-]*\) created$|\1|p' "$W/created3")
check "it ends at its duration: Succeeded" \
	wait_for 120 bash -c "KUBECONFIG=$W/kubeconfig kubectl trace get --context alice -n team-a $ID3 | grep -q Succeeded"
kt alice logs -n team-a "$ID3" >"$W/logs3" 2>&1
check "its log keeps END's output and the map" \
	bash -c "grep -q 'END ran' '$W/logs3' && grep -Eq '^@opens\\[cat\\]: [0-9]+' '$W/logs3'"
check "nothing loaded after its end" wait_for 10 no_progs_left

# ---- every request audited ---------------------------------------------------------------
audit_py 'sorted(set((r["verb"], r["user"]["username"], r["annotations"]["authorization.k8s.io/decision"]) for r in recs if r["verb"] in ("list", "get", "delete")))' >"$W/audit"
check "each request has its audit record: lists, gets, deletes, bob's refusals ($(cat "$W/audit"))" \
	bash -c "grep -q \"('list', 'alice', 'allow')\" '$W/audit' && grep -q \"('get', 'bob', 'forbid')\" '$W/audit' && grep -q \"('delete', 'bob', 'forbid')\" '$W/audit' && grep -q \"('delete', 'olive', 'allow')\" '$W/audit' && grep -q \"('list', 'olive', 'allow')\" '$W/audit' && grep -q \"('get', 'alice', 'allow')\" '$W/audit'"
audit_py 'sorted(set((r["user"]["username"], r["annotations"]["authorization.k8s.io/decision"]) for r in recs if r["verb"] == "get" and r.get("objectRef", {}).get("subresource") == "log"))' >"$W/log-reads"
check "a log read is audited as get on traces/log ($(cat "$W/log-reads"))" \
	bash -c "grep -q \"('alice', 'allow')\" '$W/log-reads' && grep -q \"('bob', 'forbid')\" '$W/log-reads' && grep -q \"('olive', 'allow')\" '$W/log-reads'"
audit_py 'sum(1 for r in recs if r["verb"] == "create" and r["stage"] == "ResponseComplete" and r.get("responseStatus", {}).get("code") == 201)' >"$W/n201"
check "each detached start has its ResponseComplete with 201 ($(cat "$W/n201"))" \
	bash -c "[ \$(cat '$W/n201') -ge 3 ]"
