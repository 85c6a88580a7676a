#!/usr/bin/env bash
# kubesim on its own, with curl: the JSON shapes and codes of the real API
# server, RBAC from deploy/, and bad input that must not hurt it.
# TAP lines: ok - NAME / not ok - NAME.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
sim=${TG_KUBESIM:-build/tests/kubesim}
fx=tests/kubesim/fixtures
certs=build/certs
work=$(mktemp -d /tmp/tg-kubesim-e2e.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap 'if [ "$BASHPID" = "$$" ]; then cleanup; fi' EXIT

ok() { printf 'ok - kubesim: %s\n' "$1"; }
notok() { printf 'not ok - kubesim: %s\n' "$1"; shift; for l in "$@"; do printf '#   %s\n' "$l"; done; }

if [ ! -x "$sim" ]; then
	notok "binary $sim exists (make build/tests/kubesim)"
	exit 0
fi
tests/certs.sh "$certs" >/dev/null 2>&1 || { notok "tests/certs.sh"; exit 0; }

"$sim" --listen 127.0.0.1:0 --cert "$certs/kubesim.crt" --key "$certs/kubesim.key" \
	--tokens "$fx/tokens.yaml" --objects "$fx/objects" --rbac "$fx/rbac" --rbac deploy \
	--log "$work/log" --port-file "$work/port" 2>"$work/stderr" &
pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
if [ ! -s "$work/port" ]; then
	notok "starts" "$(cat "$work/stderr")"
	exit 0
fi
ok "starts"
api=https://127.0.0.1:$(cat "$work/port")
sa=tg-sa-gateway-1c2d3e4f5a6b7c8d

# req TOKEN METHOD PATH [BODY]: prints "CODE BODY"
req() {
	local tok=$1 method=$2 path=$3 body=${4:-} auth=()
	[ -n "$tok" ] && auth=(-H "Authorization: Bearer $tok")
	if [ -n "$body" ]; then
		curl -sS --path-as-is --max-time 10 --cacert "$certs/ca.crt" "${auth[@]}" -X "$method" \
			-H 'Content-Type: application/json' --data-binary "$body" -o "$work/body" -w '%{http_code}' "$api$path"
	else
		curl -sS --path-as-is --max-time 10 --cacert "$certs/ca.crt" "${auth[@]}" -X "$method" \
			-o "$work/body" -w '%{http_code}' "$api$path"
	fi
}
# expect NAME CODE PYTHON_EXPR_OVER_d TOKEN METHOD PATH [BODY]
expect() {
	local name=$1 want=$2 expr=$3 code
	shift 3
	code=$(req "$@")
	if [ "$code" != "$want" ]; then
		notok "$name" "HTTP $code, want $want" "$(head -c 400 "$work/body")"
		return
	fi
	if [ -n "$expr" ] && ! python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ('"$expr"') else 1)' "$work/body" 2>/dev/null; then
		notok "$name" "body fails: $expr" "$(head -c 400 "$work/body")"
		return
	fi
	ok "$name"
}

tr() { printf '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"%s","audiences":["tracegate"]}}' "$1"; }
sarj() { # user group ns verb group resource [name]
	printf '{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"%s","groups":["%s","system:authenticated"],"resourceAttributes":{"namespace":"%s","verb":"%s","group":"%s","resource":"%s","name":"%s"}}}' "$@"
}
TR=/apis/authentication.k8s.io/v1/tokenreviews
SAR=/apis/authorization.k8s.io/v1/subjectaccessreviews

# --- authentication of kubesim's own clients
expect "no token: 401 Status" 401 'd["kind"]=="Status" and d["reason"]=="Unauthorized" and d["code"]==401' "" GET /api/v1/namespaces/team-a/pods/web-a
expect "unknown token: 401" 401 '' bogus GET /api/v1/namespaces/team-a/pods/web-a
expect "tenant token (audience tracegate) not valid for the API server: 401" 401 '' tg-alice-5f0c2a9e4b7d41c8 GET /api/v1/namespaces/team-a/pods/web-a
expect "healthz with a token" 200 "" "$sa" GET /healthz

# --- TokenReview
expect "tokenreview alice: authenticated, audiences intersected" 201 \
	'd["kind"]=="TokenReview" and d["status"]["authenticated"] is True and d["status"]["audiences"]==["tracegate"] and d["status"]["user"]["username"]=="alice" and "team-a-devs" in d["status"]["user"]["groups"]' \
	"$sa" POST $TR "$(tr tg-alice-5f0c2a9e4b7d41c8)"
expect "tokenreview unknown token: authenticated omitted" 201 '"authenticated" not in d["status"]' "$sa" POST $TR "$(tr nope)"
expect "tokenreview other audience: not authenticated, error set" 201 '"authenticated" not in d["status"] and "error" in d["status"]' \
	"$sa" POST $TR "$(tr tg-alice-other-audience-6a5b4c3d)"
expect "tokenreview empty token: 400 with kube's message" 400 'd["message"]=="token is required for TokenReview in authentication"' \
	"$sa" POST $TR '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":""}}'
expect "tokenreview by an unbound ServiceAccount: 403" 403 'd["reason"]=="Forbidden" and "tokenreviews.authentication.k8s.io" in d["message"]' \
	tg-sa-unbound-9f8e7d6c5b4a3928 POST $TR "$(tr tg-alice-5f0c2a9e4b7d41c8)"
expect "tokenreview SA groups added" 201 '"system:serviceaccounts:tracegate" in d["status"]["user"]["groups"]' \
	"$sa" POST $TR '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"tg-sa-gateway-1c2d3e4f5a6b7c8d"}}'

# --- SubjectAccessReview by the real manifests
expect "sar alice create traces team-a: allowed by the RoleBinding" 201 \
	'd["status"]["allowed"] is True and d["status"]["reason"]=="RBAC: allowed by RoleBinding \"tracegate-tracer/team-a\" of ClusterRole \"tracegate-tracer\" to Group \"team-a-devs\""' \
	"$sa" POST $SAR "$(sarj alice team-a-devs team-a create tracegate.dev traces '')"
expect "sar alice create traces team-b: not allowed" 201 'd["status"]["allowed"] is False' \
	"$sa" POST $SAR "$(sarj alice team-a-devs team-b create tracegate.dev traces '')"
expect "sar bob get pod web-b in team-b: allowed" 201 'd["status"]["allowed"] is True' \
	"$sa" POST $SAR "$(sarj bob team-b-devs team-b get '' pods web-b)"
expect "sar carol: not allowed" 201 'd["status"]["allowed"] is False' \
	"$sa" POST $SAR "$(sarj carol nobody team-a create tracegate.dev traces '')"
expect "sar gateway SA list pods cluster-wide: allowed by ClusterRoleBinding" 201 \
	'd["status"]["allowed"] is True and "ClusterRoleBinding \"tracegate-gateway\"" in d["status"]["reason"] and "ServiceAccount \"tracegate/tracegate\"" in d["status"]["reason"]' \
	"$sa" POST $SAR '{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"system:serviceaccount:tracegate:tracegate","resourceAttributes":{"verb":"list","resource":"pods"}}}'
expect "sar system:masters: allowed" 201 'd["status"]["allowed"] is True' \
	"$sa" POST $SAR '{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"admin","groups":["system:masters"],"resourceAttributes":{"verb":"delete","resource":"nodes"}}}'
expect "sar both attribute kinds: 422" 422 'd["reason"]=="Invalid"' \
	"$sa" POST $SAR '{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"a","resourceAttributes":{"verb":"get"},"nonResourceAttributes":{"path":"/x","verb":"get"}}}'
expect "sar without user or group: 422" 422 '' \
	"$sa" POST $SAR '{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"resourceAttributes":{"verb":"get","resource":"pods"}}}'
expect "selfsubjectaccessreview alice (api token)" 201 'd["status"]["allowed"] is True' \
	tg-alice-api-8b9a0c1d2e3f4a5b POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews \
	'{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"namespace":"team-a","verb":"create","group":"tracegate.dev","resource":"traces"}}}'

# --- objects
expect "get pod web-a" 200 'd["kind"]=="Pod" and d["metadata"]["ownerReferences"][0]["controller"] is True and d["metadata"]["uid"]=="6c0f4a1e-2b3d-4c5e-8f70-00000000a001" and d["status"]["qosClass"]=="Burstable" and d["spec"]["nodeName"]=="node-1"' \
	"$sa" GET /api/v1/namespaces/team-a/pods/web-a
expect "get pod 404 Status" 404 'd["reason"]=="NotFound" and d["details"]["name"]=="nope" and d["details"]["kind"]=="pods"' \
	"$sa" GET /api/v1/namespaces/team-a/pods/nope
expect "list pods on node-1 (fieldSelector)" 200 'd["kind"]=="PodList" and sorted(i["metadata"]["name"] for i in d["items"])==["etcd-node-1","web-a","web-b"] and "kind" not in d["items"][0]' \
	"$sa" GET '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1'
expect "list pods app=web,pod-template-hash in team-a (labelSelector)" 200 'sorted(i["metadata"]["name"] for i in d["items"])==["web-a","web-a2","web-a3","web-canary-a"]' \
	"$sa" GET '/api/v1/namespaces/team-a/pods?labelSelector=app%3Dweb,pod-template-hash'
expect "list pods notin" 200 '[i["metadata"]["name"] for i in d["items"]]==["db-a"]' \
	"$sa" GET '/api/v1/namespaces/team-a/pods?labelSelector=app%20notin%20(web)'
expect "unsupported field selector: 400" 400 '"field label not supported" in d["message"]' \
	"$sa" GET '/api/v1/pods?fieldSelector=spec.bogus%3D1'
expect "get namespace" 200 'd["kind"]=="Namespace" and d["metadata"]["name"]=="team-b"' "$sa" GET /api/v1/namespaces/team-b
expect "list nodes" 200 'd["kind"]=="NodeList" and len(d["items"])==2' "$sa" GET /api/v1/nodes
expect "get deployment" 200 'd["kind"]=="Deployment" and d["apiVersion"]=="apps/v1" and d["spec"]["replicas"]==1' "$sa" GET /apis/apps/v1/namespaces/team-a/deployments/web
expect "list replicasets" 200 'd["kind"]=="ReplicaSetList" and d["items"][0]["metadata"]["name"]=="web-7c9f8b6d5"' "$sa" GET /apis/apps/v1/namespaces/team-a/replicasets
expect "gateway may not delete pods: 403" 403 'd["message"]=="pods \"web-a\" is forbidden: User \"system:serviceaccount:tracegate:tracegate\" cannot delete resource \"pods\" in API group \"\" in the namespace \"team-a\""' \
	"$sa" DELETE /api/v1/namespaces/team-a/pods/web-a
expect "gateway may not read secrets: 403" 403 '' "$sa" GET /api/v1/namespaces/team-a/secrets
expect "admin may, then 404 for what kubesim does not serve" 404 '' tg-admin-7e6d5c4b3a294817 GET /api/v1/namespaces/team-a/secrets

# --- writes and watches (store.c, watch.c)
adm=tg-admin-7e6d5c4b3a294817
podj() { printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","labels":{"app":"%s"}%s},"spec":{"nodeName":"node-2"}%s}' "$@"; }
req "$sa" GET /api/v1/pods >/dev/null
rv0=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"]["resourceVersion"])' "$work/body")
expect "create a pod: 201, uid, a newer resourceVersion, status Pending" 201 	'd["metadata"]["namespace"]=="team-a" and len(d["metadata"]["uid"])==36 and int(d["metadata"]["resourceVersion"])=='"$rv0"'+1 and d["status"]=={"phase":"Pending"}' 	$adm POST /api/v1/namespaces/team-a/pods "$(podj w1 w '' '')"
expect "create it again: 409 AlreadyExists" 409 'd["reason"]=="AlreadyExists" and d["message"]=="pods \"w1\" already exists"' 	$adm POST /api/v1/namespaces/team-a/pods "$(podj w1 w '' '')"
expect "create with another namespace in the body: 400" 400 '"does not match the namespace" in d["message"]' 	$adm POST /api/v1/namespaces/team-a/pods "$(podj w9 w ',"namespace":"team-b"' '')"
expect "create with a bad name: 422" 422 'd["reason"]=="Invalid"' $adm POST /api/v1/namespaces/team-a/pods "$(podj W_1 w '' '')"
expect "the gateway may not create pods: 403" 403 '' "$sa" POST /api/v1/namespaces/team-a/pods "$(podj w2 w '' '')"
expect "update the status: 200, only status changes" 200 'd["status"]["phase"]=="Running" and d["metadata"]["labels"]=={"app":"w"}' 	$adm PUT /api/v1/namespaces/team-a/pods/w1/status "$(podj w1 ignored '' ',"status":{"phase":"Running","podIP":"10.1.1.1"}')"
expect "update with a stale resourceVersion: 409 Conflict" 409 'd["reason"]=="Conflict" and "has been modified" in d["message"]' 	$adm PUT /api/v1/namespaces/team-a/pods/w1 "$(podj w1 w ',"resourceVersion":"1"' '')"
expect "update the labels so app=w no longer selects it" 200 'd["metadata"]["labels"]=={"app":"x"} and d["status"]["phase"]=="Running"' 	$adm PUT /api/v1/namespaces/team-a/pods/w1 "$(podj w1 x '' '')"
expect "delete it: 200 with the object" 200 'd["metadata"]["name"]=="w1"' $adm DELETE /api/v1/namespaces/team-a/pods/w1
expect "delete it again: 404" 404 'd["reason"]=="NotFound"' $adm DELETE /api/v1/namespaces/team-a/pods/w1
# watch NAME EXPR_OVER_evs TOKEN PATH: a watch that ends by itself (timeoutSeconds)
watch() {
	local name=$1 expr=$2 tok=$3 path=$4 code
	code=$(curl -sS --max-time 15 --cacert "$certs/ca.crt" -H "Authorization: Bearer $tok" -D "$work/hdr" \
		-o "$work/watch" -w '%{http_code}' "$api$path")
	if [ "$code" = 200 ] && grep -qi '^transfer-encoding: chunked' "$work/hdr" &&
		python3 -c 'import json,sys; evs=[json.loads(l) for l in open(sys.argv[1])]; sys.exit(0 if ('"$expr"') else 1)' "$work/watch" 2>/dev/null; then
		ok "$name"
	else
		notok "$name" "HTTP $code" "$(head -c 600 "$work/watch")"
	fi
}
watch "watch from before the writes: ADDED, MODIFIED x2, DELETED, then a BOOKMARK, chunked" \
	'[(e["type"], e["object"]["metadata"].get("name")) for e in evs]==[("ADDED","w1"),("MODIFIED","w1"),("MODIFIED","w1"),("DELETED","w1"),("BOOKMARK",None)] and evs[0]["object"]["kind"]=="Pod" and int(evs[3]["object"]["metadata"]["resourceVersion"])=='"$rv0"'+4' \
	"$sa" "/api/v1/namespaces/team-a/pods?watch=true&resourceVersion=$rv0&timeoutSeconds=1&allowWatchBookmarks=true"
watch "watch with labelSelector app=w: the pod leaves it as DELETED when its labels change" \
	'[e["type"] for e in evs]==["ADDED","MODIFIED","DELETED"]' \
	"$sa" "/api/v1/pods?watch=true&resourceVersion=$rv0&timeoutSeconds=1&labelSelector=app%3Dw"
watch "watch from resourceVersion 0: an ADDED for each pod of team-a" \
	'sorted(e["object"]["metadata"]["name"] for e in evs)==["db-a","web-a","web-a2","web-a3","web-canary-a"] and {e["type"] for e in evs}=={"ADDED"}' \
	"$sa" "/api/v1/namespaces/team-a/pods?watch=true&resourceVersion=0&timeoutSeconds=1"
watch "watch from a resourceVersion older than the history: ERROR 410 Expired" \
	'len(evs)==1 and evs[0]["type"]=="ERROR" and evs[0]["object"]["code"]==410 and evs[0]["object"]["reason"]=="Expired" and evs[0]["object"]["message"].startswith("too old resource version: 1 (")' \
	"$sa" "/api/v1/pods?watch=true&resourceVersion=1"
expect "watch as alice (no watch on pods): 403" 403 '"cannot watch resource \"pods\"" in d["message"]' \
	tg-alice-api-8b9a0c1d2e3f4a5b GET '/api/v1/namespaces/team-a/pods?watch=true'
expect "watch with a bad resourceVersion: 400" 400 '' "$sa" GET '/api/v1/pods?watch=true&resourceVersion=x1'

# --- bad input: kubesim answers and stays up
expect "malformed JSON body: 400" 400 'd["kind"]=="Status"' "$sa" POST $TR '{"apiVersion":'
expect "wrong kind in body: 400" 400 '' "$sa" POST $TR '{"apiVersion":"authentication.k8s.io/v1","kind":"Pod","spec":{"token":"x"}}'
expect "body is an array: 400" 400 '' "$sa" POST $SAR '[1,2,3]'
expect "spec.groups with a number: 400" 400 '' "$sa" POST $SAR '{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"a","groups":[1],"resourceAttributes":{"verb":"get","resource":"pods"}}}'
expect "path with ..: 400" 400 '' "$sa" GET /api/v1/namespaces/../pods
expect "too many path segments: 400" 400 '' "$sa" GET /api/v1/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t
expect "tokenreview with GET: 403 for the gateway (no list verb)" 403 '' "$sa" GET $TR
expect "tokenreview with GET: 405 for admin" 405 'd["reason"]=="MethodNotAllowed"' tg-admin-7e6d5c4b3a294817 GET $TR
code=$(curl -sS --max-time 10 --cacert "$certs/ca.crt" -H "Authorization: Bearer $sa" -H 'Content-Type: application/json' \
	--data-binary @<(head -c 2000000 /dev/zero | tr '\0' 'a') -o /dev/null -w '%{http_code}' "$api$TR" 2>/dev/null)
case $code in 413|400) ok "2 MB body refused ($code)" ;; *) notok "2 MB body refused" "HTTP $code" ;; esac
printf 'GARBAGE\r\n\r\n' | timeout 5 openssl s_client -quiet -connect "127.0.0.1:${api##*:}" >/dev/null 2>&1
head -c 5000 /dev/urandom | timeout 5 bash -c "cat > /dev/tcp/127.0.0.1/${api##*:}" 2>/dev/null
expect "still serving after garbage and plaintext" 200 '' "$sa" GET /api/v1/namespaces/team-a/pods/web-a

# --- the log names method, path, user and code, and never a token
if grep -q 'GET /api/v1/namespaces/team-a/pods/web-a system:serviceaccount:tracegate:tracegate 200' "$work/log" &&
	! grep -q 'tg-alice-5f0c2a9e4b7d41c8\|tg-sa-gateway' "$work/log"; then
	ok "request log: method path user code, no tokens"
else
	notok "request log: method path user code, no tokens" "$(tail -5 "$work/log")"
fi
if kill -0 "$pid" 2>/dev/null; then ok "alive at the end"; else notok "alive at the end" "$(tail "$work/stderr")"; fi
