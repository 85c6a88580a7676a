#!/usr/bin/env bash
# Makes the certificates a cluster install needs (docs/deployment.md,
# "Certificates"), into DIR, and the Secrets that carry them:
#
#   scripts/make-certs.sh DIR
#
#   gateway-ca.crt/key    the CA of the gateway's serving certificate: what
#                         clients trust (the APIService's caBundle,
#                         TRACEGATE_CA / --gateway-ca)
#   gateway.crt/key       the gateway's serving certificate, for the Service
#                         (SERVICE.NAMESPACE.svc and its other names)
#   runner-ca.crt/key     the runner CA: signs the runners' serving
#                         certificates and the gateway's client certificate,
#                         nothing else
#   runner.crt/key        the runners' serving certificate (DNS name
#                         tracegate-runner, and RUNNER_SANS)
#   gateway-client.crt/key  the gateway's client certificate for the runners
#                         (CN tracegate-gateway: the only client they serve)
#   secrets.yaml          Secrets tracegate-gateway-tls, tracegate-runner-client
#                         and tracegate-runner-tls in NAMESPACE, as
#                         deploy/30-gateway.yaml and 40-runner.yaml
#                         mount them (needs kubectl; nothing is sent anywhere)
#
# Environment:
#   NAMESPACE    default tracegate          SERVICE   default tracegate
#   CLUSTER_DOMAIN  default cluster.local
#   RUNNER_SANS  more subjectAltNames for the runner certificate, as
#                openssl writes them ("IP:10.0.0.11,DNS:node-1"): the
#                addresses a static "runners" map uses
#   DAYS         the leaf certificates' lifetime (default 365); the CAs
#                live ten times as long
#
# The keys (ECDSA P-256) are 0600; an existing DIR/*.key is never
# overwritten: remove DIR to start again.
set -euo pipefail
die() { echo "make-certs: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 DIR"
dir=$1
ns=${NAMESPACE:-tracegate}
svc=${SERVICE:-tracegate}
domain=${CLUSTER_DOMAIN:-cluster.local}
days=${DAYS:-365}
extra=${RUNNER_SANS:-}
dns_label='[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?'
[[ $ns =~ ^$dns_label$ ]] || die "NAMESPACE \"$ns\" is not a DNS label"
[[ $svc =~ ^$dns_label$ ]] || die "SERVICE \"$svc\" is not a DNS label"
[[ $domain =~ ^$dns_label(\.$dns_label)*$ ]] || die "CLUSTER_DOMAIN \"$domain\" is not a DNS name"
[[ $days =~ ^[1-9][0-9]{0,4}$ ]] || die "DAYS \"$days\" is not a number of days (1-99999)"
[[ -z $extra || $extra =~ ^((IP:[0-9a-fA-F.:]+|DNS:[a-z0-9.*-]+)(,|$))+$ ]] ||
	die "RUNNER_SANS \"$extra\" is not a list of IP:ADDRESS and DNS:NAME separated by commas"
command -v openssl >/dev/null || die "openssl not found"

mkdir -p "$dir"
cd "$dir"
umask 077
for f in gateway-ca runner-ca gateway runner gateway-client; do
	[ ! -e "$f.key" ] || die "$dir/$f.key exists: remove $dir to make new certificates"
done

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
ca() { # NAME CN
	key "$1"
	openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days $((days * 10)) -out "$1.crt" \
		-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
leaf() { # NAME CN CA EKU [SANS]
	local name=$1 cn=$2 ca=$3 eku=$4 sans=${5:-}
	key "$name"
	openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr" 2>/dev/null
	openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial -days "$days" \
		-out "$name.crt" -extfile <(
			echo "basicConstraints=critical,CA:FALSE"
			echo "keyUsage=critical,digitalSignature"
			echo "extendedKeyUsage=$eku"
			[ -z "$sans" ] || echo "subjectAltName=$sans"
		) 2>/dev/null
	rm -f "$name.csr"
}

ca gateway-ca "tracegate gateway CA"
leaf gateway "$svc.$ns.svc" gateway-ca serverAuth \
	"DNS:$svc,DNS:$svc.$ns,DNS:$svc.$ns.svc,DNS:$svc.$ns.svc.$domain"
ca runner-ca "tracegate runner CA"
leaf runner tracegate-runner runner-ca serverAuth "DNS:tracegate-runner${extra:+,$extra}"
leaf gateway-client tracegate-gateway runner-ca clientAuth
rm -f ./*.srl
chmod 644 ./*.crt

if command -v kubectl >/dev/null; then
	{
		kubectl -n "$ns" create secret generic tracegate-gateway-tls --dry-run=client -o yaml \
			--from-file=tls.crt=gateway.crt --from-file=tls.key=gateway.key
		echo ---
		kubectl -n "$ns" create secret generic tracegate-runner-client --dry-run=client -o yaml \
			--from-file=tls.crt=gateway-client.crt --from-file=tls.key=gateway-client.key \
			--from-file=ca.crt=runner-ca.crt
		echo ---
		kubectl -n "$ns" create secret generic tracegate-runner-tls --dry-run=client -o yaml \
			--from-file=tls.crt=runner.crt --from-file=tls.key=runner.key \
			--from-file=ca.crt=runner-ca.crt
	} > secrets.yaml
	echo "make-certs: $dir: certificates and secrets.yaml (kubectl apply -f $dir/secrets.yaml)"
else
	echo "make-certs: $dir: certificates (no kubectl: no secrets.yaml)"
fi
