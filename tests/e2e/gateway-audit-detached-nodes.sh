#!/usr/bin/env bash
# A detached trace across two nodes (deployment/web: web-a on node-1,
# web-a2 on node-2) ends on both runners: each node's end is one audit
# record of the create's Audit-ID with that node's own counts (issue 8),
# and `tracegate audit query` shows the trace as one row with their sum.
source "$(dirname "$0")/lib.sh"
need_bpf "detached ends on two nodes" || exit 0

workload_stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts (runners for node-1 and node-2, gateway, pods)"
W=$TG_WORK
# each pod opens its marker file over and over ($TG_WORK/marker-POD)
PROG='tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$W/marker-web-a"'" || str(args->filename) == "'"$W/marker-web-a2"'"/ { printf("open\n"); }'

kt alice run deployment/web -n team-a -e "$PROG" --duration 3 --detach >"$W/created" 2>"$W/created.err"
ID=$(sed -n 's|^trace.tracegate.dev/\([0-9a-f-]*\) created$|\1|p' "$W/created")
check "a detached trace of deployment/web starts (${ID:-no id}: $(cat "$W/created.err"))" test -n "$ID"
nends() { audit_py 'sum(1 for r in recs if r.get("tracegate", {}).get("detachedEnd") and r["tracegate"].get("trace") == "'"$ID"'")'; }
both_ended() { [ "$(nends)" -ge 2 ]; }
check "both nodes' ends reach the audit log (60 s)" wait_for 60 both_ended
# each node's session logs its own counts: "session ID ... events=N drops=M"
node_counts() { sed -n "s/.*session $ID .*outcome=\([a-z-]*\) events=\([0-9]*\) drops=\([0-9]*\).*/\2 \3/p" "$W/runner-$1.log" | tail -1; }
total=0
for node in node-1 node-2; do
	read -r ev dr < <(node_counts "$node")
	got=$(audit_py '[(r["tracegate"]["endReason"], r["tracegate"]["events"], r["tracegate"]["drops"], r["tracegate"]["nodes"]) for r in recs if r.get("tracegate", {}).get("detachedEnd") and r["tracegate"].get("trace") == "'"$ID"'" and r["tracegate"]["node"] == "'"$node"'"]')
	check "$node: one end record, duration, that runner's counts ($ev events, $dr drops): $got" \
		test "$got" = "[('duration', ${ev:--1}, ${dr:--1}, ['$node'])]"
	total=$((total + ${ev:-0}))
done
check "both nodes counted events ($total)" test "$total" -gt 0
ids=$(audit_py 'sorted(set(r["auditID"] for r in recs if r.get("tracegate", {}).get("trace") == "'"$ID"'"))')
check "every record of the trace has the create's one auditID ($ids)" bash -c "[ \$(grep -o \"'\" <<<\"\$0\" | wc -l) = 2 ]" "$ids"
row=$(tracegate audit query "$TG_AUDIT" --user alice 2>&1 | grep "deployment/web" | grep -c " $total\$" || true)
check "audit query: one row for the trace, EVENTS the sum of both nodes ($total)" test "$row" = 1
check "tracegate audit verify passes" tracegate audit verify "$TG_AUDIT"
