#!/usr/bin/env bash
# Installs the Debian packages tracegate builds, tests and demos with.
# Quiet and quick when everything is already there.
#   tests/deps.sh          what make, make test, demo and bench need
#   tests/deps.sh images   what `make images` needs besides: buildah (builds
#                          the images from scratch) and runc (runs them in
#                          tests/images/check.sh), cpio, tzdata and CA
#                          certificates (copied into the images)
set -euo pipefail
case ${1:-} in
"")
	pkgs=(build-essential pkg-config clang llvm libbpf-dev libelf-dev zlib1g-dev
	      libcurl4-openssl-dev libssl-dev openssl libjansson-dev libseccomp-dev
	      libevent-dev libyaml-dev libcmocka-dev bpftrace bpftool kubectl
	      curl python3 iproute2 procps util-linux) ;;
images)
	pkgs=(buildah runc cpio tzdata ca-certificates) ;;
*)
	echo "usage: $0 [images]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "deps: installing ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: need root to install packages (or install them yourself)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
