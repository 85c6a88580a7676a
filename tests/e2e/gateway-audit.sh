#!/usr/bin/env bash
# The audit log a reviewer can trust, through the real gateway: a record
# is on disk before its trace starts; an audit log that cannot be written
# starts nothing (503 with the reason); SIGKILL of the gateway in the
# middle of a trace loses no record of it and the next start continues
# the chain; rotation by size keeps the chain across files.
source "$(dirname "$0")/lib.sh"
need_bpf "gateway audit" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
AUDIT_MNT=
cleanup() {
	local p
	for p in "${TG_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ -n "$AUDIT_MNT" ] && mountpoint -q "$AUDIT_MNT"; then
		umount "$AUDIT_MNT" || umount -l "$AUDIT_MNT"
	fi
	stack_stop
}
trap 'if [ "$BASHPID" = "$$" ]; then cleanup; fi' EXIT
tap_ok "stack starts"

out=$TG_WORK/out
err=$TG_WORK/err
OPENAT='tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); }'

# gw_restart AUDIT-JSON: the gateway again, with this "audit" section
gw_restart() {
	if [ -n "${TG_GATEWAY_PID:-}" ]; then
		kill "$TG_GATEWAY_PID" 2>/dev/null
		wait "$TG_GATEWAY_PID" 2>/dev/null
	fi
	python3 - "$TG_WORK/gateway.json" "$1" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["audit"] = json.loads(sys.argv[2])
json.dump(c, open(sys.argv[1], "w"))
EOF
	tracegate serve --config "$TG_WORK/gateway.json" 2>>"$TG_WORK/gateway.log" &
	TG_GATEWAY_PID=$!
	TG_PIDS+=("$TG_GATEWAY_PID")
	wait_for 10 curl -sf --cacert "$TG_CERTS/ca.crt" "$TG_GATEWAY/healthz" -o /dev/null
}
run1() { # a short real trace: BEGIN then exit
	timeout 20 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a -e "BEGIN { printf(\"hi\\n\"); exit(); }"' \
		"$TG_WORK" >"$out" 2>"$err"
}
ran_hi() { # NAME: run1 printed hi
	if grep -q '^hi$' "$out"; then
		tap_ok "$1"
	else
		tap_fail "$1" "$(head -c 1000 "$out")" "$(head -c 1000 "$err")"
	fi
}

# ---- durable before the trace starts -------------------------------------
# The first line the client gets names the trace; its record must already
# be in the file at that moment.
: >"$out"
kt_bg alice run pod/web-a -n team-a --duration 3 -o json -e "$OPENAT" >"$out" 2>"$err" &
ktpid=$!
wait_for 8 grep -q '"phase":"accepted"' "$out"
seen=$(audit_py '[r["tracegate"]["trace"] for r in recs if r["stage"] == "ResponseStarted"]')
trace=$(grep -m1 '"phase":"accepted"' "$out" | json_get 'd["trace"]')
check "the allow record is on disk when the stream's first line arrives" grep -q "'$trace'" <<<"$seen"
wait "$ktpid"

# ---- SIGKILL mid-run ----------------------------------------------------------
# Two streams (alice's limit) running when the gateway is SIGKILLed: each has its
# ResponseStarted; the runners detach them and keep their end records;
# the restarted gateway asks them and writes each ResponseComplete with
# the real counts, marked afterRestart.
declare -a kpids=() kouts=()
for i in 1 2; do
	kt_bg alice run pod/web-a -n team-a --duration 30 -o json -e "$OPENAT" >"$TG_WORK/k$i.out" 2>"$TG_WORK/k$i.err" &
	kpids+=($!)
	kouts+=("$TG_WORK/k$i.out")
done
streaming() { local f; for f in "${kouts[@]}"; do grep -q marker-team-a-web-a "$f" || return 1; done; }
if wait_for 15 streaming; then
	traces=()
	for f in "${kouts[@]}"; do traces+=("$(grep -m1 '"phase":"accepted"' "$f" | json_get 'd["trace"]')"); done
	ids=$(runner_prog_ids)
	kill -9 "$TG_GATEWAY_PID"
	wait "$TG_GATEWAY_PID" 2>/dev/null
	rcs=
	for p in "${kpids[@]}"; do wait "$p" 2>/dev/null; rcs+=" $?"; done
	check "the clients see their streams break (rc=$rcs)" bash -c '! [[ " $0 " =~ " 0 " ]]' "$rcs"
	trace=${traces[0]}
	st=$(audit_py '[(r["stage"], r["annotations"]["authorization.k8s.io/decision"]) for r in recs if r["tracegate"].get("trace") == "'"$trace"'"]')
	check "the killed trace's ResponseStarted allow record is in the log ($st)" \
		test "$st" = "[('ResponseStarted', 'allow')]"
	check "tracegate audit verify passes on the log after SIGKILL" tracegate audit verify "$TG_AUDIT"
	# shellcheck disable=SC2086
	check "the runner detaches the killed gateway's traces (3 s)" wait_for 3 progs_gone $ids
	# one read of the last record for both: a record written between two
	# reads (the detached end kept until there is room) would mix them
	last_rec=$(tail -1 "$TG_AUDIT")
	last_seq=$(printf '%s' "$last_rec" | json_get 'd["seq"]')
	last_hash=$(printf '%s' "$last_rec" | sha256sum | cut -d' ' -f1)
	gw_restart "{\"path\": \"$TG_AUDIT\"}"
	ended() {
		audit_py '[r["tracegate"]["trace"] for r in recs if r["stage"] == "ResponseComplete" and r["tracegate"].get("afterRestart")]' >"$TG_WORK/ended"
		local t; for t in "${traces[@]}"; do grep -q "'$t'" "$TG_WORK/ended" || return 1; done
	}
	check "after the restart every killed stream has its ResponseComplete (10 s)" wait_for 10 ended
	for t in "${traces[@]}"; do
		got=$(audit_py '[(r["tracegate"]["endReason"], r["tracegate"]["events"] > 0, r["tracegate"]["counts"]["events"] == r["tracegate"]["events"], r["responseStatus"]["code"], r["tracegate"]["nodeEndReasons"]) for r in recs if r["stage"] == "ResponseComplete" and r["tracegate"].get("trace") == "'"$t"'"]')
		check "trace $t: one ResponseComplete, gateway-lost, with the runner's counts ($got)" \
			test "$got" = "[('gateway-lost', True, True, 200, {'node-1': 'stop'})]"
	done
	n=$(grep -c "cut by a gateway restart: end recorded after the restart end=gateway-lost events=[1-9]" "$TG_WORK/gateway.log")
	check "the gateway log has a line with the counts for each ($n)" test "$n" -eq 2
	run1
	ran_hi "after a restart a trace runs"
	next=$(sed -n "$((last_seq + 1))p" "$TG_AUDIT" | json_get '(d["seq"], d["prevHash"])')
	check "the next start continues the chain (seq $((last_seq + 1)), prevHash of the last record)" \
		test "$next" = "($((last_seq + 1)), '$last_hash')"
	check "tracegate audit verify passes across the restart" tracegate audit verify "$TG_AUDIT"
	gw_restart "{\"path\": \"$TG_AUDIT\"}"
	run1
	n=$(audit_py 'len([r for r in recs if r["tracegate"].get("afterRestart")])')
	check "a second restart writes no end twice ($n)" test "$n" -eq 2
else
	tap_fail "two traces stream before the SIGKILL" "$(cat "$TG_WORK"/k*.err)"
	for p in "${kpids[@]}"; do kill -9 "$p" 2>/dev/null; done
fi

# ---- rotation by size keeps the chain ------------------------------------------
ROT=$TG_WORK/rot/audit.log
mkdir -p "$TG_WORK/rot"
gw_restart "{\"path\": \"$ROT\", \"rotateBytes\": 6000, \"keep\": 10}"
for i in 1 2 3 4 5 6; do
	run1
done
nfiles=$(ls "$ROT"* | wc -l)
check "rotation by size made several files ($nfiles)" test "$nfiles" -ge 3
big=$(find "$TG_WORK/rot" -name 'audit.log*' -size +6000c | wc -l)
check "no file is larger than rotateBytes" test "$big" -eq 0
check "tracegate audit verify passes across the rotated files" tracegate audit verify "$ROT"*
n=$(cat "$ROT"* | grep -c .)
check "no record was lost in rotation (12 records for 6 traces, got $n)" test "$n" -eq 12

# ---- the audit log cannot be written: 503, nothing starts, nothing torn --------------
# A tiny filesystem filled to the last byte while a trace runs: new
# requests are refused with the reason, the running trace still gets its
# ResponseComplete (its allow record reserved the room), the log is never
# torn (verify passes while full), and once space returns the next
# record chains on.
AUDIT_MNT=$TG_WORK/auditfs
mkdir -p "$AUDIT_MNT"
if mount -t tmpfs -o size=128k tmpfs "$AUDIT_MNT"; then
	FULL=$AUDIT_MNT/audit.log
	gw_restart "{\"path\": \"$FULL\", \"detachedEndPollSeconds\": 1}"
	run1
	# a detached trace (bob's: alice's limit is 2 traces) that ends while
	# nothing can be written: its session (the runner's only child once
	# run1's has gone) is killed once the log is full, below
	wait_for 20 bash -c "! pgrep -P $TG_RUNNER_PID >/dev/null"
	DET=$(kt bob run pod/web-b -n team-b --detach --duration 300 -e "$OPENAT" 2>"$TG_WORK/det.err" |
		sed -n 's|^trace.tracegate.dev/\([0-9a-f-]*\) created$|\1|p')
	wait_for 20 pgrep -P "$TG_RUNNER_PID"
	detpids=$(pgrep -P "$TG_RUNNER_PID" | tr '\n' ' ')
	check "a detached trace runs (${DET:-no id}, its session ${detpids:-none}: $(head -c 300 "$TG_WORK/det.err"))" \
		test -n "$DET" -a -n "$detpids"
	: >"$TG_WORK/long.out"
	kt_bg alice run pod/web-a -n team-a --duration 30 -o json -e "$OPENAT" >"$TG_WORK/long.out" 2>"$TG_WORK/long.err" &
	longpid=$!
	wait_for 8 grep -q '"phase":"accepted"' "$TG_WORK/long.out"
	longtrace=$(grep -m1 '"phase":"accepted"' "$TG_WORK/long.out" | json_get 'd["trace"]')
	dd if=/dev/zero of="$AUDIT_MNT/fill" bs=4k 2>/dev/null
	dd if=/dev/zero of="$AUDIT_MNT/fill2" bs=1 2>/dev/null
	avail=$(df --output=avail -B1 "$AUDIT_MNT" | tail -1 | tr -d ' ')
	check "the audit filesystem is full to the last byte (avail $avail)" test "$avail" -eq 0
	# what is left is the slack of the file's last page, past the room kept
	# for the running trace's end: a dry run or two may still fit in it
	for i in 1 2 3 4; do
		timeout 20 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace check --context alice pod/web-a -n team-a -e "$1"' \
			"$TG_WORK" "$OPENAT" >"$out" 2>"$err" || break
	done
	check "a dry run is refused too once the file's last page is full (503)" grep -q 'ServiceUnavailable' "$err"
	size_full=$(stat -c %s "$FULL")
	before=$(our_progs)
	timeout 20 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a -e "$1"' \
		"$TG_WORK" "$OPENAT" >"$out" 2>"$err"
	rc=$?
	if [ $rc -ne 0 ] && grep -q 'ServiceUnavailable' "$err" && grep -q 'audit log unwritable' "$err" &&
		grep -qi 'no space' "$err"; then
		tap_ok "a full audit filesystem: 503 naming the audit log and the reason"
	else
		tap_fail "a full audit filesystem: 503 naming the audit log and the reason" "rc=$rc" "$(cat "$out" "$err")"
	fi
	check "nothing was loaded" test "$(our_progs)" -le "$((before))"
	check "nothing streamed" test ! -s "$out"
	check "the refused records left nothing in the file (size $size_full -> $(stat -c %s "$FULL"))" \
		test "$(stat -c %s "$FULL")" -eq "$size_full"
	check "tracegate audit verify passes on the full log" tracegate audit verify "$FULL"
	# the detached session ends now: its end is claimed (the runner gives
	# it to this gateway alone) and cannot be written (the room left is
	# the running trace's, for its end)
	# shellcheck disable=SC2086 # pids
	[ -n "$detpids" ] && kill -9 $detpids
	check "the detached trace's end, claimed while the log is full, is kept" \
		wait_for 30 grep -q "detached trace $DET ended on node \"node-1\": end not recorded (poll).*(kept" "$TG_WORK/gateway.log"
	detend() { TG_AUDIT=$FULL audit_py '[r["tracegate"]["endReason"] for r in recs if r["tracegate"].get("detachedEnd") and r["tracegate"].get("trace") == "'"$DET"'"]'; }
	check "... and not in the log while it is full ($(detend))" test "$(detend)" = "[]"
	# the running trace ends (the client goes): its record finds its room
	kill -INT "$longpid" 2>/dev/null
	wait "$longpid" 2>/dev/null
	complete() { TG_AUDIT=$FULL audit_py '[r["tracegate"].get("endReason") for r in recs if r["stage"] == "ResponseComplete" and r["tracegate"].get("trace") == "'"$longtrace"'"]' | grep -qv '^\[\]$'; }
	check "the trace running when the disk filled has its ResponseComplete" wait_for 10 complete
	check "tracegate audit verify passes after it" tracegate audit verify "$FULL"
	# one read of the last record for both: a record written between two
	# reads (the detached end kept until there is room) would mix them
	last_rec=$(tail -1 "$FULL")
	last_seq=$(printf '%s' "$last_rec" | json_get 'd["seq"]')
	last_hash=$(printf '%s' "$last_rec" | sha256sum | cut -d' ' -f1)
	rm -f "$AUDIT_MNT/fill" "$AUDIT_MNT/fill2"
	run1
	ran_hi "with space again, traces run"
	next=$(grep -m1 "\"seq\":$((last_seq + 1))," "$FULL" | json_get '(d["seq"], d["prevHash"])')
	check "the next record chains on (seq $((last_seq + 1)), prevHash of the last record: $next, $last_hash)" \
		test "$next" = "($((last_seq + 1)), '$last_hash')"
	check "tracegate audit verify passes after space returns" tracegate audit verify "$FULL"
	check "with space again, the kept detached end is written, once" wait_for 20 bash -c "$(declare -f detend audit_py); FULL=$FULL; DET=$DET; [ \$(detend | grep -o \"'\" | wc -l) -eq 2 ]"
	check "tracegate audit verify passes with it" tracegate audit verify "$FULL"

	# a torn tail (a crash in the middle of a write) is cut off at the next start
	kill -9 "$TG_GATEWAY_PID"
	wait "$TG_GATEWAY_PID" 2>/dev/null
	TG_GATEWAY_PID=
	# one read of the last record for both: a record written between two
	# reads (the detached end kept until there is room) would mix them
	last_rec=$(tail -1 "$FULL")
	last_seq=$(printf '%s' "$last_rec" | json_get 'd["seq"]')
	last_hash=$(printf '%s' "$last_rec" | sha256sum | cut -d' ' -f1)
	head -c 700 <(tail -1 "$FULL") >>"$FULL"
	check "a torn record fails verify" bash -c '! tracegate audit verify "$0" >/dev/null 2>&1' "$FULL"
	gw_restart "{\"path\": \"$FULL\"}"
	check "the restarted gateway says it cut a torn record off" grep -q 'torn last record (700 bytes' "$TG_WORK/gateway.log"
	run1
	next=$(grep -m1 "\"seq\":$((last_seq + 1))," "$FULL" | json_get '(d["seq"], d["prevHash"])')
	check "after the repair the next record chains on the last whole one" \
		test "$next" = "($((last_seq + 1)), '$last_hash')"
	check "tracegate audit verify passes after the repair" tracegate audit verify "$FULL"
	kill "$TG_GATEWAY_PID" 2>/dev/null
	wait "$TG_GATEWAY_PID" 2>/dev/null
	TG_GATEWAY_PID=
	umount "$AUDIT_MNT" && AUDIT_MNT=
else
	tap_fail "a tmpfs for the audit log can be mounted" "mount failed"
fi
