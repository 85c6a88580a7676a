#!/usr/bin/env bash
# kubectl trace run -o bpftrace-json (issue 11): the gateway's stream
# rendered as bpftrace 0.17's -f json lines, compared line for line with
# `tracegate-runner exec -f json` and (where installed) bpftrace 0.17's
# -f json of the same program: printf, print() of values and
# tuples, count, hist, lhist, stats, avg and print(@m, top) maps, exit;
# a traced pod's events compared by shape; errors on stderr as in text.
source "$(dirname "$0")/lib.sh"
need_bpf "kubectl bpftrace-json" || exit 0
stack_start || { tap_fail "bpftrace-json: stack starts" "$(tail -5 "$TG_WORK"/*.log)"; exit 1; }
out=$TG_WORK/out err=$TG_WORK/err

BT=$(command -v bpftrace || true)
if [ -n "$BT" ] && ! "$BT" --version 2>/dev/null | grep -q 'v0\.17\.'; then
	BT=
fi
ours() { kt alice run pod/web-a -n team-a -o bpftrace-json "$@"; }
theirs() { timeout 60 tracegate-runner exec --cache-dir "$TG_WORK/cache-exec" -f json "$@"; }

# same NAME PROG: the JSON lines of both, blank lines aside (bpftrace's
# "\n\n" before the exit-time maps, which kubectl's text leaves out too)
same() {
	local name=$1 prog=$2 rc rc2
	ours -e "$prog" >"$out" 2>"$err"
	rc=$?
	theirs -e "$prog" >"$TG_WORK/exec" 2>"$TG_WORK/exec.err"
	rc2=$?
	if [ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ -s "$out" ] &&
		diff <(grep . "$TG_WORK/exec") <(grep . "$out") >"$TG_WORK/diff" && ! grep -q '^$' "$out"; then
		tap_ok "bpftrace-json: $name: the lines of tracegate-runner exec -f json"
	else
		tap_fail "bpftrace-json: $name: the lines of tracegate-runner exec -f json" "rc=$rc exec rc=$rc2" \
			"$(cat "$TG_WORK/diff" "$err" "$TG_WORK/exec.err")"
	fi
	if [ -z "$BT" ]; then
		printf 'ok - bpftrace-json: %s: as bpftrace 0.17 # SKIP bpftrace 0.17 is not installed\n' "$name"
		return
	fi
	timeout 60 "$BT" -f json -e "$prog" >"$TG_WORK/bt" 2>"$TG_WORK/bt.err"
	rc2=$?
	if [ $rc2 -eq 0 ] && diff <(grep . "$TG_WORK/bt") <(grep . "$out") >"$TG_WORK/diff"; then
		tap_ok "bpftrace-json: $name: the lines of bpftrace 0.17 -f json"
	else
		tap_fail "bpftrace-json: $name: the lines of bpftrace 0.17 -f json" "bpftrace rc=$rc2" \
			"$(cat "$TG_WORK/diff" "$TG_WORK/bt.err")"
	fi
}

same "printf, print of values and tuples, maps of every kind" \
	'BEGIN { printf("a\tb \"q\" \\ %d\n", 5); printf("no newline"); printf(" then\n"); print(-3); print("s");
	$t = (1, "x", ((int8)-2, 3)); print($t); @i = -1; @s["k"] = "v\"q"; @c[1, "a"] = count(); @c[2, "b"] = count();
	@c[2, "b"] = count(); @u = sum(7); @h = hist(0); @h = hist(1000); @k["x"] = hist(5); @l = lhist(55, 0, 100, 10);
	@st = stats(2); @st = stats(10); @a["x"] = avg(4); @a["y"] = avg(8); exit(); }'
same "print(@m, top), clear, a tuple map" \
	'BEGIN { @[1] = hist(10); @[2] = hist(20); @[3] = hist(30); print(@, 2); clear(@); @t = (1, "two", (3, 4)); exit(); }'

# A detached trace's log read with -o bpftrace-json: the same lines as
# run -o bpftrace-json of the same program (its records keep each event's
# type and length whatever format the log is later read with)
DPROG='BEGIN { printf("a %d\n", 1); printf("no newline"); print(-3); print("s"); $t = (1, "x", (2, 3)); print($t);
	@c[1, "a"] = count(); @s = stats(4); exit(); }'
kt alice run pod/web-a -n team-a -e "$DPROG" --detach >"$TG_WORK/created" 2>"$TG_WORK/created.err"
DID=$(sed -n 's|^trace.tracegate.dev/\([0-9a-f-]*\) created$|\1|p' "$TG_WORK/created")
wait_for 60 bash -c "KUBECONFIG=$TG_WORK/kubeconfig kubectl trace get --context alice -n team-a '$DID' | grep -q Succeeded"
kt alice logs -n team-a "$DID" -o bpftrace-json >"$TG_WORK/dlogs" 2>"$TG_WORK/dlogs.err"
rc=$?
ours -e "$DPROG" >"$out" 2>"$err"
rc2=$?
if [ -n "$DID" ] && [ $rc -eq 0 ] && [ $rc2 -eq 0 ] && grep -q '"type": "value"' "$out" &&
	diff "$out" "$TG_WORK/dlogs" >"$TG_WORK/diff"; then
	tap_ok "bpftrace-json: logs of a detached trace: the lines of run"
else
	tap_fail "bpftrace-json: logs of a detached trace: the lines of run" "id=$DID logs rc=$rc run rc=$rc2" \
		"$(cat "$TG_WORK/created.err" "$TG_WORK/diff" "$TG_WORK/dlogs.err" "$err")"
fi

# text has print()'s top and div as bpftrace (it printed every entry, undivided)
kt alice run pod/web-a -n team-a -e 'BEGIN { @c[1] = sum(3); @c[2] = sum(6); print(@c, 1, 3); clear(@c); exit(); }' >"$out" 2>"$err"
check "text: print(@c, 1, 3) prints the top entry divided" bash -c "[ \"\$(grep '^@c' '$out')\" = '@c[2]: 2' ]"

# A probe in the pod: its opener opens the marker every 0.1 s.  Counts
# differ from run to run, so the two are compared by shape: the sequence
# of record types (a run of printf as one) and each map's names and
# value kinds.
PROG='tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$TG_MARK_A"'"/ {
	@opens[comm] = count(); @h = hist(args->flags); @s = stats(pid); @n = count();
	printf("open %s\n", comm); if (@n >= 3) { exit(); } }'
shape() {
	python3 - "$1" <<'EOF'
import json, sys
def kind(v):
    if isinstance(v, dict):
        return "{" + ",".join(k if k.startswith("@") or k in ("count", "average", "total", "probes", "events")
                              else "K" for k in sorted(v)) + ":" + ",".join(sorted({kind(x) for x in v.values()})) + "}"
    if isinstance(v, list):
        return "[" + ",".join(sorted({kind(x) for x in v})) + "]"
    return type(v).__name__
seq = []
for l in open(sys.argv[1]):
    if not l.strip():
        continue
    r = json.loads(l)
    s = r["type"] + " " + kind(r["data"])
    if not seq or seq[-1] != s or r["type"] != "printf":
        seq.append(s)
print("\n".join(seq))
EOF
}
ours -e "$PROG" >"$out" 2>"$err"
rc=$?
theirs -e "$PROG" >"$TG_WORK/exec" 2>"$TG_WORK/exec.err"
rc2=$?
shape "$out" >"$TG_WORK/shape.ours" 2>&1
shape "$TG_WORK/exec" >"$TG_WORK/shape.exec" 2>&1
if [ $rc -eq 0 ] && [ $rc2 -eq 0 ] && grep -q '^printf str$' "$TG_WORK/shape.ours" &&
	diff "$TG_WORK/shape.exec" "$TG_WORK/shape.ours" >"$TG_WORK/diff"; then
	tap_ok "bpftrace-json: a pod's events: the shapes of tracegate-runner exec -f json"
else
	tap_fail "bpftrace-json: a pod's events: the shapes of tracegate-runner exec -f json" "rc=$rc exec rc=$rc2" \
		"$(cat "$TG_WORK/diff" "$TG_WORK/shape.ours" "$err" | head -20)"
fi
check "bpftrace-json: the count map holds the pod's opens" \
	grep -qE '^\{"type": "map", "data": \{"@opens": \{"[^"]+": [3-9]\}\}\}$' "$out"

# a program error: nothing on stdout, bpftrace's form on stderr, exit 4
ours -e 'BEGIN { printf("%d\n", "s"); exit(); }' >"$out" 2>"$err"
rc=$?
check "bpftrace-json: a program error is bpftrace's, on stderr, exit 4 (rc=$rc)" \
	bash -c "[ $rc -eq 4 ] && [ ! -s '$out' ] && grep -q '^program:1:[0-9]*: ERROR: ' '$err'"

# the request asks for the events; without it (-o json) records carry none
kt alice run pod/web-a -n team-a -o json -e 'BEGIN { printf("x"); print(1); exit(); }' >"$out" 2>"$err"
check "bpftrace-json: -o json's output records carry no events" \
	bash -c "grep -q '\"type\":\"output\"' '$out' && ! grep -q '\"events\":\\[' '$out'"

# for streams only, and not beside --prefix
kt alice check pod/web-a -n team-a -o bpftrace-json -e 'BEGIN { exit(); }' >"$out" 2>"$err"
rc=$?
check "bpftrace-json: check -o bpftrace-json is a usage error (rc=$rc)" \
	bash -c "[ $rc -eq 2 ] && grep -q 'bpftrace-json is for run, logs and attach' '$err'"
kt alice run pod/web-a -n team-a -o bpftrace-json --prefix -e 'BEGIN { exit(); }' >"$out" 2>"$err"
rc=$?
check "bpftrace-json: with --prefix is a usage error (rc=$rc)" test "$rc" -eq 2
got=$(kubectl __complete trace run -o '' 2>/dev/null | cut -f1 | tr '\n' ' ')
check "bpftrace-json: completion offers it for run ($got)" bash -c "[[ '$got' == *bpftrace-json* ]]"
got=$(kubectl __complete trace check -o '' 2>/dev/null | cut -f1 | tr '\n' ' ')
check "bpftrace-json: completion does not offer it for check ($got)" bash -c "[[ '$got' != *bpftrace-json* ]]"
