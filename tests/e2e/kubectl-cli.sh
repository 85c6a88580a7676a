#!/usr/bin/env bash
# kubectl trace as kubectl and bpftrace users expect it (issue 9), through
# the real kubectl: per-command help, -f/--filename and -f -, -o json|yaml,
# version with the gateway's, completion (kubectl_complete-trace and the
# scripts), -v request logging, "no gateway configured", errors in
# bpftrace's form printed once whichever side found them, and the exit
# statuses by class (docs/kubectl-trace.md).
source "$(dirname "$0")/lib.sh"
need_bpf || exit 0
stack_start || { tap_fail "kubectl cli: stack starts" "$(tail -5 "$TG_WORK"/*.log)"; exit 1; }
out=$TG_WORK/out err=$TG_WORK/err

# ---- help ---------------------------------------------------------------------
kt alice run --help >"$out" 2>"$err"
rc=$?
if [ $rc -eq 0 ] && grep -q '^  kubectl trace run TARGET' "$out" && grep -q '^Examples:' "$out" &&
	grep -q -- '--filename FILE' "$out" && ! grep -q '^Commands:' "$out"; then
	tap_ok "run --help is run's own help, with examples, and needs no TARGET"
else
	tap_fail "run --help is run's own help, with examples, and needs no TARGET" "rc=$rc" "$(head -5 "$out" "$err")"
fi
kt alice check -h >"$TG_WORK/check.help" 2>&1
kt alice version --help >"$TG_WORK/version.help" 2>&1
kubectl trace help completion >"$TG_WORK/completion.help" 2>&1
kubectl trace >"$TG_WORK/overview.help" 2>&1
if grep -q 'kubectl trace check TARGET' "$TG_WORK/check.help" && grep -q 'version \[--client\]' "$TG_WORK/version.help" &&
	grep -q 'completion bash|zsh' "$TG_WORK/completion.help" && grep -q '^Commands:' "$TG_WORK/overview.help" &&
	[ "$(md5sum <"$TG_WORK/check.help")" != "$(md5sum <"$out")" ]; then
	tap_ok "check, version, completion and the plugin itself each have their help"
else
	tap_fail "check, version, completion and the plugin itself each have their help" "$(head -3 "$TG_WORK"/*.help)"
fi

# ---- usage errors: exit 2 ----------------------------------------------------------
kt alice run pod/web-a -n team-a >"$out" 2>"$err"
rc=$?
check "a usage error exits 2 and says what is missing (rc=$rc)" \
	bash -c "[ $rc -eq 2 ] && grep -q 'exactly one of -e PROGRAM and -f FILE' '$err'"
kt alice version --duration 5 >"$out" 2>"$err"
rc=$?
check "a flag another command takes is named, not ignored (rc=$rc)" \
	bash -c "[ $rc -eq 2 ] && grep -q 'version: flag --duration does not apply' '$err'"

# ---- -f FILE, --filename, -f - -------------------------------------------------------
printf 'BEGIN { printf("from %%s\\n", str($1)); exit(); }\n' >"$TG_WORK/prog.bt"
kt alice run pod/web-a -n team-a --filename "$TG_WORK/prog.bt" file >"$out" 2>"$err"
rc=$?
check "--filename reads the program (rc=$rc)" bash -c "[ $rc -eq 0 ] && grep -qx 'from file' '$out'"
kt alice run pod/web-a -n team-a -f - stdin <"$TG_WORK/prog.bt" >"$out" 2>"$err"
rc=$?
check "-f - reads the program from standard input (rc=$rc)" bash -c "[ $rc -eq 0 ] && grep -qx 'from stdin' '$out'"

# ---- -o json|yaml wherever there is output -----------------------------------------------
OPENS='tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }'
kt alice check pod/web-a -n team-a -e "$OPENS" -o json >"$out" 2>"$err"
rc=$?
got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["allowed"], d["decision"]["policy"], d["decision"]["nodes"])' "$out" 2>&1)
check "check -o json: the decision as one JSON object (rc=$rc, $got)" \
	bash -c "[ $rc -eq 0 ] && [ \"$got\" = \"True restricted ['node-1']\" ]"
kt alice check pod/web-a -n team-a -e 'kprobe:vfs_read { @ = count(); }' -o yaml >"$out" 2>"$err"
rc=$?
check "check -o yaml of a denial: allowed: false, the Status, exit 3 (rc=$rc)" \
	bash -c "[ $rc -eq 3 ] && grep -qx 'allowed: false' '$out' && grep -qx '  reason: Forbidden' '$out'"
kt alice run pod/web-a -n team-a -e 'BEGIN { printf("y\n"); exit(); }' -o yaml >"$out" 2>"$err"
rc=$?
check "run -o yaml: one document per record (rc=$rc)" \
	bash -c "[ $rc -eq 0 ] && [ \$(grep -c '^---\$' '$out') -ge 4 ] && grep -qx 'type: end' '$out' && grep -qx 'text: \"y\\\\n\"' '$out'"

# ---- version --------------------------------------------------------------------------------
kt alice version -o json >"$out" 2>"$err"
rc=$?
got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=d["clientVersion"]; s=d["serverVersion"]; print(c["gitCommit"].split("-")[0], bool(c["buildDate"]), s["gitCommit"] == c["gitCommit"])' "$out" 2>&1)
commit=${got%% *}
# the commit the binaries were built from: one of this repository's
if [ $rc -eq 0 ] && [ "${got#* }" = "True True" ] && [ "${#commit}" -eq 12 ] &&
	{ [ ! -e "$TG_TOP/.git" ] || git -C "$TG_TOP" cat-file -e "$commit^{commit}"; }; then
	tap_ok "version -o json: client commit and build date, and the gateway's version"
else
	tap_fail "version -o json: client commit and build date, and the gateway's version" "rc=$rc $got" "$(cat "$out" "$err")"
fi
kt alice version >"$out" 2>"$err"
check "version in text names both" bash -c "grep -q '^Client Version: 0.1.0 (commit $commit' '$out' && grep -q '^Gateway Version: 0.1.0 (commit $commit' '$out'"
TRACEGATE_URL=https://127.0.0.1:1 kt alice version >"$out" 2>"$err"
rc=$?
check "version without a reachable gateway: the client's, and why on stderr (rc=$rc)" \
	bash -c "[ $rc -eq 0 ] && grep -q '^Client Version' '$out' && ! grep -q Gateway '$out' && grep -q 'cannot reach gateway' '$err'"

# ---- completion -----------------------------------------------------------------------------
got=$(kubectl __complete trace r 2>/dev/null | head -2 | cut -f1 | tr '\n' ' ')
check "kubectl completes 'kubectl trace r' through kubectl_complete-trace ($got)" test "$got" = "run :4 "
got=$(kubectl __complete trace run --filen 2>/dev/null | cut -f1 | tr '\n' ' ')
check "and a command's flags ($got)" test "$got" = "--filename :4 "
got=$(bash -c 'source <(kubectl trace completion bash) && COMP_WORDS=(kubectl-trace run -o y) && COMP_CWORD=3 && _kubectl_trace && echo "${COMPREPLY[*]}"' 2>&1)
check "completion bash: the script completes kubectl-trace ($got)" test "$got" = yaml
if command -v zsh >/dev/null; then
	check "completion zsh parses" zsh -n <(kubectl trace completion zsh)
fi

# ---- -v: request logging ------------------------------------------------------------------
kt alice run pod/web-a -n team-a -e 'BEGIN { exit(); }' -v 8 >"$out" 2>"$err"
rc=$?
tok=$(fixture_token alice)
if [ $rc -eq 0 ] && grep -qE '^kubectl-trace: POST https://[^ ]+/traces 200 OK in [0-9]+ milliseconds$' "$err" &&
	grep -q 'Request Header: Authorization: Bearer <masked>' "$err" && ! grep -qF "$tok" "$err"; then
	tap_ok "-v 8 logs the request and its status on stderr, never the token"
else
	tap_fail "-v 8 logs the request and its status on stderr, never the token" "rc=$rc" "$(cat "$err")"
fi
kt alice run pod/web-a -n team-a -e 'BEGIN { exit(); }' >"$out" 2>"$err"
if [ ! -s "$err" ]; then
	tap_ok "without -v nothing is logged"
else
	tap_fail "without -v nothing is logged" "$(head -c 1000 "$err")"
fi

# ---- no gateway configured -----------------------------------------------------------------
env -u TRACEGATE_URL -u TRACEGATE_CA KUBECONFIG="$TG_WORK/kubeconfig" \
	kubectl trace run pod/web-a --context alice -n team-a -e 'BEGIN { exit(); }' >"$out" 2>"$err"
rc=$?
if [ $rc -eq 1 ] && grep -q '^error: no gateway configured' "$err" && grep -q 'Set TRACEGATE_URL=' "$err" &&
	! grep -q '^Error from server (Unauthorized)' "$err"; then
	tap_ok "without a gateway configured the plugin says so and how to set one"
else
	tap_fail "without a gateway configured the plugin says so and how to set one" "rc=$rc" "$(cat "$err")"
fi

# ---- errors in bpftrace's form, once, with the class in the exit status -----------------------
# found on the node (semantic analysis in the runner)
kt alice run pod/web-a -n team-a -e 'tracepoint:syscalls:sys_enter_openat { printf("%d\n", comm); }' >"$out" 2>"$err"
rc=$?
want=$(printf '%s\n' 'program:1:40: ERROR: printf: "%d" (argument 1) expects a value of type integer (string supplied)' \
	'tracepoint:syscalls:sys_enter_openat { printf("%d\n", comm); }' \
	'                                       ^')
if [ $rc -eq 4 ] && [ "$(cat "$err")" = "$want" ]; then
	tap_ok "a node-side error: line, source and caret, once, exit 4"
else
	tap_fail "a node-side error: line, source and caret, once, exit 4" "rc=$rc" "got:" "$(cat "$err")" "want:" "$want"
fi
# found by the gateway (the front end), on line 2
kt alice run pod/web-a -n team-a -e $'tracepoint:syscalls:sys_enter_openat\n{ @x = counnt(); }' >"$out" 2>"$err"
rc=$?
want=$(printf '%s\n' 'program:2:8: ERROR: function "counnt" is not known' '{ @x = counnt(); }' '       ^')
if [ $rc -eq 4 ] && [ "$(cat "$err")" = "$want" ]; then
	tap_ok "a gateway-side error: line, source and caret, printed once, exit 4"
else
	tap_fail "a gateway-side error: line, source and caret, printed once, exit 4" "rc=$rc" "got:" "$(cat "$err")" "want:" "$want"
fi
# a policy denial: where, then why, once
kt alice run pod/web-a -n team-a -e 'kprobe:vfs_read { @ = count(); }' >"$out" 2>"$err"
rc=$?
if [ $rc -eq 3 ] && [ "$(grep -c 'is not allowed by probes.allow' "$err")" -eq 1 ] &&
	grep -q '^program:1:1: ERROR: probe "kprobe:vfs_read"' "$err" && grep -qx '\^' "$err" &&
	grep -q '^Error from server (Forbidden): the program is denied by policy; policies tried: "restricted"' "$err"; then
	tap_ok "a policy denial: bpftrace's form with the caret, the policies tried, once, exit 3"
else
	tap_fail "a policy denial: bpftrace's form with the caret, the policies tried, once, exit 3" "rc=$rc" "$(cat "$err")"
fi
kt alice run pod/web-b -n team-b -e 'BEGIN { exit(); }' >"$out" 2>"$err"
rc=$?
check "an RBAC refusal exits 3 (rc=$rc)" bash -c "[ $rc -eq 3 ] && grep -q 'Forbidden' '$err'"
kt alice run pod/web-a -n team-a -e 'BEGIN { exit(7); }' >"$out" 2>"$err"
rc=$?
check "the program's exit(N) is the exit status (rc=$rc)" test "$rc" -eq 7
