#!/usr/bin/env bash
# Aggregated API mode (issue 10): the real kubectl reaches tracegate through
# kubesim's aggregator with nothing but its kubeconfig: a user whose only
# credential is a client certificate (CN alice, O team-a-devs) runs and
# checks a trace; kubesim proxies /apis/tracegate.dev/... to the gateway
# with its front-proxy client certificate and X-Remote-* headers, and the
# gateway takes the user from them after checking that certificate against
# the request-header CA it read from kube-system/extension-apiserver-
# authentication.  Identity headers from anyone else are refused (401, an
# audit record), as is a certificate of that CA whose CN is not allowed;
# a rotated request-header CA in the ConfigMap is picked up.
source "$(dirname "$0")/lib.sh"
need_bpf "aggregated" || exit 0
export TG_AGGREGATED=1
stack_start || { tap_fail "aggregated: stack starts" "$(tail -5 "$TG_WORK"/*.log "$TG_WORK"/*.stderr)"; exit 1; }
out=$TG_WORK/out err=$TG_WORK/err
PROG='BEGIN { printf("hello from %s\n", "aggregated"); exit(); }'
C=(--cacert "$TG_CERTS/ca.crt")
TRACES=/apis/tracegate.dev/v1alpha1/namespaces/team-a/traces
cert() { printf -- '--cert\n%s\n--key\n%s\n' "$TG_CERTS/$1.crt" "$TG_CERTS/$1.key"; }
mapfile -t FP < <(cert front-proxy-client)
# post BASE_URL[?QUERY] CURL-ARGS...: a trace of web-a POSTed there; prints
# the HTTP code, the answer is in $out
post() {
	local url=$1
	shift
	curl -s -o "$out" -w '%{http_code}' "${C[@]}" -X POST -H 'Content-Type: application/json' "$@" \
		--data '{"target":"pod/web-a","program":"BEGIN { exit(); }"}' "$url"
}

check "no gateway URL anywhere: TRACEGATE_URL unset, the kubeconfig names only kubesim" \
	bash -c "[ -z \"\${TRACEGATE_URL:-}\" ] && ! grep -q '$TG_GATEWAY_PORT' '$TG_WORK/kubeconfig'"

# ---- discovery through the aggregator ---------------------------------------
KUBECONFIG=$TG_WORK/kubeconfig kubectl api-resources --context alice-cert --api-group tracegate.dev \
	>"$out" 2>"$err"
rc=$?
check "kubectl api-resources lists traces and nodetraces through the aggregator (rc=$rc)" \
	bash -c "[ $rc = 0 ] && grep -Eq '^traces +tracegate.dev/v1alpha1 +true +Trace' '$out' &&
		 grep -Eq '^nodetraces +tracegate.dev/v1alpha1 +false +NodeTrace' '$out'" ||
	{ cat "$out" "$err" | sed 's/^/#   /'; }
body=$(curl -s "${C[@]}" $(cert user-alice) "$TG_API/apis/tracegate.dev/v1alpha1")
check "the gateway's APIResourceList comes through kubesim" \
	bash -c "python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d[\"kind\"]==\"APIResourceList\"; assert {r[\"name\"] for r in d[\"resources\"]}=={\"traces\",\"nodetraces\"}' '$body'"

# ---- a client-certificate-only user runs and checks ------------------------------
kt alice-cert run pod/web-a -n team-a -e "$PROG" >"$out" 2>"$err"
rc=$?
check "alice (client certificate only) runs a trace through the aggregator (rc=$rc)" \
	bash -c "[ $rc = 0 ] && grep -qx 'hello from aggregated' '$out'" ||
	{ cat "$err" | sed 's/^/#   /'; }
got=$(audit_py '[(r["user"]["username"], r["user"]["groups"], r["tracegate"].get("authentication")) for r in recs if r["stage"] == "ResponseStarted" and r["annotations"].get("authorization.k8s.io/decision") == "allow" and r["tracegate"].get("dryRun") is None]')
check "the audit record names alice with her certificate's group, from the front proxy ($got)" \
	test "$got" = "[('alice', ['team-a-devs', 'system:authenticated'], 'front-proxy')]"
check "kubesim proxied it as alice to the gateway" \
	grep -Eq ' POST /apis/tracegate.dev/v1alpha1/namespaces/team-a/traces alice 200 proxied=https://127.0.0.1:' \
	"$TG_WORK/kubesim.log"

kt alice-cert check pod/web-a -n team-a -e "$PROG" >"$out" 2>"$err"
rc=$?
check "alice checks a trace through the aggregator (rc=$rc)" bash -c "[ $rc = 0 ] && grep -q '^allowed' '$out'" ||
	sed 's/^/#   /' "$out" "$err"

kt alice-cert run pod/web-b -n team-b -e "$PROG" >"$out" 2>"$err"
rc=$?
check "alice may not trace in team-b through the aggregator either (rc=$rc)" \
	bash -c "[ $rc = 3 ] && grep -q 'Forbidden' '$err'"

# ---- detached traces through the aggregator, a client certificate only --------------
DPROG='tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$TG_MARK_A"'"/ { printf("open\n"); }'
kt alice-cert run pod/web-a -n team-a --duration 120 --detach -e "$DPROG" >"$out" 2>"$err"
rc=$?
DID=$(sed -n 's|^trace.tracegate.dev/\([0-9a-f-]*\) created$|\1|p' "$out")
check "alice (certificate only) detaches a trace through the aggregator (rc=$rc, ${DID:-no name})" \
	bash -c "[ $rc = 0 ] && [ -n '$DID' ]" || sed 's/^/#   /' "$out" "$err"
check "get lists it Running through the aggregator" \
	wait_for 60 bash -c "KUBECONFIG=$TG_WORK/kubeconfig kubectl trace get --context alice-cert -n team-a | grep -Eq '^$DID +pod/web-a +node-1 +Running '"
check "logs shows what it printed with nobody attached" \
	wait_for 60 bash -c "KUBECONFIG=$TG_WORK/kubeconfig kubectl trace logs --context alice-cert -n team-a $DID | grep -qx open"
kt alice-cert delete -n team-a "$DID" >"$out" 2>"$err"
rc=$?
check "delete through the aggregator stops it (rc=$rc)" \
	bash -c "[ $rc = 0 ] && grep -q 'trace.tracegate.dev \"$DID\" deleted' '$out'" || sed 's/^/#   /' "$out" "$err"
kt alice-cert get -n team-a "$DID" >"$out" 2>"$err"
rc=$?
check "and it is gone: get is NotFound (rc=$rc)" bash -c "[ $rc != 0 ] && grep -q NotFound '$err'" ||
	sed 's/^/#   /' "$out" "$err"
check "kubesim proxied the list, the log and the delete as alice" \
	bash -c "grep -Eq ' GET /apis/tracegate.dev/v1alpha1/namespaces/team-a/traces alice 200 proxied=' '$TG_WORK/kubesim.log' &&
		grep -Eq ' GET /apis/tracegate.dev/v1alpha1/namespaces/team-a/traces/$DID/log alice 200 proxied=' '$TG_WORK/kubesim.log' &&
		grep -Eq ' DELETE /apis/tracegate.dev/v1alpha1/namespaces/team-a/traces/$DID alice 200 proxied=' '$TG_WORK/kubesim.log'"

# an exec credential plugin that hands out a client certificate (as cloud
# plugins do): the same path, no token anywhere
cat >"$TG_WORK/cred-bob" <<EOF
#!/bin/sh
exec python3 -c 'import json; print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": {"clientCertificateData": open("$TG_CERTS/user-bob.crt").read(), "clientKeyData": open("$TG_CERTS/user-bob.key").read()}}))'
EOF
chmod +x "$TG_WORK/cred-bob"
cat >"$TG_WORK/kubeconfig-exec" <<EOF
apiVersion: v1
kind: Config
current-context: bob-exec
clusters:
- name: sim
  cluster: {server: "$TG_API", certificate-authority: "$TG_CERTS/ca.crt"}
users:
- name: bob-exec
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: "$TG_WORK/cred-bob", interactiveMode: Never}
contexts:
- name: bob-exec
  context: {cluster: sim, user: bob-exec}
EOF
KUBECONFIG=$TG_WORK/kubeconfig-exec kubectl trace run pod/web-b -n team-b -e "$PROG" >"$out" 2>"$err"
rc=$?
if [ $rc = 0 ] && grep -qx 'hello from aggregated' "$out"; then
	tap_ok "bob, whose exec plugin gives a client certificate, runs a trace through the aggregator"
else
	tap_fail "bob, whose exec plugin gives a client certificate, runs a trace through the aggregator (rc=$rc)" \
		"$(head -c 1000 "$out")" "$(head -c 1500 "$err")"
fi
got=$(audit_py '[r["user"]["username"] for r in recs if r["stage"] == "ResponseStarted"][-1]')
check "the gateway saw bob ($got)" test "$got" = bob

# a stream through the aggregator, stopped by Ctrl-C (the DELETE goes through it too)
: >"$TG_WORK/stream.out"
kt_bg alice-cert run pod/web-a -n team-a \
	-e 'tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$TG_MARK_A"'"/ { printf("open\n"); }' \
	>"$TG_WORK/stream.out" 2>"$err" &
pid=$!
wait_for 60 grep -q '^open$' "$TG_WORK/stream.out"
check "events stream through the aggregator as they happen" grep -q '^open$' "$TG_WORK/stream.out"
kill -INT "$pid"
wait_for 30 bash -c "! kill -0 $pid"
wait "$pid"
rc=$?
check "Ctrl-C stops it gracefully through the aggregator (DELETE proxied, rc=$rc)" \
	bash -c "[ $rc = 0 ] && grep -Eq ' DELETE /apis/tracegate.dev/v1alpha1/namespaces/team-a/traces/[-0-9a-f]+ alice 200 ' '$TG_WORK/kubesim.log'" ||
	sed 's/^/#   /' "$err"

# a client killed mid-stream: kubesim cuts the proxied request, the gateway
# sees its client leave and ends the trace (endReason client)
: >"$TG_WORK/left.out"
kt_bg alice-cert run pod/web-a -n team-a \
	-e 'tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$TG_MARK_A"'"/ { printf("open\n"); }' \
	>"$TG_WORK/left.out" 2>"$err" &
pid=$!
# a file of its own: $out still holds the previous stream's lines
wait_for 60 grep -q '^open$' "$TG_WORK/left.out"
kill -9 "$pid"
wait "$pid" 2>/dev/null
wait_for 30 grep -q '"endReason":"client"' "$TG_AUDIT"
got=$(audit_py '[r["tracegate"].get("endReason") for r in recs if r["stage"] == "ResponseComplete" and r["verb"] == "create"][-1]')
check "a client killed mid-stream: the aggregator cuts the backend request, the trace ends ($got)" \
	bash -c "[ '$got' = client ] && grep -q ' user-left' '$TG_WORK/kubesim.log'"

# ---- identity headers from anyone but the front proxy ----------------------------
n0=$(audit_py 'len(recs)')
code=$(post "$TG_GATEWAY$TRACES" -H 'X-Remote-User: admin' -H 'X-Remote-Group: system:masters')
check "X-Remote-User: admin straight to the gateway, no client certificate: 401 ($code)" \
	bash -c "[ $code = 401 ] && grep -q 'X-Remote-User' '$out' && grep -q 'front-proxy' '$out'"
got=$(audit_py "[(r['responseStatus']['code'], r['user']['username'], r['annotations']['authorization.k8s.io/decision']) for r in recs[$n0:]]")
check "and an audit record of it, as an unauthenticated refusal ($got)" \
	test "$got" = "[(401, 'system:anonymous', 'forbid')]"

code=$(post "$TG_GATEWAY$TRACES" $(cert other-client) -H 'X-Remote-User: admin')
check "X-Remote-User with a certificate of another CA: 401 naming the request-header CA ($code)" \
	bash -c "[ $code = 401 ] && grep -q 'not verified against the request-header CA' '$out'"

code=$(post "$TG_GATEWAY$TRACES" $(cert front-proxy-other) -H 'X-Remote-User: admin')
check "a request-header CA certificate whose CN is not allowed: 401 ($code)" \
	bash -c "[ $code = 401 ] && grep -q 'CN \\\\\"not-the-front-proxy\\\\\" is not in the allowed names' '$out'" ||
	sed 's/^/#   /' "$out"

code=$(post "$TG_GATEWAY$TRACES" "${FP[@]}" -H 'X-Remote-Group: system:masters')
check "the front proxy's certificate with groups but no user: 401 ($code)" \
	bash -c "[ $code = 401 ] && grep -q 'sent no user' '$out'"

# the front proxy's own certificate, as the aggregator uses it: the user it names
code=$(post "$TG_GATEWAY$TRACES" "${FP[@]}" -H 'X-Remote-User: bob' -H 'X-Remote-Group: team-b-devs' \
	-H 'X-Remote-Extra-Reason%2fWhy: debugging')
got=$(audit_py '[(r["user"]["username"], r["user"].get("extra")) for r in recs][-1]')
check "the front proxy asserting bob: bob's RBAC decides (403 in team-a, $code), extra key decoded ($got)" \
	bash -c "[ $code = 403 ] && [ \"\$1\" = \"('bob', {'reason/why': ['debugging']})\" ]" _ "$got"

# kubesim strips what the user sends: alice cannot become admin through it
code=$(post "$TG_API$TRACES?dryRun=All" $(cert user-alice) \
	-H 'X-Remote-User: admin' -H 'X-Remote-Group: system:masters')
got=$(audit_py '[(r["user"]["username"], r["user"]["groups"]) for r in recs][-1]')
check "X-Remote-* sent by alice to the aggregator are dropped: the gateway sees alice ($code, $got)" \
	bash -c "[ $code = 200 ] && [ \"\$1\" = \"('alice', ['team-a-devs', 'system:authenticated'])\" ]" _ "$got"

# ---- the ConfigMap re-read: a rotated request-header CA --------------------------
# loads_past N: the gateway has loaded the ConfigMap more than N times
loads() { grep -c 'request-header configuration .* loaded (resourceVersion' "$TG_WORK/gateway.log"; }
loads_past() { [ "$(loads)" -gt "$1" ]; }
n=$(loads)
cp "$TG_CERTS/users-ca.crt" "$TG_WORK/front-proxy-ca.crt"
kill -HUP "$TG_KUBESIM_PID"
wait_for 30 loads_past "$n"
check "the gateway re-reads the ConfigMap when it changes" loads_past "$n"
kt alice-cert run pod/web-a -n team-a -e "$PROG" >"$out" 2>"$err"
rc=$?
check "with the CA rotated away, kubesim's front-proxy certificate no longer passes (rc=$rc)" \
	bash -c "[ $rc != 0 ] && grep -q 'Unauthorized' '$err'"
n=$(loads)
cp "$TG_CERTS/front-proxy-ca.crt" "$TG_WORK/front-proxy-ca.crt"
kill -HUP "$TG_KUBESIM_PID"
wait_for 30 loads_past "$n"
kt alice-cert run pod/web-a -n team-a -e "$PROG" >"$out" 2>"$err"
rc=$?
check "and passes again once the ConfigMap has it back (rc=$rc)" \
	bash -c "[ $rc = 0 ] && grep -qx 'hello from aggregated' '$out'"

if command -v bpftool >/dev/null; then
	wait_for 30 no_progs_left
	check "no program left loaded" no_progs_left
fi
