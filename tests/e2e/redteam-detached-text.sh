#!/usr/bin/env bash
# A hostile tenant's text in a detached trace, read back by someone else:
# alice's program carries terminal controls (ESC, C1 CSI U+009B, DEL,
# a bidi override) in its string literals and its printf output, and a
# long literal; olive, an operator of team-a with list rights, and alice
# herself run `get` (table, -o json, -o yaml) and `logs`.  What the
# server sends of the Trace (its program, the names) reaches no terminal
# raw: the table cleans each cell, -o json and -o yaml escape as \uXXXX;
# `logs` on a terminal cleans the program's output (it may be another
# user's), into a file it keeps the program's bytes.
# A run on alice's own terminal cleans bytes that come from her pod
# (a hostile file name there), too.
source "$(dirname "$0")/lib.sh"
need_bpf "hostile text in a detached trace" || exit 0

TG_EXTRA_TOKENS=$(mktemp /tmp/tg-rtdt-tokens.XXXXXX)
OLIVE_TOKEN=tg-olive-rtdt-e2e-5a7c21
cat >"$TG_EXTRA_TOKENS" <<EOF
- token: $OLIVE_TOKEN
  username: olive
  uid: 9d3c1f0e-011e-4e00-8000-0000000011e1
  groups: ["team-a-operators"]
  audiences: ["tracegate"]
EOF
TG_EXTRA_RBAC=$(mktemp -d /tmp/tg-rtdt-rbac.XXXXXX)
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
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log)"; exit 1; }
rm -f "$TG_EXTRA_TOKENS"
rm -rf "$TG_EXTRA_RBAC"
W=$TG_WORK
alice() { local sub=$1; shift; kt alice "$sub" "$@"; }
olive() { local sub=$1; shift; kt alice "$sub" --token "$OLIVE_TOKEN" "$@"; }
PTY=$TG_TOP/tests/e2e/pty-drive.py

# no byte a terminal acts on: C0 but newline and tab, DEL, C1 as UTF-8 or
# raw, bidi embeddings, overrides and isolates (U+202A..E, U+2066..9)
raw_free() {
	python3 - "$1" <<'EOF'
import re, sys
b = open(sys.argv[1], "rb").read()
bad = re.search(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]", b)
if bad:
    print("raw control at %d: %r" % (bad.start(), b[max(0, bad.start() - 20):bad.end() + 20]))
sys.exit(1 if bad else 0)
EOF
}

LONG=$(head -c 200 /dev/zero | tr '\0' A)
PROG=$'BEGIN { printf("\\x1b]0;pwned\\x07\\x1b[2J\xc2\x9b31m\xe2\x80\xaeevil\\x7f\\n"); } tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$TG_MARK_A"$'"/ { @["\xc2\x9b\\x1b[31m'"$LONG"$'"] = count(); printf("\\x1b[2J\xc2\x9bopen\\n"); }'
kt alice run pod/web-a -n team-a -e "$PROG" --duration 120 --detach >"$W/created" 2>"$W/created.err"
rc=$?
ID=$(sed -n 's|^trace.tracegate.dev/\([0-9a-f-]*\) created$|\1|p' "$W/created")
check "alice starts the hostile detached trace (rc=$rc: $(head -c 300 "$W/created.err"))" test -n "$ID"
check "what run --detach printed is clean" raw_free "$W/created"
wait_for 60 bash -c "KUBECONFIG=$W/kubeconfig kubectl trace logs --context alice -n team-a $ID 2>/dev/null | grep -q open"

for who in alice olive; do
	f=$W/$who
	$who get -n team-a >"$f.table" 2>&1
	check "$who: get's table lists it" grep -q "$ID" "$f.table"
	check "$who: get's table is clean" raw_free "$f.table"
	$who get "$ID" -n team-a -o json >"$f.json" 2>"$f.json.err"
	check "$who: get -o json carries the program, as JSON" \
		python3 -c "import json,sys; d=json.load(open('$f.json')); sys.exit('pwned' not in d['spec']['program'] or '\u009b' not in d['spec']['program'])"
	check "$who: get -o json is clean" raw_free "$f.json"
	$who get -n team-a -o yaml >"$f.yaml" 2>"$f.yaml.err"
	check "$who: get -o yaml (the list) is clean" raw_free "$f.yaml"
	check "$who: get -o yaml reads back to the same program" python3 - "$f.yaml" "$f.json" <<'EOF'
import json, sys, yaml
y = yaml.safe_load(open(sys.argv[1]))
j = json.load(open(sys.argv[2]))
sys.exit(y["items"][0]["spec"]["program"] != j["spec"]["program"])
EOF
	$who logs -n team-a "$ID" >"$f.logs" 2>"$f.logs.err"
	check "$who: logs' stderr is clean" raw_free "$f.logs.err"
	check "$who: logs into a file keeps the program's bytes" grep -qF $'\x1b]0;pwned' "$f.logs"
	# on a terminal (a pty: its newlines are \r\n)
	tok=()
	[ "$who" = olive ] && tok=(--token "$OLIVE_TOKEN")
	rc=$(KUBECONFIG=$W/kubeconfig python3 "$PTY" "$f.tty" 'wait:open' exit:60 -- \
		kubectl trace logs --context alice "${tok[@]}" -n team-a "$ID")
	tr -d '\r' <"$f.tty" >"$f.tty.n"
	check "$who: logs on a terminal shows the output (rc=$rc)" grep -q open "$f.tty.n"
	check "$who: logs on a terminal is clean" raw_free "$f.tty.n"
	$who logs -n team-a "$ID" -o json >"$f.logs.json" 2>&1
	check "$who: logs -o json is clean" raw_free "$f.logs.json"
	$who logs -n team-a "$ID" -o yaml >"$f.logs.yaml" 2>&1
	check "$who: logs -o yaml is clean" raw_free "$f.logs.yaml"
done
kt alice delete -n team-a "$ID" >/dev/null 2>&1

# A run's output is alice's own program, but its bytes may come from the
# pod: a process there opens a file whose name is a terminal attack (a
# title write, a screen clear, C1 CSI, a bidi override).  `kubectl trace
# run` on alice's terminal shows it cleaned, printf and map alike; into a
# file it keeps the bytes, as bpftrace does.
HOSTILE=hostile-$'\x1b]0;pwned\x07\x1b[2J\xc2\x9b31m\xe2\x80\xaeevil'
pod_run "$TG_CTR_A" bash -c "cd $(printf '%q' "$W") && while :; do cat $(printf '%q' "$HOSTILE") 2>/dev/null; sleep 0.1; done" >/dev/null
RUNPROG='tracepoint:syscalls:sys_enter_openat /comm == "cat"/ { printf("%s\n", str(args->filename)); @[str(args->filename)] = count(); } interval:s:2 { exit(); }'
rc=$(KUBECONFIG=$W/kubeconfig python3 "$PTY" "$W/run.tty" 'wait:evil' exit:60 -- \
	kubectl trace run --context alice pod/web-a -n team-a -e "$RUNPROG")
tr -d '\r' <"$W/run.tty" >"$W/run.tty.n"
check "run on a terminal prints the pod's file name (rc=$rc)" grep -q 'hostile-.*evil' "$W/run.tty.n"
check "run on a terminal prints the map with it" grep -q '^@\[.*hostile-.*evil\]: [0-9]' "$W/run.tty.n"
check "run on a terminal is clean" raw_free "$W/run.tty.n"
kt alice run pod/web-a -n team-a -e "$RUNPROG" >"$W/run.out" 2>"$W/run.err"
check "run into a file keeps the program's bytes (rc=$?)" grep -qF $'\x1b]0;pwned\x07' "$W/run.out"
