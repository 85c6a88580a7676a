#!/usr/bin/env bash
# `kubectl trace list [PATTERN] pod/NAME [-v]` (issue 11): the probes the
# caller's TracePolicy allows on the pod's node, in bpftrace 0.17's -l
# (-lv) format.  The node's runner lists what it offers (as
# `tracegate-runner exec -l` does); the gateway authorizes the request as
# a dry run on the pod, keeps the probes a policy of the caller allows,
# and audits it.  alice has only "restricted" (syscalls and sched
# tracepoints); bob also has "wide" (every tracepoint and software event
# but tracepoint:irq:softirq_*).
source "$(dirname "$0")/lib.sh"
need_bpf "kubectl trace list" || exit 0

POL=$(mktemp -d /tmp/tg-e2e-list-policies.XXXXXX)
cp "$TG_TOP/policy/presets/restricted.yaml" "$POL/"
cat >"$POL/wide.yaml" <<'YAML'
apiVersion: tracegate.dev/v1alpha1
kind: TracePolicy
metadata:
  name: wide
spec:
  subjects:
    groups: ["team-b-devs"]
    namespaces: ["team-b"]
  scope: [pod]
  probes:
    allow: ["tracepoint:*:*", "software:*", "kprobe:*"]
    deny: ["tracepoint:irq:softirq_*"]
YAML
export TG_POLICIES=$POL
stack_start || { tap_fail "list: stack starts" "$(tail -5 "$TG_WORK"/*.log)"; rm -rf "$POL"; exit 1; }
trap 'if [ "$BASHPID" = "$$" ]; then stack_stop; rm -rf "$POL"; fi' EXIT
out=$TG_WORK/out
err=$TG_WORK/err

# what the node offers, unfiltered: the runner's own listing
tracegate-runner exec -l >"$TG_WORK/node-all" 2>&1
check "the node lists irq tracepoints and software events (the filter has something to remove)" \
	bash -c "grep -qx 'tracepoint:irq:irq_handler_entry' '$TG_WORK/node-all' &&
		grep -qx 'software:cpu-clock:' '$TG_WORK/node-all' && grep -qx 'tracepoint:irq:softirq_entry' '$TG_WORK/node-all'"

# 1. alice, restricted: syscalls and sched, nothing else
kt alice list pod/web-a -n team-a >"$out" 2>"$err"
rc=$?
check "alice: list exits 0 and lists syscall and sched tracepoints (rc=$rc)" \
	bash -c "[ '$rc' = 0 ] && grep -qx 'tracepoint:syscalls:sys_enter_openat' '$out' &&
		grep -qx 'tracepoint:sched:sched_process_exit' '$out'"
others=$(grep -cv -e '^tracepoint:syscalls:' -e '^tracepoint:sched:' "$out")
check "alice: no probe restricted forbids (irq, software events, kprobes): $others others" \
	bash -c "[ '$others' = 0 ] && ! grep -q -e '^tracepoint:irq:' -e '^software:' -e '^kprobe:' '$out'"
want=$(grep -c -e '^tracepoint:syscalls:' -e '^tracepoint:sched:' "$TG_WORK/node-all")
got=$(wc -l <"$out")
check "alice: every syscall and sched tracepoint of the node, sorted as bpftrace ($got of $want)" \
	bash -c "[ '$got' = '$want' ] && LC_ALL=C sort -c '$out'"
kt alice list 'kprobe:*' pod/web-a -n team-a >"$out" 2>"$err"
rc=$?
check "alice: a kprobe pattern lists nothing, and says so (rc=$rc)" \
	bash -c "[ '$rc' = 0 ] && [ ! -s '$out' ] && grep -q 'no probe matching \"kprobe:\*\" is allowed by your TracePolicy' '$err'"
kt alice list 'tracepoint:irq:*' pod/web-a -n team-a >"$out" 2>"$err"
check "alice: irq tracepoints (on the node, not in restricted) are not listed" test ! -s "$out"

# 2. a pattern, and -v as bpftrace -lv: the same text as the node's exec -lv
P='tracepoint:syscalls:sys_enter_open*'
kt alice list "$P" pod/web-a -n team-a -v >"$out" 2>"$err"
rc=$?
tracegate-runner exec -lv "$P" >"$TG_WORK/node-lv" 2>&1
check "alice: list PATTERN -v prints what exec -lv prints, fields and all (rc=$rc)" \
	bash -c "[ '$rc' = 0 ] && grep -qx '    const char \* filename' '$out' && diff '$TG_WORK/node-lv' '$out' >&2"
kt alice list '*sched_switch*' pod/web-a -n team-a >"$out" 2>"$err"
check "alice: a pattern is matched against whole names, as bpftrace (*sched_switch*)" \
	bash -c "[ \"\$(cat '$out')\" = 'tracepoint:sched:sched_switch' ]"
kt alice list 'tracepoint:sched:sched_switch' pod/web-a -n team-a -o json >"$out" 2>"$err"
got=$(json_get '(d["kind"], d["target"], d["node"], [i["name"] for i in d["items"]], d["truncated"])' <"$out" 2>&1)
check "alice: -o json is the ProbeList ($got)" \
	test "$got" = "('ProbeList', 'pod/web-a', 'node-1', ['tracepoint:sched:sched_switch'], False)"

# 3. bob: restricted and wide, so irq and software too, minus wide's deny
kt bob list pod/web-b -n team-b >"$out" 2>"$err"
rc=$?
check "bob: his policies' union: irq, software and sched tracepoints (rc=$rc)" \
	bash -c "[ '$rc' = 0 ] && grep -qx 'tracepoint:irq:irq_handler_entry' '$out' &&
		grep -qx 'software:cpu-clock:' '$out' && grep -qx 'tracepoint:sched:sched_switch' '$out'"
check "bob: not what wide denies and restricted does not allow (tracepoint:irq:softirq_*)" \
	bash -c "! grep -q '^tracepoint:irq:softirq_' '$out'"

# 4. authorization: as a dry run on the pod
kt bob list pod/web-a -n team-a >"$out" 2>"$err"
rc=$?
check "bob on team-a's pod: forbidden by RBAC, exit 3 (rc=$rc)" \
	bash -c "[ '$rc' = 3 ] && grep -q 'bob' '$err' && grep -q 'forbidden\|Forbidden\|may not' '$err'"
kt alice list pod/nosuch -n team-a >"$out" 2>"$err"
rc=$?
check "a pod that does not exist: not found (rc=$rc)" grep -q 'pods "nosuch" not found' "$err"

# 5. bad input: a clear error naming what was wrong
kt alice list 'tracepoint:sched:sched_[sw]*' pod/web-a -n team-a >"$out" 2>"$err"
rc=$?
check "a pattern with brackets: usage error naming the pattern and the allowed characters (rc=$rc)" \
	bash -c "[ '$rc' = 2 ] && grep -q 'pattern \"tracepoint:sched:sched_\[sw\]\*\": only letters, digits and _ - . : \* ?' '$err'"
kt alice list deployment/web -n team-a >"$out" 2>"$err"
rc=$?
check "a workload target: usage error, probes are per pod's node (rc=$rc)" \
	bash -c "[ '$rc' = 2 ] && grep -q \"probes are listed for a pod's node\" '$err'"
TOK=$(fixture_token alice)
code=$(curl -s -o "$out" -w '%{http_code}' --cacert "$TG_CERTS/ca.crt" -H "Authorization: Bearer $TOK" \
	"$TG_GATEWAY/apis/tracegate.dev/v1alpha1/namespaces/team-a/probes?target=pod%2Fweb-a&pattern=a%7Cb")
check "the gateway refuses a bad pattern itself: 400 naming it ($code)" \
	bash -c "[ '$code' = 400 ] && grep -q 'pattern: only letters' '$out'"
code=$(curl -s -o "$out" -w '%{http_code}' --cacert "$TG_CERTS/ca.crt" -H "Authorization: Bearer $TOK" \
	"$TG_GATEWAY/apis/tracegate.dev/v1alpha1/namespaces/team-a/probes?pattern=x")
check "and a missing target: 400 ($code)" bash -c "[ '$code' = 400 ] && grep -q 'target: required' '$out'"

# 5b. the runner lists at most 8 a second (each listing runs in its
# serving loop): a burst of direct requests gets 429s beyond that, which
# the gateway passes on naming the limit
codes=$(for i in $(seq 1 20); do curl -s -o /dev/null -w '%{http_code}\n' --cacert "$TG_CERTS/ca.crt" \
	--cert "$TG_CERTS/gateway-client.crt" --key "$TG_CERTS/gateway-client.key" \
	"$TG_RUNNER_URL/v1/probes?pattern=tracepoint:sched:*" & done; wait)
n429=$(grep -c '^429$' <<<"$codes"); n200=$(grep -c '^200$' <<<"$codes")
check "a burst of 20 listings at the runner: at most 8 a second answered, the rest 429 ($n200 x 200, $n429 x 429)" \
	bash -c "[ $n429 -ge 1 ] && [ $((n200 + n429)) = 20 ]"
# the next second the runner lists again
wait_for 10 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --cacert '$TG_CERTS/ca.crt' \
	--cert '$TG_CERTS/gateway-client.crt' --key '$TG_CERTS/gateway-client.key' \
	'$TG_RUNNER_URL/v1/probes?pattern=tracepoint:sched:*')\" = 200 ]"

# 6. audited: verb list on probes, the node, how many
got=$(audit_py '[(r["verb"], r["objectRef"]["resource"], r["objectRef"]["name"], r["responseStatus"]["code"], r["tracegate"].get("pattern"), r["tracegate"].get("nodes"), r["annotations"]["authorization.k8s.io/reason"].split(" ")[1:3]) for r in recs if r["objectRef"].get("resource") == "probes" and r["stage"] == "ResponseComplete"][1]')
check "audited: list probes of web-a, 200, the pattern and node ($got)" \
	test "$got" = "('list', 'probes', 'web-a', 200, 'kprobe:*', ['node-1'], ['probes', 'listed'])"

# 7. the runner's own endpoint, as the gateway calls it: the pattern is checked there too
GWC=(--cacert "$TG_CERTS/ca.crt" --cert "$TG_CERTS/gateway-client.crt" --key "$TG_CERTS/gateway-client.key")
code=$(curl -s -o "$out" -w '%{http_code}' "${GWC[@]}" "$TG_RUNNER_URL/v1/probes?pattern=*sched_switch*")
check "runner GET /v1/probes: exec -l's listing, text/plain ($code)" \
	bash -c "[ '$code' = 200 ] && [ \"\$(cat '$out')\" = 'tracepoint:sched:sched_switch' ]"
code=$(curl -s -o "$out" -w '%{http_code}' "${GWC[@]}" "$TG_RUNNER_URL/v1/probes?pattern=a%25b")
check "runner: a pattern with other characters is a 400 naming it ($code)" \
	bash -c "[ '$code' = 400 ] && grep -q 'pattern: only letters' '$out'"
code=$(curl -s -o "$out" -w '%{http_code}' "${GWC[@]}" -X POST --data-binary '' "$TG_RUNNER_URL/v1/probes")
check "runner: /v1/probes is GET only ($code)" test "$code" = 405
