#!/usr/bin/env bash
# Proves the images `make images` wrote work (it runs this last): each OCI
# archive in build/images/ is unpacked and checked (tests/images/unpack.py:
# digests, sizes, layers) and run with runc the way its manifest runs it in
# a cluster (tests/images/spec.py: user, capabilities, read-only root,
# mounts):
#
# - the gateway image: `tracegate --version` as uid 65532 with no
#   capabilities prints the version and commit the image is tagged with;
# - the runner image: `tracegate-runner exec` compiles a program with the
#   image's clang in the compile jail (a fresh cache: nothing compiled
#   before), loads it into the kernel and prints what it prints, with only
#   the DaemonSet's capabilities and mounts.
#
# Prints TAP lines and ends non-zero when one fails.  Needs root, runc and
# BPF (the machine's kernel); CI=true makes a missing runc a failure.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
out=build/images

fails=0
ok() { echo "ok - images: $*"; }
not_ok() { echo "not ok - images: $*"; fails=$((fails + 1)); }

if [ "$(id -u)" -ne 0 ]; then
	not_ok "needs root (runc runs the images as their manifests do)"
	exit 1
fi
if ! command -v runc >/dev/null; then
	if [ "${CI:-}" = true ]; then
		not_ok "runc not found (make images-deps)"
		exit 1
	fi
	echo "ok - images: run checks # SKIP runc not found (make images-deps)"
	exit 0
fi
[ -r "$out/images.txt" ] || { not_ok "$out/images.txt missing: run tests/images/build.sh"; exit 1; }

work=$(mktemp -d /tmp/tg-images-check.XXXXXX)
ids=()
cleanup() {
	local id
	for id in "${ids[@]}"; do runc delete -f "$id" >/dev/null 2>&1; done
	rm -rf "$work"
}
trap cleanup EXIT

# ref_of NAME: the reference images.txt lists for image NAME
ref_of() { awk -v n="$1" '$1 !~ /^#/ { r = $1; sub(/:[^:\/]*$/, "", r); sub(/.*\//, "", r); if (r == n) print $1 }' "$out/images.txt"; }

# bundle NAME: unpacks image NAME into $work/NAME (rootfs/, image.json)
bundle() {
	if ! python3 tests/images/unpack.py "$out/$1.tar" "$work/$1"; then
		not_ok "$1: $out/$1.tar does not unpack"
		return 1
	fi
	ok "$1: $out/$1.tar unpacks, every blob matches its digest"
}

# image_get NAME EXPR: EXPR (python, over d) of image NAME's config
image_get() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print('"$2"')' "$work/$1/image.json"; }

# manifest_args FILE PORT: the container's args in deploy/FILE, one
# a line, with its port on 127.0.0.1:PORT and $(NODE_NAME) node-1
manifest_args() {
	python3 - "deploy/$1" "$2" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
m = re.search(r"^\s*args: (\[.*?\])", text, re.S | re.M)
for a in json.loads(m.group(1)):
    print(re.sub(r"^0\.0\.0\.0:\d+$", "127.0.0.1:" + sys.argv[2], a.replace("$(NODE_NAME)", "node-1")))
PY
}

# serving NAME BUNDLE CURL-ARG...: runs BUNDLE in the background and polls
# curl CURL-ARG... until it prints "ok" (60 s); then, when the array
# refuse holds curl arguments, sets refused=1 if those get no "ok"; stops
# it then
serving() {
	local name=$1 bundle=$2 id=tg-images-$1-$$ up='' i
	shift 2
	ids+=("$id")
	refused=''
	runc run --bundle "$bundle" "$id" > "$work/$name.out" 2> "$work/$name.err" < /dev/null &
	for ((i = 0; i < 600; i++)); do
		if [ "$(curl -s "$@" 2>/dev/null)" = ok ]; then
			up=1
			break
		fi
		sleep 0.1
	done
	if [ -n "$up" ] && ((${#refuse[@]})) && [ "$(curl -s "${refuse[@]}" 2>/dev/null)" != ok ]; then
		refused=1
	fi
	runc kill "$id" TERM 2>/dev/null
	wait
	[ -n "$up" ]
}
refuse=()

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# run NAME: runs the bundle, stdout to $work/NAME.out, stderr .err; a
# generous bound, as the machine may be loaded
run() {
	local id=tg-images-$1-$$
	ids+=("$id")
	timeout 300 runc run --bundle "$work/$1" "$id" \
		> "$work/$1.out" 2> "$work/$1.err" < /dev/null
}

# --- the gateway ----------------------------------------------------------
gw=tracegate-gateway
ref=$(ref_of $gw)
tag=${ref##*:}
if bundle $gw && python3 tests/images/spec.py "$work/$gw" gateway -- --version; then
	commit=$(image_get "$gw" 'd["config"]["Labels"]["org.opencontainers.image.revision"]')
	aref=$(image_get "$gw" 'd["ref"]')
	if [ "$aref" = "$ref" ] && [ -n "$tag" ]; then
		ok "$gw: the archive is $ref"
	else
		not_ok "$gw: the archive names $aref, images.txt $ref"
	fi
	if run $gw; then
		if grep -qxE "tracegate [0-9][^ ]* \(commit $commit, built [^)]*\)" "$work/$gw.out" &&
			[ "$tag" = "$(sed -n 's/^tracegate \([^ ]*\) (commit \([^,]*\),.*/\1-g\2/p' "$work/$gw.out")" ]; then
			ok "$gw: tracegate --version as uid 65532, no capabilities, read-only root: $(cat "$work/$gw.out")"
		else
			not_ok "$gw: --version printed \"$(cat "$work/$gw.out")\", not the image's $tag"
		fi
	else
		not_ok "$gw: tracegate --version failed: $(tail -5 "$work/$gw.err")"
	fi
fi

# the gateway serving as the Deployment runs it: the configuration of
# docs/deployment.md in the ConfigMap's place, scripts/make-certs.sh's
# certificates in the Secrets', the audit log on a writable volume; its
# /healthz over TLS by the Service's name
if [ -d "$work/$gw/rootfs" ]; then
	port=$(free_port)
	e=$work/gw-etc
	mkdir -p "$e/tls" "$e/runner-client" "$work/gw-sa" "$work/gw-audit"
	chmod 0777 "$work/gw-audit"
	scripts/make-certs.sh "$work/certs" > /dev/null
	cp "$work/certs/gateway.crt" "$e/tls/tls.crt"
	cp "$work/certs/gateway.key" "$e/tls/tls.key"
	cp "$work/certs/runner-ca.crt" "$e/runner-client/ca.crt"
	cp "$work/certs/gateway-client.crt" "$e/runner-client/tls.crt"
	cp "$work/certs/gateway-client.key" "$e/runner-client/tls.key"
	chmod -R a+rX "$e"
	cp "$work/certs/gateway-ca.crt" "$work/gw-sa/ca.crt"
	echo not-a-token > "$work/gw-sa/token"
	"${BIN:-bin}/tracegate" policy preset restricted > "$e/restricted.yaml"
	sed -n '/^<!-- gateway.json -->$/,/^```$/p' docs/deployment.md | sed '1,2d;$d' |
		sed "s/0\.0\.0\.0:8443/127.0.0.1:$port/" > "$e/gateway.json"
	cp -r "$work/$gw" "$work/gw-serve"
	mapfile -t args < <(manifest_args 30-gateway.yaml "$port")
	if python3 tests/images/spec.py "$work/gw-serve" gateway --host-network \
		--bind "$e:/etc/tracegate" --bind "$e/tls:/etc/tracegate/tls" \
		--bind "$e/runner-client:/etc/tracegate/runner-client" \
		--bind "$work/gw-sa:/var/run/secrets/kubernetes.io/serviceaccount" \
		--bind "$work/gw-audit:/var/log/tracegate:rw" -- "${args[@]}" &&
		serving gw-serve "$work/gw-serve" --cacert "$work/certs/gateway-ca.crt" \
			--resolve "tracegate.tracegate.svc:$port:127.0.0.1" "https://tracegate.tracegate.svc:$port/healthz"; then
		ok "$gw: ${args[*]} (30-gateway.yaml's), with docs/deployment.md's configuration and make-certs.sh's certificates, answers /healthz by the Service's name"
	else
		not_ok "$gw: serve did not answer /healthz: $(tail -5 "$work/gw-serve.err")"
	fi
fi

# --- the runner -----------------------------------------------------------
rn=tracegate-runner
mkdir -m 0700 "$work/run"
# runner_exec NAME ARG...: tracegate-runner exec ARG... in the runner image
# (a fresh cache each time: the compile is done there), output in $work/NAME
runner_exec() {
	local name=$1
	shift
	python3 tests/images/spec.py "$work/$rn" runner --run-dir "$work/run" -- exec "$@" 2> "$work/spec.err" &&
		run $rn && mv "$work/$rn.out" "$work/$name" && mv "$work/$rn.err" "$work/$name.err"
}
if bundle $rn; then
	runner_exec begin -e 'BEGIN { printf("hi from the image\n"); exit(); }'
	cat "$work/spec.err"
	if [ "$(sed -n 2p "$work/begin" 2>/dev/null)" = "hi from the image" ]; then
		ok "$rn: exec compiled a program with the image's clang in the compile jail, loaded and ran it, with the DaemonSet's capabilities and mounts"
	else
		not_ok "$rn: exec BEGIN failed: $(cat "$work/begin" "$work/begin.err" "$work/$rn.out" "$work/$rn.err" 2>/dev/null | tail -20)"
	fi

	# serve as the DaemonSet runs it (its args), make-certs.sh's runner
	# certificates in the Secret's place; the gateway's client certificate
	# reaches /healthz by the runner's name, no other does
	port=$(free_port)
	mkdir -p "$work/rn-tls"
	cp "$work/certs/runner.crt" "$work/rn-tls/tls.crt"
	cp "$work/certs/runner.key" "$work/rn-tls/tls.key"
	cp "$work/certs/runner-ca.crt" "$work/rn-tls/ca.crt"
	cp -r "$work/$rn" "$work/rn-serve"
	mapfile -t args < <(manifest_args 40-runner.yaml "$port")
	url=(--resolve "tracegate-runner:$port:127.0.0.1" "https://tracegate-runner:$port/healthz")
	refuse=(--cacert "$work/certs/runner-ca.crt" "${url[@]}")
	if python3 tests/images/spec.py "$work/rn-serve" runner --run-dir "$work/run" --host-network \
		--bind "$work/rn-tls:/etc/tracegate/tls" -- "${args[@]}" 2>/dev/null &&
		serving rn-serve "$work/rn-serve" --cacert "$work/certs/runner-ca.crt" \
			--cert "$work/certs/gateway-client.crt" --key "$work/certs/gateway-client.key" "${url[@]}"; then
		ok "$rn: ${args[*]} (40-runner.yaml's) serves the gateway's client certificate"
	else
		not_ok "$rn: serve did not answer /healthz: $(tail -5 "$work/rn-serve.err")"
	fi
	if [ -n "$refused" ]; then
		ok "$rn: serve refuses a client without the gateway's certificate"
	else
		not_ok "$rn: serve answered a client without the gateway's certificate (or never served)"
	fi
	refuse=()

	# a usdt probe in a host process found through its cgroup (hostPID,
	# the host's /sys/fs/cgroup): <bpf/usdt.bpf.h> and the kernel's
	# headers from the image, the file through /proc/PID/root
	py=/usr/bin/python3.11
	cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	if [ -x "$py" ] && readelf -n "$py" 2>/dev/null | grep -q 'Name: function__entry' && [ -n "$cg2" ]; then
		cg=$cg2/tg-images-check-$$
		mkdir "$cg"
		fn=tg_image_marker_$$
		printf 'import sys, time\nsys.setprofile(lambda *a: None)\ndef %s(n):\n    return n + 1\nend = time.time() + 300\nwhile time.time() < end:\n    %s(1)\n    time.sleep(0.05)\n' \
			"$fn" "$fn" > "$work/app.py"
		(echo "$BASHPID" > "$cg/cgroup.procs" && exec "$py" "$work/app.py") &
		app=$!
		if runner_exec usdt --cgroup "$cg" -e "usdt:$py:python:function__entry /str(arg1) == \"$fn\"/ { printf(\"usdt %s\\n\", str(arg1)); exit(); }" &&
			[ "$(sed -n 2p "$work/usdt")" = "usdt $fn" ]; then
			ok "$rn: a usdt probe in a host process found through its cgroup (libbpf's usdt header and the kernel's from the image)"
		else
			not_ok "$rn: exec usdt failed: $(cat "$work/usdt" "$work/usdt.err" "$work/$rn.out" "$work/$rn.err" 2>/dev/null | tail -20)"
		fi
		kill "$app" 2>/dev/null
		wait "$app" 2>/dev/null
		rmdir "$cg" 2>/dev/null
	elif [ "${CI:-}" = true ]; then
		not_ok "$rn: usdt check: $py with usdt probes or a cgroup2 mount missing"
	else
		echo "ok - images: $rn: usdt check # SKIP $py with usdt probes or a cgroup2 mount missing"
	fi
fi

sizes=$(awk '$1 !~ /^#/ { printf "%s %.1f MB (archive %.1f MB); ", $1, $2 / 1e6, $3 / 1e6 }' "$out/images.txt")
echo "# sizes: ${sizes%; }"
[ "$fails" -eq 0 ]
