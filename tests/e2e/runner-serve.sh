#!/usr/bin/env bash
# tracegate-runner serve on its own, driven with curl as the gateway would:
# mutual TLS (only the gateway's certificate), pods laid out as the kubelet
# lays them out (systemd and cgroupfs, Burstable and Guaranteed) with real
# processes, NDJSON streams, refusals as Status objects, the session limit,
# and sessions that end because the client is gone or the child crashed:
# no program of ours may stay loaded.
source "$(dirname "$0")/lib.sh"

need_bpf "runner serve" || exit 0

runner_alone runner || exit 1

UID_A=1b2c3d4e-aaaa-bbbb-cccc-0123456789ab        # systemd, Burstable
UID_G=9f8e7d6c-1111-2222-3333-444455556666        # cgroupfs, Guaranteed
MARK_A=$TG_WORK/marker-a
MARK_G=$TG_WORK/marker-g
: >"$MARK_A"
: >"$MARK_G"
CTR_A=$(pod_make web-a $UID_A Burstable systemd)
CTR_G=$(pod_make web-g $UID_G Guaranteed cgroupfs)
pod_run "$CTR_A" bash -c "$(opener "$MARK_A")" >/dev/null
pod_run "$CTR_G" bash -c "$(opener "$MARK_G")" >/dev/null
# A process outside every pod opening pod A's marker: it must never show.
cp /bin/cat "$TG_WORK/outsider"
bash -c "while :; do '$TG_WORK/outsider' '$MARK_A' >/dev/null 2>&1; sleep 0.1; done" </dev/null >/dev/null 2>&1 &
TG_PIDS+=($!)

tracegate-runner serve --listen "127.0.0.1:$PORT" \
	--cert "$TG_CERTS/runner.crt" --key "$TG_CERTS/runner.key" \
	--client-ca "$TG_CERTS/ca.crt" --client-cn tracegate-gateway \
	--node node-1 --cgroup-root "$TG_CGROOT_REL" --cache-dir "$TG_WORK/cache" \
	--max-sessions 2 2>"$LOG" &
RUNNER=$!
TG_PIDS+=("$RUNNER")
wait_for 10 curl -sf "${GW[@]}" "$URL/healthz" || { tap_fail "runner starts" "$(cat "$LOG")"; exit 1; }

# body TRACE DURATION PROGRAM POD...   (POD = ns/name/uid/qos)
body() {
	python3 - "$@" <<'EOF'
import json, sys
trace, dur, prog = sys.argv[1], int(sys.argv[2]), sys.argv[3]
pods = []
for p in sys.argv[4:]:
    ns, name, uid, qos = p.split("/")
    pods.append({"namespace": ns, "name": name, "uid": uid, "qos": qos})
print(json.dumps({"trace": trace, "program": prog, "canonical": __import__("subprocess").run(["tracegate", "policy", "print", "-e", prog], capture_output=True, text=True).stdout or "unparsed", "params": [], "duration": dur, "pods": pods,
                  "limits": {"maxMapEntries": 4096, "eventsPerSecond": 0, "maxDuration": 300, "cpuBudget": 0}}))
EOF
}
# session BODYFILE OUT: POST, headers into OUT.h, stream into OUT
session() {
	timeout 30 curl -sS -N "${GW[@]}" -D "$2.h" -o "$2" -H 'Content-Type: application/json' \
		--data-binary @"$1" "$URL/v1/sessions" 2>"$2.err"
}
# session_bg BODYFILE OUT: the same in the background; $! is curl itself
session_bg() {
	curl -sS -N "${GW[@]}" -D "$2.h" -o "$2" -H 'Content-Type: application/json' \
		--data-binary @"$1" "$URL/v1/sessions" 2>"$2.err" &
}
# py OUTFILE EXPR: EXPR over lines = the NDJSON records
py() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
}
# The BPF programs a process holds, by id (from its fds).
prog_ids_of() {
	local pid=$1 f
	for f in /proc/"$pid"/fdinfo/*; do
		sed -n 's/^prog_id:[[:space:]]*//p' "$f" 2>/dev/null
	done | sort -u
}
loaded() { # loaded ID...: succeeds when any of them is still in the kernel
	local ids
	ids=$(bpftool prog show 2>/dev/null | sed -n 's/^\([0-9]*\): .*/\1/p')
	local id
	for id in "$@"; do grep -qx "$id" <<<"$ids" && return 0; done
	return 1
}
session_child() { pgrep -P "$RUNNER" | head -1; }

PROG_OPEN='tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'$MARK_A'" || str(args->filename) == "'$MARK_G'"/ { printf("%s %s\n", comm, str(args->filename)); @opens[str(args->filename)] = count(); }'

# ---- TLS: only the gateway's certificate -----------------------------------
check "healthz answers the gateway" bash -c "curl -sf $(printf '%q ' "${GW[@]}") '$URL/healthz' | grep -qx ok"
if timeout 5 curl -s --cacert "$TG_CERTS/ca.crt" --cert "$TG_CERTS/other-client.crt" \
	--key "$TG_CERTS/other-client.key" "$URL/healthz" -o /dev/null; then
	tap_fail "a client certificate with another CN is refused"
else
	tap_ok "a client certificate with another CN is refused"
fi
if timeout 5 curl -s --cacert "$TG_CERTS/ca.crt" "$URL/healthz" -o /dev/null; then
	tap_fail "a client without a certificate is refused"
else
	tap_ok "a client without a certificate is refused"
fi
check "the runner logs the refused handshakes" grep -q "TLS refused" "$LOG"

# ---- one session over two pods of both layouts -----------------------------
body t-both 3 "$PROG_OPEN" "team-a/web-a/$UID_A/Burstable" "team-g/web-g/$UID_G/Guaranteed" >"$TG_WORK/both.json"
session "$TG_WORK/both.json" "$TG_WORK/both.out"
check "session answers 200 NDJSON" grep -qi '^content-type: application/x-ndjson' "$TG_WORK/both.out.h"
check "status compiled, attaching (N of M), then attached" py "$TG_WORK/both.out" \
	'(lambda st: [s["phase"] for i, s in enumerate(st) if not i or st[i - 1]["phase"] != s["phase"]]
	  == ["compiled", "attaching", "attached"]
	  and all(0 <= s["done"] <= s["probes"] for s in st if s["phase"] == "attaching")
	  and [s for s in st if s["phase"] == "attaching"][0]["done"] == 0)(
	  [l for l in lines if l["type"] == "status" and l["phase"] != "alive"])'
check "a keep-alive (status alive) once compiled and loaded" py "$TG_WORK/both.out" \
	'(lambda ph: "alive" in ph and ph.index("alive") > ph.index("compiled"))(
	  [l["phase"] for l in lines if l["type"] == "status"])'
check "output from the systemd Burstable pod, labelled" py "$TG_WORK/both.out" \
	'any(l["type"]=="output" and l["pod"]=="team-a/web-a" and "marker-a" in l["text"] for l in lines)'
check "output from the cgroupfs Guaranteed pod, labelled" py "$TG_WORK/both.out" \
	'any(l["type"]=="output" and l["pod"]=="team-g/web-g" and "marker-g" in l["text"] for l in lines)'
check "nothing from a process outside the pods" py "$TG_WORK/both.out" \
	'not any("outsider" in l.get("text","") for l in lines)'
check "every output names its node" py "$TG_WORK/both.out" \
	'all(l.get("node")=="node-1" for l in lines if l["type"]=="output")'
check "the map comes before end" py "$TG_WORK/both.out" \
	'[l["type"] for l in lines][-2:] == ["map","end"] and lines[-2]["name"]=="@opens"'
check "end: reason duration with counts" py "$TG_WORK/both.out" \
	'lines[-1]["reason"]=="duration" and lines[-1]["events"]>0 and "drops" in lines[-1] and "cpuNs" in lines[-1] and lines[-1]["exitCode"]==0'
check "one log line for the session" bash -c "grep -c 'session t-both pods=team-a/web-a,team-g/web-g outcome=duration' '$LOG' | grep -qx 1"

# ---- refusals ----------------------------------------------------------------
body t-missing 2 "$PROG_OPEN" "team-a/web-a/$UID_A/Burstable" "team-a/gone/abcdef01-0000-4000-8000-00000000dead/BestEffort" >"$TG_WORK/missing.json"
session "$TG_WORK/missing.json" "$TG_WORK/missing.out"
check "a pod missing on this node: 404 NotFound naming it" py "$TG_WORK/missing.out" \
	'lines[0]["kind"]=="Status" and lines[0]["code"]==404 and lines[0]["reason"]=="NotFound" and "abcdef01-0000-4000-8000-00000000dead" in lines[0]["message"] and "team-a/gone" in lines[0]["message"]'
check "404 status line" grep -q '^HTTP/1.1 404' "$TG_WORK/missing.out.h"
check "nothing compiled for the missing pod" bash -c "! grep -q 'session t-missing.*outcome=duration' '$LOG'"

printf '{"trace":"t-bad","program":"x","canonical":"x","pods":[{"namespace":"a","name":"b","uid":"../../etc"}]}' >"$TG_WORK/baduid.json"
session "$TG_WORK/baduid.json" "$TG_WORK/baduid.out"
check "a hostile pod uid: 400 naming the uid" py "$TG_WORK/baduid.out" \
	'lines[0]["code"]==400 and "uid" in lines[0]["message"]'
printf '{"trace":"t-nocanon","program":"BEGIN { exit(); }","pods":[{"namespace":"a","name":"b","uid":"c"}]}' >"$TG_WORK/nocanon.json"
session "$TG_WORK/nocanon.json" "$TG_WORK/nocanon.out"
check "a session without the form the gateway decided on: 400 naming it" py "$TG_WORK/nocanon.out" \
	'lines[0]["code"]==400 and "canonical" in lines[0]["message"]'
printf '{"trace":"t-bad2","program":' >"$TG_WORK/broken.json"
session "$TG_WORK/broken.json" "$TG_WORK/broken.out"
check "a broken body: 400 BadRequest" py "$TG_WORK/broken.out" 'lines[0]["code"]==400 and lines[0]["reason"]=="BadRequest"'
body t-parse 2 'tracepoint:syscalls:sys_enter_openat { printf( }' "team-a/web-a/$UID_A/Burstable" >"$TG_WORK/parse.json"
session "$TG_WORK/parse.json" "$TG_WORK/parse.out"
check "a program that does not parse: 400 before any stream" py "$TG_WORK/parse.out" \
	'lines[0]["kind"]=="Status" and lines[0]["code"]==400'
head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' ' ' >"$TG_WORK/huge.json"
session "$TG_WORK/huge.json" "$TG_WORK/huge.out"
check "a body over 1 MiB: 413" grep -q '^HTTP/1.1 413' "$TG_WORK/huge.out.h"
timeout 5 curl -s "${GW[@]}" -D "$TG_WORK/get.h" -o "$TG_WORK/get.json" "$URL/v1/sessions"
got=$(json_get '(d["node"], d["items"])' <"$TG_WORK/get.json" 2>/dev/null)
check "GET /v1/sessions: 200, the sessions running and whose ($got)" \
	bash -c "grep -q '^HTTP/1.1 200' '$TG_WORK/get.h' && [ \"$got\" = \"('node-1', [])\" ]"
timeout 5 curl -s "${GW[@]}" -X PUT --data-binary '' -D "$TG_WORK/put.h" -o /dev/null "$URL/v1/sessions"
check "PUT /v1/sessions: 405" grep -q '^HTTP/1.1 405' "$TG_WORK/put.h"
timeout 5 curl -s "${GW[@]}" -D "$TG_WORK/nf.h" -o /dev/null "$URL/nope"
check "unknown path: 404" grep -q '^HTTP/1.1 404' "$TG_WORK/nf.h"
# raw_head BYTES: the runner's answer to a request sent as these bytes
# (python escapes), as "CODE REASON MESSAGE".  Its head parser is
# lib/httphead.c, strict because the runner is root.
raw_head() {
	timeout 10 python3 - "$PORT" "$TG_CERTS" "$1" <<'PY'
import json, socket, ssl, sys
port, certs = int(sys.argv[1]), sys.argv[2]
head = sys.argv[3].encode().decode("unicode_escape").encode("latin-1")
ctx = ssl.create_default_context(cafile=certs + "/ca.crt")
ctx.load_cert_chain(certs + "/gateway-client.crt", certs + "/gateway-client.key")
ctx.check_hostname = False
with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1") as s:
    s.sendall(head)
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
status, _, body = data.partition(b"\r\n\r\n")
st = json.loads(body)
print(status.split(b" ")[1].decode(), st["reason"], st["message"])
PY
}
while IFS='|' read -r what want head <&3; do
	got=$(raw_head "$head" 2>&1)
	check "a head with $what: $want ($got)" bash -c '[[ "$1" == "$2"* ]]' _ "$got" "$want"
done 3<<'CASES'
a folded line|400 BadRequest header line folding|POST /v1/sessions HTTP/1.1\r\nContent-Length: 2\r\nX-A: a\r\n b\r\n\r\n{}
two Content-Length|400 BadRequest Content-Length is given twice|POST /v1/sessions HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}
Content-Length and Transfer-Encoding|400 BadRequest Content-Length together with Transfer-Encoding|POST /v1/sessions HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}
Transfer-Encoding|501 NotImplemented Transfer-Encoding|POST /v1/sessions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n
no Content-Length|411 LengthRequired Content-Length is required|POST /v1/sessions HTTP/1.1\r\n\r\n
a bare LF|400 BadRequest header line has a bare CR, LF or NUL|GET /healthz HTTP/1.1\r\nA: b\nC: d\r\n\r\n
a control byte in the target|400 BadRequest request target has a character|GET /healthz\x01 HTTP/1.1\r\n\r\n
CASES

# ---- the session limit ---------------------------------------------------------
body t-long1 20 "$PROG_OPEN" "team-a/web-a/$UID_A/Burstable" >"$TG_WORK/long1.json"
body t-long2 20 "$PROG_OPEN" "team-g/web-g/$UID_G/Guaranteed" >"$TG_WORK/long2.json"
session_bg "$TG_WORK/long1.json" "$TG_WORK/long1.out"
L1=$!
session_bg "$TG_WORK/long2.json" "$TG_WORK/long2.out"
L2=$!
TG_PIDS+=("$L1" "$L2")
wait_for 15 grep -q '"attached"' "$TG_WORK/long1.out"
wait_for 15 grep -q '"attached"' "$TG_WORK/long2.out"
body t-third 2 "$PROG_OPEN" "team-a/web-a/$UID_A/Burstable" >"$TG_WORK/third.json"
session "$TG_WORK/third.json" "$TG_WORK/third.out"
check "a session beyond --max-sessions: 429 TooManyRequests" py "$TG_WORK/third.out" \
	'lines[0]["code"]==429 and lines[0]["reason"]=="TooManyRequests"'

# ---- a client killed mid-stream ---------------------------------------------------
mapfile -t KIDS < <(pgrep -P "$RUNNER")
IDS=()
for k in "${KIDS[@]}"; do mapfile -t -O "${#IDS[@]}" IDS < <(prog_ids_of "$k"); done
kill -9 "$L1" "$L2" 2>/dev/null
wait "$L1" "$L2" 2>/dev/null
if [ "${#IDS[@]}" -eq 0 ]; then
	tap_fail "the sessions held programs while attached (none found in the children's fds)"
else
	tap_ok "the sessions held ${#IDS[@]} programs while attached"
	T0=$(date +%s%N)
	for ((i = 0; i < 40; i++)); do loaded "${IDS[@]}" || break; sleep 0.05; done
	printf '# programs gone %d ms after the clients were killed\n' $((($(date +%s%N) - T0) / 1000000))
	if loaded "${IDS[@]}"; then
		tap_fail "clients killed mid-stream: their programs are gone within 2 s" "still loaded: ${IDS[*]}"
	else
		tap_ok "clients killed mid-stream: their programs are gone within 2 s"
	fi
fi
check "the killed sessions end with reason stop" wait_for 5 bash -c \
	"grep -q 'session t-long1 .*outcome=stop' '$LOG' && grep -q 'session t-long2 .*outcome=stop' '$LOG'"
check "the session children are reaped" wait_for 5 bash -c "[ -z \"\$(pgrep -P $RUNNER)\" ]"

# ---- a session child that crashes ---------------------------------------------------
body t-crash 0 "$PROG_OPEN" "team-a/web-a/$UID_A/Burstable" >"$TG_WORK/crash.json"
session_bg "$TG_WORK/crash.json" "$TG_WORK/crash.out"
L3=$!
TG_PIDS+=("$L3")
wait_for 15 grep -q '"attached"' "$TG_WORK/crash.out"
CHILD=$(session_child)
mapfile -t IDS < <([ -n "$CHILD" ] && prog_ids_of "$CHILD")
[ -n "$CHILD" ] && kill -SEGV "$CHILD"
wait "$L3" 2>/dev/null
check "a crashed session child is reaped and logged" wait_for 5 grep -q 'session t-crash pods=team-a/web-a outcome=crashed' "$LOG"
if [ "${#IDS[@]}" -gt 0 ] && ! wait_for 2 bash -c "$(declare -f loaded); ! loaded ${IDS[*]}"; then
	tap_fail "a crashed session leaves no program loaded" "still loaded: ${IDS[*]}"
elif [ "${#IDS[@]}" -eq 0 ]; then
	tap_fail "a crashed session leaves no program loaded" "found no programs before the crash"
else
	tap_ok "a crashed session leaves no program loaded"
fi
check "the runner still serves after all that" bash -c "curl -sf $(printf '%q ' "${GW[@]}") '$URL/healthz' | grep -qx ok"

kill "$RUNNER"
check "the runner stops on SIGTERM" wait_for 5 bash -c "! kill -0 $RUNNER 2>/dev/null"
