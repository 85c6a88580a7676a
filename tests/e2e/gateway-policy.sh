#!/usr/bin/env bash
# TracePolicy through the gateway: every field of a policy takes effect on
# real requests (kubectl trace check = ?dryRun=All, and real runs), the
# denial names construct, line, column, rule and the policies tried, the
# dry run agrees with `tracegate policy check`, and the policy directory
# (laid out as a mounted ConfigMap: files are symlinks into ..data, which
# an update swaps) is reloaded while a trace runs without disturbing it.
source "$(dirname "$0")/lib.sh"
need_bpf "gateway policy" || exit 0

# ---- a ServiceAccount tenant: kubesim with one more token and binding -----
TG_WITH_DEBUGGER_SA=1
SA_TOKEN=$TG_DEBUGGER_TOKEN

# ---- the policy directory, as the kubelet writes a ConfigMap ---------------
CM=$(mktemp -d /tmp/tg-e2e-policies.XXXXXX)
cm_gen=0
# cm_set NAME=TEXT...: the whole ConfigMap's new content, swapped in at once
cm_set() {
	cm_gen=$((cm_gen + 1))
	local ts="..2026_11_24_00_00_$(printf '%02d' $cm_gen).000000001" kv k old
	mkdir "$CM/$ts"
	for kv in "$@"; do
		k=${kv%%=*}
		printf '%s\n' "${kv#*=}" >"$CM/$ts/$k"
	done
	old=$(readlink "$CM/..data" 2>/dev/null)
	ln -s "$ts" "$CM/..data_tmp"
	mv -T "$CM/..data_tmp" "$CM/..data"
	# the visible names: symlinks into ..data, made once per key and left
	# alone after (as kubelet's AtomicWriter): removing them all and
	# making them again showed the gateway a directory without its
	# policies when it read between the two (an empty set, in force)
	for f in "$CM"/*; do
		[ -L "$f" ] && [ ! -e "$CM/$ts/${f##*/}" ] && rm -f "$f"
	done
	for kv in "$@"; do
		k=${kv%%=*}
		[ -L "$CM/$k" ] || ln -s "..data/$k" "$CM/$k"
	done
	[ -n "$old" ] && rm -rf "${CM:?}/$old"
}
reloads() { grep -c 'reloaded: ' "$TG_WORK/gateway.log" 2>/dev/null; }
reloaded_since() { [ "$(reloads)" -gt "$1" ]; }
reload_failures() { grep -c 'reload failed' "$TG_WORK/gateway.log" 2>/dev/null; }
failed_since() { [ "$(reload_failures)" -gt "$1" ]; }
# apply NAME=TEXT...: swap in and wait until the gateway has reloaded
apply() {
	local before
	before=$(reloads)
	cm_set "$@"
	wait_for 5 reloaded_since "$before" ||
		tap_fail "the gateway reloads the changed policies" "$(tail -3 "$TG_WORK/gateway.log")"
}

# pol NAME SPEC-LINES: a TracePolicy document (SPEC-LINES indented by 2)
pol() {
	printf 'apiVersion: tracegate.dev/v1alpha1\nkind: TracePolicy\nmetadata:\n  name: %s\nspec:\n' "$1"
	printf '%s\n' "$2" | sed 's/^/  /'
}
OPEN_ALL='probes: {allow: ["tracepoint:syscalls:*", BEGIN, END, "uprobe:*:*"]}
builtins: {allow: ["*"]}
functions: {allow: ["*"]}'

cm_set "tenant.yaml=$(pol tenant "subjects: {groups: [team-a-devs]}
scope: [pod]
$OPEN_ALL
userMemory: syscallArgs")"
export TG_POLICIES=$CM
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
trap 'if [ "$BASHPID" = "$$" ]; then stack_stop; rm -rf "$CM"; fi' EXIT
tap_ok "stack starts with the policy directory laid out as a ConfigMap"

out=$TG_WORK/out
err=$TG_WORK/err
OPENAT='tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); }'

# kcheck USER NS POD PROG [ARGS]: kubectl trace check; rc in $rc
kcheck() {
	local u=$1 ns=$2 pod=$3 prog=$4
	shift 4
	if [ "$u" = debugger ]; then
		timeout 20 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace check --context alice --token "$1" "$2" -n "$3" -e "$4"' \
			"$TG_WORK" "$SA_TOKEN" "pod/$pod" "$ns" "$prog" >"$out" 2>"$err"
	else
		timeout 20 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace check --context "$1" "$2" -n "$3" -e "$4"' \
			"$TG_WORK" "$u" "pod/$pod" "$ns" "$prog" >"$out" 2>"$err"
	fi
	rc=$?
}
# allowed NAME USER NS POD PROG [POLICY]: the check answers allowed (by POLICY)
allowed() {
	local name=$1 pol=${6:-}
	kcheck "$2" "$3" "$4" "$5"
	if [ $rc -eq 0 ] && grep -q '^allowed' "$out" && { [ -z "$pol" ] || grep -q "policy: $pol\$" "$out"; }; then
		tap_ok "$name"
	else
		tap_fail "$name" "rc=$rc" "$(cat "$out" "$err")"
	fi
}
# denied NAME USER NS POD PROG REGEX...: denied, and stderr matches each REGEX
denied() {
	local name=$1 re bad=
	kcheck "$2" "$3" "$4" "$5"
	shift 5
	# exit status 3: refused (docs/kubectl-trace.md)
	if [ $rc -ne 3 ] || ! grep -q '^denied' "$out" || ! grep -q 'Forbidden' "$err"; then
		bad="not denied (rc=$rc)"
	fi
	for re in "$@"; do
		grep -qE -- "$re" "$err" || bad="$bad; no match for /$re/"
	done
	if [ -z "$bad" ]; then tap_ok "$name"; else tap_fail "$name" "$bad" "$(cat "$out" "$err")"; fi
}

# ---- subjects ---------------------------------------------------------------
allowed "subjects.groups: a member of team-a-devs is allowed" alice team-a web-a "$OPENAT" tenant
denied "subjects.groups: bob (team-b-devs) is not covered: no policy applies" bob team-b web-b "$OPENAT" \
	'no TracePolicy applies to user "bob"' 'policies tried: none'
denied "subjects.serviceAccounts: not listed, the ServiceAccount is refused" debugger team-a web-a "$OPENAT" \
	'no TracePolicy applies to user "system:serviceaccount:team-a:debugger"'

apply "tenant.yaml=$(pol tenant "subjects: {users: [bob], serviceAccounts: [team-a/debugger]}
scope: [pod]
$OPEN_ALL
userMemory: syscallArgs")"
allowed "subjects.users: bob by name is allowed" bob team-b web-b "$OPENAT" tenant
allowed "subjects.serviceAccounts: team-a/debugger is allowed" debugger team-a web-a "$OPENAT" tenant
denied "subjects: alice (neither user, group nor service account) is refused" alice team-a web-a "$OPENAT" \
	'no TracePolicy applies'

apply "tenant.yaml=$(pol tenant "subjects: {groups: [team-a-devs, team-b-devs], namespaces: [team-b]}
scope: [pod]
$OPEN_ALL
userMemory: syscallArgs")"
allowed "subjects.namespaces: bob in team-b is allowed" bob team-b web-b "$OPENAT" tenant
denied "subjects.namespaces: alice in team-a is outside the policy's namespaces" alice team-a web-a "$OPENAT" \
	'no TracePolicy applies to user "alice".* in namespace "team-a"'

# ---- scope ------------------------------------------------------------------
apply "tenant.yaml=$(pol tenant "subjects: {groups: [team-a-devs]}
scope: [node]
$OPEN_ALL")"
denied "scope: a node-only policy refuses a pod trace, naming the rule" alice team-a web-a "$OPENAT" \
	'rule scope' 'policies tried: "tenant"'

# ---- probes, builtins, functions, memory: one policy, line and column -------
apply "tenant.yaml=$(pol tenant 'subjects: {groups: [team-a-devs]}
scope: [pod]
probes:
  allow: ["tracepoint:syscalls:*", BEGIN]
  deny: ["tracepoint:syscalls:sys_enter_kill"]
builtins:
  allow: [comm, pid, args, arg0]
  deny: [pid]
functions:
  allow: [printf, str, count, exit]
  deny: [exit]
kernelMemory: false
userMemory: none')" "other.yaml=$(pol zz-other 'subjects: {groups: [team-a-devs]}
scope: [pod]
probes: {allow: [BEGIN]}
builtins: {allow: [comm]}
functions: {allow: [printf]}')"
allowed "probes.allow: a syscall tracepoint is allowed" alice team-a web-a \
	'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }' tenant
allowed "two policies: the first by name that allows is the one in force" alice team-a web-a \
	'BEGIN { printf("%s\n", "hi"); }' tenant
denied "probes.deny: sys_enter_kill is refused at 1:1" alice team-a web-a \
	'tracepoint:syscalls:sys_enter_kill { @[comm] = count(); }' \
	'program:1:1: ERROR: probe "tracepoint:syscalls:sys_enter_kill" .*\[policy "tenant", rule probes.deny\]' \
	'policies tried: "tenant", "zz-other"'
denied "probes.allow: a sched tracepoint is not allowed" alice team-a web-a \
	'tracepoint:sched:sched_switch { @[comm] = count(); }' \
	'program:1:1: .*sched_switch.*rule probes.allow\]'
PROG2=$'tracepoint:syscalls:sys_enter_openat {\n  printf("%d\\n", pid);\n}'
denied "builtins.deny: pid on line 2 is refused at its column" alice team-a web-a "$PROG2" \
	'program:2:[0-9]+: ERROR: builtin "pid" matches builtins.deny.*rule builtins.deny\]'
denied "builtins.allow: nsecs is not allowed" alice team-a web-a \
	'tracepoint:syscalls:sys_enter_openat { @[nsecs] = count(); }' 'rule builtins.allow\]'
denied "functions.allow: hist is not allowed" alice team-a web-a \
	'tracepoint:syscalls:sys_enter_openat { @ = hist(arg0); }' 'function "hist".*rule functions.allow\]'
denied "functions.deny: exit is refused" alice team-a web-a \
	'tracepoint:syscalls:sys_enter_openat { exit(); }' 'rule functions.deny\]'
denied "userMemory none: str(args->filename) is refused" alice team-a web-a \
	'tracepoint:syscalls:sys_enter_openat { printf("%s\n", str(args->filename)); }' 'rule userMemory\]'
denied "kernelMemory false: a dereference is refused" alice team-a web-a \
	'tracepoint:syscalls:sys_enter_openat { printf("%d\n", *(arg0)); }' 'rule kernelMemory\]'

apply "tenant.yaml=$(pol tenant "subjects: {groups: [team-a-devs]}
scope: [pod]
$OPEN_ALL
kernelMemory: true
userMemory: syscallArgs")"
allowed "userMemory syscallArgs: str(args->filename) is allowed" alice team-a web-a "$OPENAT" tenant
denied "userMemory syscallArgs: str() in a uprobe is refused" alice team-a web-a \
	'uprobe:/bin/bash:readline { printf("%s\n", str(arg0)); }' 'rule userMemory\]'
# (a program that can run: check compiles it on the node, and *(arg0)
# does not exist in a tracepoint)
allowed "kernelMemory true: a dereference is allowed" alice team-a web-a \
	'tracepoint:syscalls:sys_enter_openat { printf("%d\n", ((struct task_struct *)curtask)->pid); }' tenant
apply "tenant.yaml=$(pol tenant "subjects: {groups: [team-a-devs]}
scope: [pod]
$OPEN_ALL
userMemory: all")"
allowed "userMemory all: str() in a uprobe is allowed" alice team-a web-a \
	'uprobe:/bin/bash:readline { printf("%s\n", str(arg0)); }' tenant

# ---- the dry run gives the same answer as tracegate policy check ------------
apply "tenant.yaml=$(pol tenant 'subjects: {groups: [team-a-devs]}
scope: [pod]
probes: {allow: ["tracepoint:syscalls:*"], deny: ["tracepoint:syscalls:sys_enter_kill"]}
builtins: {allow: [comm, args], deny: [pid]}
functions: {allow: [printf, count, str]}
userMemory: syscallArgs')" "other.yaml=$(pol zz-other 'subjects: {groups: [team-a-devs]}
scope: [pod]
probes: {allow: [BEGIN]}
builtins: {allow: [comm]}
functions: {allow: [printf]}')"
same=0 progs=0
while IFS= read -r prog; do
	progs=$((progs + 1))
	kcheck alice team-a web-a "$prog"
	gw=$( { grep -q '^allowed' "$out" && sed -n 's/^  policy: /allowed by policy /p' "$out"; } ||
		sed -n 's/^program:\([0-9]*:[0-9]*\): ERROR: /  \1: /p; s/^  program: /  /p' "$err" | sort)
	pc=$(tracegate policy check --policies "$CM" --user alice --group team-a-devs \
		--group system:authenticated --namespace team-a -e "$prog" 2>&1 |
		{ read -r first; case $first in allowed*) echo "$first" | sed 's/"//g; s/policy /policy /' ;; *) grep '^  ' | sort ;; esac; })
	gw=$(tr -d '"' <<<"$gw")
	pc=$(tr -d '"' <<<"$pc")
	if [ "$gw" = "$pc" ] && [ -n "$gw" ]; then
		same=$((same + 1))
	else
		tap_fail "dry run = policy check for: $prog" "gateway: $gw" "policy check: $pc"
	fi
done <<'EOF'
tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); }
BEGIN { printf("%s\n", comm); }
tracepoint:syscalls:sys_enter_kill { @[pid] = count(); }
tracepoint:sched:sched_switch { @[comm] = hist(1); exit(); }
interval:s:1 { printf("%d\n", nsecs); }
EOF
check "the dry run gives the same decision, policy and denials as tracegate policy check ($same of $progs)" \
	test "$same" -eq "$progs"
kcheck alice team-a web-a "$OPENAT"
check "the dry run names the allowing policy's limits" grep -q 'limits: maxDuration 60s' "$out"
dry=$(audit_py '[r["tracegate"].get("dryRun") for r in recs if r["stage"] == "ResponseComplete"][-1]')
check "the dry run is audited as one (dryRun)" test "$dry" = True
check "a dry run loads nothing" test "$(our_progs)" -eq 0

# ---- reload while a trace runs ---------------------------------------------
apply "tenant.yaml=$(pol tenant "subjects: {groups: [team-a-devs]}
scope: [pod]
$OPEN_ALL
userMemory: syscallArgs")"
run_out=$TG_WORK/run.out
: >"$run_out"
kt_bg alice run pod/web-a -n team-a --duration 7 -e "$OPENAT" >"$run_out" 2>"$TG_WORK/run.err" &
ktpid=$!
if ! wait_for 8 grep -q marker-team-a-web-a "$run_out"; then
	tap_fail "the trace streams before the reload" "$(cat "$TG_WORK/run.err")"
fi
# the new policy no longer allows openat (only BEGIN): new requests see it
apply "tenant.yaml=$(pol tenant 'subjects: {groups: [team-a-devs]}
scope: [pod]
probes: {allow: [BEGIN]}
builtins: {allow: [comm]}
functions: {allow: [printf]}')"
check "the gateway logged the reload" grep -q 'reloaded: 1 policy ("tenant")' "$TG_WORK/gateway.log"
n1=$(grep -c marker-team-a-web-a "$run_out")
denied "after the reload a new request sees the new policy" alice team-a web-a "$OPENAT" 'rule probes.allow\]'
sleep 1.5
n2=$(grep -c marker-team-a-web-a "$run_out")
check "the running trace continues after the reload ($n1 then $n2 lines)" test "$n2" -gt "$n1"
# a broken document: logged with file:line:column, the previous set stays
before=$(reload_failures)
cm_set "tenant.yaml=$(pol tenant 'subjects: {groups: [team-a-devs]}
scope: [pod]
probes: {allow: [BEGIN]}
kernelMemroy: false')"
if wait_for 5 failed_since "$before"; then
	line=$(grep 'reload failed' "$TG_WORK/gateway.log" | tail -1)
	if grep -qE 'tenant\.yaml:9:3: spec: unknown field "kernelMemroy"' <<<"$line" &&
		grep -q 'stays in force' <<<"$line"; then
		tap_ok "a broken document is logged with file:line:column and the previous set stays"
	else
		tap_fail "a broken document is logged with file:line:column and the previous set stays" "$line"
	fi
else
	tap_fail "a broken document is logged with file:line:column and the previous set stays" \
		"$(tail -3 "$TG_WORK/gateway.log")"
fi
allowed "with the broken document, the previous set is in force (BEGIN allowed)" alice team-a web-a \
	'BEGIN { printf("%s\n", "hi"); }' tenant
denied "with the broken document, the previous set is in force (openat denied)" alice team-a web-a \
	"$OPENAT" 'rule probes.allow\]'
wait "$ktpid"
rc=$?
check "the trace that ran across two reloads ends normally (exit 0)" test "$rc" -eq 0
n3=$(grep -c marker-team-a-web-a "$run_out")
check "it kept streaming to its end ($n3 lines)" test "$n3" -gt "$n2"
ends=$(audit_py '[r["tracegate"]["endReason"] for r in recs if r["stage"] == "ResponseComplete" and not r["tracegate"].get("dryRun")]')
check "its ResponseComplete record ends with reason duration" grep -q "'duration'" <<<"$ends"
# a real run is refused by the new policy, with the same words
kt alice run pod/web-a -n team-a -e "$OPENAT" >"$out" 2>"$err"
rc=$?
if [ $rc -ne 0 ] && grep -q 'program:1:1: ERROR: probe "tracepoint:syscalls:sys_enter_openat".*rule probes.allow' "$err" &&
	grep -q 'policies tried: "tenant"' "$err"; then
	tap_ok "a run denied by policy: construct, line:column, rule, policies tried"
else
	tap_fail "a run denied by policy: construct, line:column, rule, policies tried" "$(cat "$err")"
fi
causes=$(grep -c '^program:[0-9]*:[0-9]*: ERROR: ' "$err")
rec=$(audit_py '[(r["tracegate"].get("policiesTried"), len(r["tracegate"].get("reasons", []))) for r in recs if r["stage"] == "ResponseStarted" and r["responseStatus"]["code"] == 403][-1]')
check "the denial's audit record lists the policies tried and every reason ($rec, $causes causes)" \
	test "$rec" = "(['tenant'], $causes)"
pol_rec=$(audit_py '[r["tracegate"].get("policy") for r in recs if r["stage"] == "ResponseStarted" and r["annotations"]["authorization.k8s.io/decision"] == "allow"][-1]')
check "an allowed request's record names the policy that allowed it ($pol_rec)" test "$pol_rec" = tenant
check "tracegate audit verify passes" tracegate audit verify "$TG_AUDIT"
