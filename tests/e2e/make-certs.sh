#!/usr/bin/env bash
# scripts/make-certs.sh, the certificates of a cluster install
# (docs/deployment.md): each chains to its own CA with the right purpose
# and names; the runner CA and the gateway CA are not interchangeable; a
# real tracegate-runner serve with them serves the gateway's client
# certificate (by the runner's DNS name, and by an IP given in
# RUNNER_SANS) and refuses others; secrets.yaml holds the Secrets the
# manifests mount; bad settings are refused by name; keys are 0600 and
# never overwritten.
source "$(dirname "$0")/lib.sh"
T="make-certs"
MC=$TG_TOP/scripts/make-certs.sh
need_bpf "$T" || exit 0
runner_alone make-certs || exit 1
d=$TG_WORK/certs

if out=$(RUNNER_SANS=IP:127.0.0.1 "$MC" "$d" 2>&1); then
	tap_ok "$T: makes the certificates ($out)"
else
	tap_fail "$T: makes the certificates" "$out"
	exit 0
fi

# verify NAME CA PURPOSE: openssl verify NAME.crt against CA.crt alone
verify() { openssl verify -x509_strict -purpose "$3" -CAfile "$d/$2.crt" "$d/$1.crt" >/dev/null 2>&1; }
check "$T: gateway.crt is a server certificate of the gateway CA" verify gateway gateway-ca sslserver
check "$T: runner.crt is a server certificate of the runner CA" verify runner runner-ca sslserver
check "$T: gateway-client.crt is a client certificate of the runner CA" verify gateway-client runner-ca sslclient
if ! verify gateway runner-ca sslserver && ! verify gateway-client gateway-ca sslclient &&
	! verify gateway gateway-ca sslclient && ! verify runner runner-ca sslclient; then
	tap_ok "$T: the two CAs sign apart, and no certificate serves the other purpose"
else
	tap_fail "$T: the two CAs sign apart, and no certificate serves the other purpose"
fi
sans=$(openssl x509 -in "$d/gateway.crt" -noout -ext subjectAltName | tail -1 | tr -d ' ')
if [ "$sans" = "DNS:tracegate,DNS:tracegate.tracegate,DNS:tracegate.tracegate.svc,DNS:tracegate.tracegate.svc.cluster.local" ]; then
	tap_ok "$T: gateway.crt names the Service ($sans)"
else
	tap_fail "$T: gateway.crt names the Service" "$sans"
fi
cn=$(openssl x509 -in "$d/gateway-client.crt" -noout -subject -nameopt RFC2253)
check "$T: the client certificate's CN is tracegate-gateway ($cn)" test "$cn" = "subject=CN=tracegate-gateway"
perms=$(stat -c '%a %n' "$d"/*.key | awk '$1 != "600"')
check "$T: every key is 0600" test -z "$perms"

# secrets.yaml: the three Secrets the manifests mount, with their keys
if python3 - "$d" <<'PY'
import base64, re, sys
d = sys.argv[1]
# kubectl's output for a generic Secret, read without a YAML library
# (not in tests/deps.sh): data's keys, kind, metadata's name and namespace
docs = {}
for text in open(f"{d}/secrets.yaml").read().split("\n---\n"):
    x = {"data": {}, "metadata": {}}
    section = None
    for line in text.splitlines():
        m = re.fullmatch(r"(\w+):(?: (.*))?", line)
        if m:
            section = m.group(1)
            if m.group(2) is not None:
                x[section] = m.group(2)
            continue
        m = re.fullmatch(r"  ([\w.-]+): (.*)", line)
        if m and section in ("data", "metadata"):
            x[section][m.group(1)] = m.group(2)
    docs[x["metadata"]["name"]] = x
want = {"tracegate-gateway-tls": {"tls.crt": "gateway.crt", "tls.key": "gateway.key"},
        "tracegate-runner-client": {"tls.crt": "gateway-client.crt", "tls.key": "gateway-client.key",
                                    "ca.crt": "runner-ca.crt"},
        "tracegate-runner-tls": {"tls.crt": "runner.crt", "tls.key": "runner.key", "ca.crt": "runner-ca.crt"}}
assert set(docs) == set(want), sorted(docs)
for name, files in want.items():
    s = docs[name]
    assert s["kind"] == "Secret" and s["metadata"]["namespace"] == "tracegate", s["metadata"]
    assert set(s["data"]) == set(files), (name, sorted(s["data"]))
    for k, f in files.items():
        assert base64.b64decode(s["data"][k]) == open(f"{d}/{f}", "rb").read(), (name, k)
PY
then
	tap_ok "$T: secrets.yaml holds the Secrets 30-gateway.yaml and 40-runner.yaml mount"
else
	tap_fail "$T: secrets.yaml holds the Secrets the manifests mount"
fi
for s in tracegate-gateway-tls tracegate-runner-client tracegate-runner-tls; do
	grep -q "secretName: $s}" "$TG_TOP"/deploy/*.yaml || tap_fail "$T: no manifest mounts Secret $s"
done

# a runner serving with them
tracegate-runner serve --listen "127.0.0.1:$PORT" --cert "$d/runner.crt" --key "$d/runner.key" \
	--client-ca "$d/runner-ca.crt" --client-cn tracegate-gateway \
	--node node-1 --cgroup-root "$TG_CGROOT_REL" --cache-dir "$TG_WORK/cache" 2>"$LOG" &
TG_PIDS+=($!)
AS_GW=(--cacert "$d/runner-ca.crt" --cert "$d/gateway-client.crt" --key "$d/gateway-client.key")
BY_NAME=(--resolve "tracegate-runner:$PORT:127.0.0.1" "https://tracegate-runner:$PORT/healthz")
if wait_for 30 curl -sf "${AS_GW[@]}" "${BY_NAME[@]}"; then
	tap_ok "$T: a runner with runner.crt serves the gateway's client certificate, by the name tracegate-runner"
else
	tap_fail "$T: a runner with runner.crt serves the gateway's client certificate" "$(cat "$LOG")"
fi
check "$T: ... and by the IP given in RUNNER_SANS" curl -sf -o /dev/null "${AS_GW[@]}" "https://127.0.0.1:$PORT/healthz"
if ! curl -sf --cacert "$d/runner-ca.crt" --cert "$d/gateway.crt" --key "$d/gateway.key" "${BY_NAME[@]}" >/dev/null 2>&1 &&
	! curl -sf --cacert "$d/runner-ca.crt" "${BY_NAME[@]}" >/dev/null 2>&1; then
	tap_ok "$T: the runner refuses the gateway's serving certificate and no certificate at all"
else
	tap_fail "$T: the runner refuses the gateway's serving certificate and no certificate at all"
fi
if ! curl -sf --cacert "$d/gateway-ca.crt" "${AS_GW[@]:2}" "${BY_NAME[@]}" >/dev/null 2>&1; then
	tap_ok "$T: a client trusting the gateway CA does not trust a runner"
else
	tap_fail "$T: a client trusting the gateway CA does not trust a runner"
fi

# refusals
refuse() { # NAME WANT-REGEX ENV...
	local name=$1 re=$2 out
	shift 2
	if out=$(env "$@" "$MC" "$TG_WORK/bad-$RANDOM" 2>&1); then
		tap_fail "$T: refuses $name" "made: $out"
	elif grep -qE "$re" <<< "$out"; then
		tap_ok "$T: refuses $name ($out)"
	else
		tap_fail "$T: refuses $name" "$out"
	fi
}
refuse "a namespace that is not a DNS label" 'NAMESPACE "Team_A" is not a DNS label' NAMESPACE=Team_A
refuse "RUNNER_SANS that are not IP:/DNS: names" 'RUNNER_SANS "IP:1.2.3.4,email:x@y" is not' 'RUNNER_SANS=IP:1.2.3.4,email:x@y'
refuse "a lifetime that is not a number" 'DAYS "1y" is not a number' DAYS=1y
before=$(sha256sum "$d/gateway.key")
if ! out=$("$MC" "$d" 2>&1) && grep -q "gateway-ca.key exists" <<< "$out" && [ "$before" = "$(sha256sum "$d/gateway.key")" ]; then
	tap_ok "$T: never overwrites a key ($out)"
else
	tap_fail "$T: never overwrites a key" "$out"
fi
