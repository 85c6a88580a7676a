#!/usr/bin/env bash
# make playground, as a newcomer would use it: start it from the make
# target, source its env file, list alice's pods with kubectl, ask can-i,
# run every example of docs/quickstart.md's "Tracing as a tenant" as
# written, then make playground-down, which must leave nothing behind.
# The playground lives in a directory of its own here (TG_PLAYGROUND_DIR),
# so one a developer has running is not disturbed.
source "$(dirname "$0")/lib.sh"
need_bpf || exit 0
work=$(mktemp -d /tmp/tg-playground-test.XXXXXX)
export TG_PLAYGROUND_DIR=$work/pg
cleanup() {
	"$TG_TOP/tests/playground/run" down >/dev/null 2>&1
	rm -rf "$work"
}
trap 'if [ "$BASHPID" = "$$" ]; then cleanup; fi' EXIT

make -C "$TG_TOP" --no-print-directory playground >"$work/up.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ -s "$TG_PLAYGROUND_DIR/env" ] && grep -q 'source .*env' "$work/up.out" &&
	grep -q 'make playground-down' "$work/up.out"; then
	tap_ok "make playground starts the stack in the background and says how to use it"
else
	tap_fail "make playground starts the stack in the background and says how to use it" "rc=$rc" "$(tail -20 "$work/up.out")"
	exit 1
fi
pg_work=$(cat "$TG_PLAYGROUND_DIR/work")
pg_cgroup=$(cat "$TG_PLAYGROUND_DIR/cgroup")
mapfile -t pg_pids <"$TG_PLAYGROUND_DIR/pids"
pg_pids+=("$(cat "$TG_PLAYGROUND_DIR/pid")")

# make returned: the stack outlives it
check "the stack is still running after make returns" kill -0 "${pg_pids[@]}"
make -C "$TG_TOP" --no-print-directory playground >"$work/up2.out" 2>&1
check "make playground again says it is already running" grep -q 'already running' "$work/up2.out"

# a fresh shell that only sources the env file, as a person would
pg() { env -i HOME="$work" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	bash -c "source '$TG_PLAYGROUND_DIR/env' && $1"; }

pg 'kubectl get pods -n team-a' >"$work/pods" 2>&1
rc=$?
check "as alice, kubectl get pods -n team-a lists the team's pods (rc=$rc)" \
	bash -c "[ $rc -eq 0 ] && grep -q '^web-a ' '$work/pods' && ! grep -q '^web-b ' '$work/pods'"
pg 'kubectl get pods -n team-b' >"$work/pods-b" 2>&1
rc=$?
check "but not team-b's (rc=$rc)" bash -c "[ $rc -ne 0 ] && grep -q Forbidden '$work/pods-b'"
got=$(pg 'kubectl auth can-i create traces.tracegate.dev -n team-a' 2>"$work/cani.err")
check "kubectl auth can-i create traces.tracegate.dev -n team-a says yes ($got)" \
	bash -c "[ '$got' = yes ] && ! grep -q . '$work/cani.err'"
got=$(pg 'kubectl auth can-i create traces.tracegate.dev -n team-b' 2>/dev/null)
check "and no in team-b ($got)" test "$got" = no
got=$(pg 'kubectl config get-contexts -o name | sort | tr "\n" " "; kubectl config current-context')
check "a context per user, alice current ($got)" test "$got" = "alice bob carol alice"

# The quickstart's examples, taken from the document itself: each command
# (backslash-continued lines joined) in the fenced block of "Tracing as a
# tenant".
python3 - "$TG_TOP/docs/quickstart.md" >"$work/examples" <<'EOF'
import sys
text = open(sys.argv[1]).read()
sec = text.split("## Tracing as a tenant", 1)[1]
block = sec.split("```", 2)[1]
cmd = ""
for line in block.splitlines():
    if not line.strip() or line.startswith("#"):
        continue
    if line.endswith("\\"):
        cmd += line[:-1]
        continue
    print(cmd + line)
    cmd = ""
EOF
n=$(grep -c . "$work/examples")
check "the quickstart has three examples ($n)" test "$n" -eq 3
i=0
while IFS= read -r cmd; do
	i=$((i + 1))
	case $cmd in
	*"--duration"*)
		pg "$cmd" >"$work/ex$i.out" 2>"$work/ex$i.err"
		rc=$?
		check "quickstart example $i runs as written: maps at the end (rc=$rc)" \
			bash -c "[ $rc -eq 0 ] && grep -qE '^@\[[a-z]+\]: [0-9]+\$' '$work/ex$i.out'"
		;;
	*"trace check"*)
		pg "$cmd" >"$work/ex$i.out" 2>"$work/ex$i.err"
		rc=$?
		check "quickstart example $i runs as written: denied, exit 3 (rc=$rc)" \
			bash -c "[ $rc -eq 3 ] && grep -qx denied '$work/ex$i.out' && grep -q 'program:1:1: ERROR: probe \"kprobe:vfs_read\"' '$work/ex$i.err'"
		;;
	*)
		# runs until stopped: the opens of web-a's marker stream in
		: >"$work/ex$i.out"
		setsid bash -c "source '$TG_PLAYGROUND_DIR/env' && exec $cmd" >"$work/ex$i.out" 2>"$work/ex$i.err" &
		expid=$!
		if wait_for 15 grep -q "marker-team-a-web-a" "$work/ex$i.out"; then
			tap_ok "quickstart example $i runs as written: web-a's opens stream in"
		else
			tap_fail "quickstart example $i runs as written: web-a's opens stream in" "$(head -5 "$work/ex$i.out" "$work/ex$i.err")"
		fi
		check "quickstart example $i shows nothing of team-b" bash -c "! grep -q marker-team-b '$work/ex$i.out'"
		kill -INT "$expid" 2>/dev/null
		wait_for 10 bash -c "! kill -0 $expid 2>/dev/null" || kill -9 "$expid" 2>/dev/null
		wait "$expid" 2>/dev/null
		;;
	esac
done <"$work/examples"

make -C "$TG_TOP" --no-print-directory playground-down >"$work/down.out" 2>&1
rc=$?
check "make playground-down succeeds (rc=$rc)" test "$rc" -eq 0
left=
for p in "${pg_pids[@]}"; do
	kill -0 "$p" 2>/dev/null && left="$left pid $p"
done
[ -e "$pg_work" ] && left="$left $pg_work"
[ -e "$pg_cgroup" ] && left="$left $pg_cgroup"
[ -e "$TG_PLAYGROUND_DIR" ] && left="$left $TG_PLAYGROUND_DIR"
check "playground-down leaves nothing behind (processes, cgroups, files):${left:- nothing}" test -z "$left"
