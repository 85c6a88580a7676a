#!/usr/bin/env bash
# Makes the certificates a local stack needs, into DIR (default build/certs):
#   ca.crt/ca.key                 a local CA
#   kubesim.crt/key               the test API server (127.0.0.1, localhost)
#   gateway.crt/key               the gateway's HTTPS server
#   gateway-client.crt/key        the gateway's client cert for runners (CN tracegate-gateway)
#   runner.crt/key                a runner's HTTPS server
#   other-client.crt/key          a client cert from the same CA that is NOT the gateway
#   front-proxy-ca.crt/key        the request-header CA (aggregation), its own CA as kube's is
#   front-proxy-client.crt/key    kubesim's aggregator client cert (CN front-proxy-client)
#   front-proxy-other.crt/key     signed by the request-header CA, CN not in the allowed names
#   users-ca.crt/key              the API server's client CA (users authenticated by certificate)
#   user-alice.crt/key            CN alice, O team-a-devs (a client-certificate-only user)
#   user-bob.crt/key              CN bob, O team-b-devs
# Never committed; made again when missing or older than this script.
set -euo pipefail
dir=${1:-build/certs}
mkdir -p "$dir"
if [ -f "$dir/user-bob.crt" ] && [ "$dir/user-bob.crt" -nt "$0" ]; then
	exit 0
fi
cd "$dir"
umask 077
mkca() { # name cn
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$2" \
		-keyout "$1.key" -out "$1.crt" -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
mkca ca tracegate-test-ca
mkca front-proxy-ca tracegate-test-front-proxy-ca
mkca users-ca tracegate-test-users-ca
issue() { # name subject eku [san] [ca]
	local name=$1 cn=$2 eku=$3 san=${4:-} ca=${5:-ca}
	local ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$eku"
	[ -n "$san" ] && ext="$ext
subjectAltName=$san"
	case $cn in /*) ;; *) cn=/CN=$cn ;; esac
	openssl req -newkey rsa:2048 -nodes -subj "$cn" -keyout "$name.key" -out "$name.csr" 2>/dev/null
	openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial -days 30 \
		-extfile <(printf '%s\n' "$ext") -out "$name.crt" 2>/dev/null
	rm -f "$name.csr"
}
issue kubesim kubesim serverAuth "IP:127.0.0.1,DNS:localhost"
# tracegate.tracegate.svc: the name an aggregator checks for Service tracegate/tracegate
issue gateway tracegate serverAuth "IP:127.0.0.1,DNS:localhost,DNS:tracegate.tracegate.svc"
issue gateway-client tracegate-gateway clientAuth
issue runner tracegate-runner serverAuth "IP:127.0.0.1,DNS:localhost,DNS:tracegate-runner"
issue other-client someone-else clientAuth
issue front-proxy-client front-proxy-client clientAuth "" front-proxy-ca
issue front-proxy-other not-the-front-proxy clientAuth "" front-proxy-ca
issue user-alice /CN=alice/O=team-a-devs clientAuth "" users-ca
issue user-bob /CN=bob/O=team-b-devs clientAuth "" users-ca
chmod 644 *.crt
