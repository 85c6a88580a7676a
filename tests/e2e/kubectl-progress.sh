#!/usr/bin/env bash
# Progress on stderr (issue 9): in text mode, when stderr is a terminal,
# a step that lasts more than a second is shown ("starting ...",
# "compiling on N nodes", "attached on K of N nodes"); never when stderr
# is not a terminal.  The real kubectl in a pseudo-terminal; the slow
# step is made so: the node's runner is frozen (SIGSTOP) while the trace
# starts, and thawed once the progress line is seen.  (That a fast step
# shows nothing is tests/unit/test-plugin-render.c's test_progress, with
# the clock in hand: here a loaded machine could make any step slow.)
source "$(dirname "$0")/lib.sh"
need_bpf "progress" || exit 0
stack_start || { tap_fail "progress: stack starts" "$(tail -5 "$TG_WORK"/*.log)"; exit 1; }
PTY=$TG_TOP/tests/e2e/pty-drive.py
out=$TG_WORK/out
PROG='tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$TG_MARK_A"'"/ { printf("open\n"); }'
thaw() { kill -CONT "$TG_RUNNER_PID" 2>/dev/null; }
trap 'if [ "$BASHPID" = "$$" ]; then thaw; stack_stop; fi' EXIT

kill -STOP "$TG_RUNNER_PID"
rc=$(python3 "$PTY" "$out" 'wait:starting pod/web-a in team-a: resolving, compiling\.\.\.' \
	"sh:kill -CONT $TG_RUNNER_PID" 'wait:open' 'key:\x03' exit:60 -- \
	kubectl trace run --context alice pod/web-a -n team-a -e "$PROG" 2>"$TG_WORK/pty.err")
thaw
n=$(grep -c 'resolving, compiling\.\.\.' "$out")
check "a slow start shows its step on the terminal, once, then the trace runs (rc=$rc, $n)" \
	bash -c "[ '$rc' = 0 ] && [ '$n' = 1 ] && grep -q '^open' '$out'"
[ "$rc" = 0 ] || { sed 's/^/# /' "$TG_WORK/pty.err"; tail -c 300 "$out" | sed 's/^/# /'; }

# The same slow start with stderr in a file: no progress there.  The
# runner stays frozen until the gateway is connected to it and more than
# the progress threshold (1 s) has passed since the command started: the
# step really was slow.
kill -STOP "$TG_RUNNER_PID"
t0=$(date +%s%N)
rc=$(python3 "$PTY" "$out" \
	"until:ss -Htn state established '( dport = :$TG_RUNNER_PORT )' | grep -q . && [ \$(date +%s%N) -ge $((t0 + 1500000000)) ]" \
	"sh:kill -CONT $TG_RUNNER_PID" 'wait:open' 'key:\x03' exit:60 -- \
	bash -c "exec kubectl trace run --context alice pod/web-a -n team-a -e '$PROG' 2>'$TG_WORK/stderr.file'" \
	2>"$TG_WORK/pty.err")
thaw
check "with stderr not a terminal there is no progress, even for a slow start (rc=$rc)" \
	bash -c "[ '$rc' = 0 ] && ! grep -q 'resolving, compiling' '$TG_WORK/stderr.file' '$out'"
[ "$rc" = 0 ] || { sed 's/^/# /' "$TG_WORK/pty.err" "$TG_WORK/stderr.file"; }
