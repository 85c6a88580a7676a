#!/usr/bin/env bash
# Makes the certificates a local stack needs, into DIR (default build/certs):
#   ca.crt/ca.key                 a local CA
#   kubesim.crt/key               the test API server (127.0.0.1, localhost)
#   gateway.crt/key               the gateway's HTTPS server
#   gateway-client.crt/key        the gateway's client cert for runners (CN tracegate-gateway)
#   runner.crt/key                a runner's HTTPS server
#   other-client.crt/key          a client cert from the same CA that is NOT the gateway
# Never committed; made again when missing or older than this script.
set -euo pipefail
dir=${1:-build/certs}
mkdir -p "$dir"
if [ -f "$dir/runner.crt" ] && [ "$dir/runner.crt" -nt "$0" ]; then
	exit 0
fi
cd "$dir"
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=tracegate-test-ca" \
	-keyout ca.key -out ca.crt -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
issue() { # name cn eku [san]
	local name=$1 cn=$2 eku=$3 san=${4:-}
	local ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$eku"
	[ -n "$san" ] && ext="$ext
subjectAltName=$san"
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout "$name.key" -out "$name.csr" 2>/dev/null
	openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
		-extfile <(printf '%s\n' "$ext") -out "$name.crt" 2>/dev/null
	rm -f "$name.csr"
}
issue kubesim kubesim serverAuth "IP:127.0.0.1,DNS:localhost"
issue gateway tracegate serverAuth "IP:127.0.0.1,DNS:localhost"
issue gateway-client tracegate-gateway clientAuth
issue runner tracegate-runner serverAuth "IP:127.0.0.1,DNS:localhost,DNS:tracegate-runner"
issue other-client someone-else clientAuth
chmod 644 *.crt
