#!/usr/bin/env bash
# Every request the gateway answers leaves one audit record, refusals
# before authentication included (docs/audit.md, "Refusals before
# authentication"), and a flood of them cannot grow the log faster than
# audit.refusals allows:
#  - unknown path 404, wrong method 405, bad query 400, body too large
#    413, head too large 431, a head that is no HTTP at all: one record
#    each, with its code, Status reason and message, verb, requestURI,
#    sourceIPs, userAgent, user system:anonymous, and its Audit-ID header;
#  - hostile bytes in the request line and User-Agent keep the line JSON
#    and the chain intact;
#  - /healthz is not audited; a wrong method on it is;
#  - a flood of a few thousand garbage requests: at most the buckets'
#    burst plus rate records, a summary record counting every one that
#    was not written (written + counted = answered), authenticated
#    records (an allowed dry run, a denial) all written, the log within
#    the documented bytes, `tracegate audit verify` passes;
#  - an audit log that cannot be written: the refusal is still answered,
#    and the gateway says so in its log.
source "$(dirname "$0")/lib.sh"
need_bpf "gateway audit refusals" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
AUDIT_MNT=
cleanup() {
	if [ -n "$AUDIT_MNT" ] && mountpoint -q "$AUDIT_MNT"; then
		umount "$AUDIT_MNT" || umount -l "$AUDIT_MNT"
	fi
	stack_stop
}
trap 'if [ "$BASHPID" = "$$" ]; then cleanup; fi' EXIT
tap_ok "stack starts"

# The limits this test runs with (docs/audit.md: defaults but for the
# summary interval, made short so the test need not wait a minute).
SRC_RATE=1 SRC_BURST=10 RATE=2 BURST=20 SUMMARY_S=1
MAX_RECORD=8192   # GW_EVENT_MAX_REFUSAL_RECORD

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
	tracegate serve --verbose --config "$TG_WORK/gateway.json" 2>>"$TG_WORK/gateway.log" &
	TG_GATEWAY_PID=$!
	TG_PIDS+=("$TG_GATEWAY_PID")
	wait_for 10 curl -sf --cacert "$TG_CERTS/ca.crt" "$TG_GATEWAY/healthz" -o /dev/null
}
gw_restart "{\"path\": \"$TG_AUDIT\", \"refusals\": {\"perSourceRate\": $SRC_RATE,
	\"perSourceBurst\": $SRC_BURST, \"rate\": $RATE, \"burst\": $BURST,
	\"summarySeconds\": $SUMMARY_S}}"

TRACES=$TG_GATEWAY/apis/tracegate.dev/v1alpha1/namespaces/team-a/traces
hdrs=$TG_WORK/headers
nrec() { local n; n=$(grep -c . "$TG_AUDIT" 2>/dev/null); echo "${n:-0}"; }   # grep -c prints 0 and fails on an empty file
# req NAME CURL-ARGS...: one request; sets CODE and ID (its Audit-ID header)
req() {
	local name=$1
	shift
	CODE=$(curl -s --cacert "$TG_CERTS/ca.crt" -D "$hdrs" -o "$TG_WORK/body" -w '%{http_code}' "$@")
	ID=$(sed -n 's/^Audit-ID: *\([0-9a-f-]*\).*/\1/Ip' "$hdrs" | tr -d '\r')
}
# rec ID EXPR: EXPR (python, over the record r) for the one record of ID
rec() {
	python3 - "$TG_AUDIT" "$1" "$2" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
mine = [r for r in recs if r.get("auditID") == sys.argv[2]]
if len(mine) != 1:
    print("%d records of %s" % (len(mine), sys.argv[2]))
    sys.exit(1)
r = mine[0]
print(eval(sys.argv[3]))
EOF
}
# expect_record NAME CODE REASON VERB URI: the request just made has
# exactly one record, saying all that
expect_record() {
	local name=$1 code=$2 reason=$3 verb=$4 uri=$5 got want
	if [ "$CODE" != "$code" ] || [ -z "$ID" ]; then
		tap_fail "$name: $code with an Audit-ID" "got $CODE, Audit-ID \"$ID\"" "$(cat "$TG_WORK/body")"
		return
	fi
	got=$(rec "$ID" '(r["responseStatus"]["code"], r["responseStatus"]["reason"], r["verb"], r["requestURI"], r["user"]["username"], r["user"]["groups"], r["sourceIPs"], r["annotations"]["authorization.k8s.io/decision"], r["stage"], r["responseStatus"]["message"] == json.load(open("'"$TG_WORK/body"'"))["message"], "userAgent" in r)')
	want="($code, '$reason', '$verb', '$uri', 'system:anonymous', ['system:unauthenticated'], ['127.0.0.1'], 'forbid', 'ResponseStarted', True, True)"
	if [ "$got" = "$want" ]; then
		tap_ok "$name: one record with code $code, reason $reason, verb $verb, its URI, the Status message"
	else
		tap_fail "$name: one record with code $code, reason $reason, verb $verb, its URI, the Status message" \
			"want $want" "got  $got"
	fi
}

# ---- the five kinds, and a head that is no HTTP --------------------------------
before=$(nrec)
req 404 "$TG_GATEWAY/no/such/path?x=1" -A 'curl-e2e'
expect_record "unknown path" 404 NotFound get "/no/such/path?x=1"
check "a path that names no resource has no objectRef" \
	test "$(rec "$ID" '"objectRef" in r')" = False

req 405 -X PUT --data-binary "" "$TRACES"
expect_record "wrong method" 405 MethodNotAllowed update "/apis/tracegate.dev/v1alpha1/namespaces/team-a/traces"
check "the 405 names the resource and namespace" \
	test "$(rec "$ID" '(r["objectRef"]["resource"], r["objectRef"]["namespace"])')" = "('traces', 'team-a')"

req 400 -X POST -H 'Content-Type: application/json' -d '{}' "$TRACES?dryRun=Maybe"
expect_record "bad query" 400 BadRequest create "/apis/tracegate.dev/v1alpha1/namespaces/team-a/traces?dryRun=Maybe"

head -c $((1024 * 1024 + 1)) /dev/zero >"$TG_WORK/big"
req 413 -X POST -H 'Content-Type: application/json' --data-binary @"$TG_WORK/big" "$TRACES"
expect_record "body too large" 413 RequestEntityTooLarge create "/apis/tracegate.dev/v1alpha1/namespaces/team-a/traces"
check "the 413 says which limit" grep -q maxBodyBytes <<<"$(rec "$ID" 'r["responseStatus"]["message"]')"

req 431 -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" "$TG_GATEWAY/big-head"
expect_record "headers too large" 431 RequestHeaderFieldsTooLarge get "/big-head"
check "the 431 was refused by the HTTP layer, before authentication" \
	test "$(rec "$ID" '(r["tracegate"]["refusedBy"], r["tracegate"]["authentication"])')" = "('http', 'not attempted')"

# Raw TLS: bytes no client library sends.  A request line with NUL, a
# quote, a backslash, DEL and invalid UTF-8; a User-Agent with an escape
# sequence and invalid UTF-8; then a head that is TLS-looking junk.
python3 - "$TG_GATEWAY_PORT" "$TG_CERTS/ca.crt" >"$TG_WORK/raw" <<'EOF'
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
def send(data):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
    s.sendall(data)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (ssl.SSLError, OSError):
        pass
    s.close()
    head = out.split(b"\r\n\r\n")[0].decode("latin-1")
    code = head.split(" ")[1] if head.startswith("HTTP/1.1 ") else "none"
    aid = [l.split(":", 1)[1].strip() for l in head.split("\r\n") if l.lower().startswith("audit-id:")]
    print(code, aid[0] if aid else "-")
send(b'GET /x\x00"\\\x7f\xff\xfe\r\n{"seq":1}/ HTTP/1.1\r\nUser-Agent: \x1b[31mevil\xff\xc0\xaf\r\n\r\n')
send(b'GET /ok HTTP/1.1\r\nUser-Agent: \xe2\x80\xa8bad\xff"\\ua\r\n\r\n')
send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n")
EOF
mapfile -t raw <"$TG_WORK/raw"
read -r CODE ID <<<"${raw[0]}"
if [ "$CODE" = 400 ] && [ "$ID" != - ]; then
	got=$(rec "$ID" '(r["responseStatus"]["code"], r["verb"], r["requestURI"], r["userAgent"])')
	want=$(python3 -c 'print(repr((400, "get", "/x%00\"\\%7F%FF%FE", "\ufffd[31mevil\ufffd\ufffd\ufffd")))')
	if [ "$got" = "$want" ]; then
		tap_ok "a request line with NUL, quote, backslash, DEL, invalid UTF-8: 400, one record, bytes escaped"
	else
		tap_fail "a request line with NUL, quote, backslash, DEL, invalid UTF-8: 400, one record, bytes escaped" \
			"want $want" "got  $got"
	fi
else
	tap_fail "a request line with hostile bytes is answered 400 with an Audit-ID" "${raw[0]}"
fi
read -r CODE ID <<<"${raw[1]}"
got=$( [ "$ID" != - ] && rec "$ID" '(r["responseStatus"]["code"], r["userAgent"])')
want=$(python3 -c 'print(repr((404, "\ufffdbad\ufffd\"\\ua")))')
check "a User-Agent with U+2028, invalid UTF-8, quote, backslash: replaced and escaped ($got)" \
	test "$got" = "$want"
read -r CODE ID <<<"${raw[2]}"
check "TLS-looking junk inside TLS: 400 and one record" \
	test "$CODE" = 400 -a "$( [ "$ID" != - ] && rec "$ID" 'r["responseStatus"]["reason"]')" = BadRequest

# ---- /healthz ---------------------------------------------------------------------
n0=$(nrec)
for _ in 1 2 3; do
	curl -sf --cacert "$TG_CERTS/ca.crt" "$TG_GATEWAY/healthz" -o /dev/null
done
check "GET /healthz is not audited (docs/audit.md)" test "$(nrec)" -eq "$n0"
req healthz -X DELETE "$TG_GATEWAY/healthz"
expect_record "DELETE /healthz" 405 MethodNotAllowed delete "/healthz"

n1=$(nrec)
check "one record per refused request, nothing more ($((n1 - before)) for 9)" test $((n1 - before)) -eq 9
check "tracegate audit verify passes on the hostile records" tracegate audit verify "$TG_AUDIT"

# ---- a flood ---------------------------------------------------------------------
# Whatever the buckets hold now, it is never more than their burst: the
# bound below holds from any start.
start_bytes=$(stat -c %s "$TG_AUDIT")
start_rec=$(nrec)
NFLOOD=3000
python3 - "$TG_GATEWAY_PORT" "$TG_CERTS/ca.crt" "$NFLOOD" >"$TG_WORK/flood" <<'EOF' &
import os, random, socket, ssl, sys, time
from concurrent.futures import ThreadPoolExecutor
port, ca, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(cafile=ca)
kinds = [
    lambda i: b"GET /flood-%d HTTP/1.1\r\nUser-Agent: flood\r\n\r\n" % i,                      # 404
    lambda i: bytes(random.randrange(1, 256) for _ in range(120)).replace(b"\n", b"!") + b"\r\n\r\n",  # 400
    lambda i: (b"POST /apis/tracegate.dev/v1alpha1/namespaces/team-a/traces HTTP/1.1\r\n"
               b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"),            # 401, no token
    lambda i: b"BR\x01W /\xff\x00 HTTP/1.1\r\n\r\n",                                           # 400
    lambda i: b"DELETE /apis/tracegate.dev/v1alpha1/namespaces/team-a/traces HTTP/1.1\r\n\r\n",  # 405
]
def one(i):
    for attempt in range(5):
        try:
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30),
                                server_hostname="127.0.0.1")
            s.sendall(kinds[i % len(kinds)](i))
            out = b""
            try:
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    out += b
            except (ssl.SSLError, OSError):
                pass
            s.close()
            if out.startswith(b"HTTP/1.1 "):
                return out[9:12].decode()
            return "none"
        except OSError:
            time.sleep(0.05)   # maxConnections: the listener paused
    return "none"
t0 = time.time()
with ThreadPoolExecutor(16) as ex:
    codes = list(ex.map(one, range(n)))
t1 = time.time()
print("%.3f %.3f %d %d" % (t0, t1, sum(c != "none" for c in codes), codes.count("none")))
print(" ".join("%s=%d" % (c, codes.count(c)) for c in sorted(set(codes))))
EOF
floodpid=$!
# Meanwhile, authenticated requests: an allowed dry run and a denial.
# Their records are never suppressed.
grew() { [ "$(nrec)" -gt "$start_rec" ]; }
wait_for 20 grew
kt alice check pod/web-a -n team-a -e 'tracepoint:syscalls:sys_enter_openat { @n = count(); }' \
	>"$TG_WORK/check.out" 2>&1
check_rc=$?
kt alice run pod/web-b -n team-b -e 'BEGIN { exit(); }' >"$TG_WORK/deny.out" 2>&1
deny_rc=$?
wait "$floodpid"
read -r t0 t1 answered unanswered <"$TG_WORK/flood"
codes=$(sed -n 2p "$TG_WORK/flood")
elapsed=$(python3 -c "import math; print(math.ceil($t1 - $t0))")
echo "# flood: $NFLOOD requests in ${elapsed}s, answered $answered ($codes), unanswered $unanswered"
check "the flood was answered, every request ($answered of $NFLOOD)" test "$answered" -eq "$NFLOOD"
check "the allowed dry run went through during the flood (rc=$check_rc)" test "$check_rc" -eq 0
check "the denial was answered during the flood (rc=$deny_rc)" test "$deny_rc" -ne 0

# The summary of the flood's last second comes within summarySeconds.
accounted() {
	python3 - "$TG_AUDIT" "$start_rec" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][int(sys.argv[2]):]
anon = [r for r in recs if r["user"]["username"] == "system:anonymous"]
summ = [r for r in anon if "suppressed" in r.get("tracegate", {})]
written = [r for r in anon if "suppressed" not in r.get("tracegate", {})]
print(len(written), sum(r["tracegate"]["suppressed"]["count"] for r in summ), len(summ))
EOF
}
all_accounted() {
	local w s n
	read -r w s n < <(accounted)
	[ $((w + s)) -ge "$NFLOOD" ]
}
wait_for $((SUMMARY_S * 3 + 5)) all_accounted
read -r written suppressed nsum < <(accounted)
ticks=$(python3 -c "import math, time; print(math.ceil((time.time() - $t0) / $SUMMARY_S) + 1)")
end_bytes=$(stat -c %s "$TG_AUDIT")
echo "# flood records: $written written, $suppressed counted in $nsum summary records, $((end_bytes - start_bytes)) bytes"
check "every refused request is accounted for: $written records + $suppressed counted = $NFLOOD" \
	test $((written + suppressed)) -eq "$NFLOOD"
bound=$((BURST + RATE * (elapsed + 1)))
check "records written during the flood within burst + rate x seconds ($written <= $bound)" \
	test "$written" -le "$bound"
check "one source: within its own bucket too ($written <= $((SRC_BURST + SRC_RATE * (elapsed + 1))))" \
	test "$written" -le $((SRC_BURST + SRC_RATE * (elapsed + 1)))
check "at least one summary record, at most one per source per summarySeconds ($nsum <= $ticks)" \
	test "$nsum" -ge 1 -a "$nsum" -le "$ticks"
sum_text=$(python3 - "$TG_AUDIT" "$start_rec" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][int(sys.argv[2]):]
s = [r for r in recs if "suppressed" in r.get("tracegate", {})]
print(s[0]["annotations"]["authorization.k8s.io/reason"])
print(" ".join(sorted(set(r["tracegate"]["suppressed"]["source"] for r in s))),
      sorted(set(c for r in s for c in r["tracegate"]["suppressed"]["codes"])))
EOF
)
echo "# $(head -1 <<<"$sum_text")"
check "a summary says \"N similar records suppressed from 127.0.0.1 between T1 and T2\"" \
	grep -Eq '^[0-9]+ similar records suppressed from 127.0.0.1 between [0-9T:.Z-]+ and [0-9T:.Z-]+' <<<"$sum_text"
check "the summary counts the codes (400, 401, 404, 405)" \
	grep -q "127.0.0.1 \['400', '401', '404', '405'\]" <<<"$sum_text"
# Authenticated: every record written (two for the dry run, which runs on
# the node up to the load: its decision and its outcome; one for the denial).
auth=$(python3 - "$TG_AUDIT" "$start_rec" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][int(sys.argv[2]):]
a = [r for r in recs if r["user"]["username"] != "system:anonymous"]
print(sorted((r["annotations"]["authorization.k8s.io/decision"], r["responseStatus"]["code"]) for r in a))
EOF
)
check "the authenticated requests' records are all there ($auth)" \
	test "$auth" = "[('allow', 200), ('allow', 200), ('forbid', 403)]"
# docs/audit.md: worst case (burst + rate x seconds) records of at most
# GW_EVENT_MAX_REFUSAL_RECORD bytes, plus the summaries, plus what the
# authenticated requests wrote.
max_bytes=$(( (bound + nsum) * MAX_RECORD + 2 * 16384 ))
check "the log grew within the documented bound ($((end_bytes - start_bytes)) <= $max_bytes bytes)" \
	test $((end_bytes - start_bytes)) -le "$max_bytes"
check "tracegate audit verify passes after the flood" tracegate audit verify "$TG_AUDIT"
check "the gateway still serves" curl -sf --cacert "$TG_CERTS/ca.crt" "$TG_GATEWAY/healthz" -o /dev/null

# ---- an audit log that cannot be written ---------------------------------------------
AUDIT_MNT=$TG_WORK/auditfs
mkdir -p "$AUDIT_MNT"
if mount -t tmpfs -o size=8k tmpfs "$AUDIT_MNT"; then
	gw_restart "{\"path\": \"$AUDIT_MNT/audit.log\"}"
	dd if=/dev/zero of="$AUDIT_MNT/fill" bs=1k count=64 2>/dev/null
	req full "$TG_GATEWAY/no/such/path"
	check "with the audit log full, a refusal is still answered (404, no Audit-ID)" \
		test "$CODE" = 404 -a -z "$ID"
	check "and the gateway logs that its record was not written" \
		wait_for 5 grep -q 'refusal of get /no/such/path (code 404) not recorded: .*No space' "$TG_WORK/gateway.log"
	kill "$TG_GATEWAY_PID" 2>/dev/null
	wait "$TG_GATEWAY_PID" 2>/dev/null
	TG_GATEWAY_PID=
	umount "$AUDIT_MNT" && AUDIT_MNT=
else
	tap_fail "a tmpfs for the audit log can be mounted" "mount failed"
fi
