# shellcheck shell=bash
# End-to-end test library: TAP helpers, a local stack (kubesim, one runner,
# the gateway), fake pods that are real cgroup v2 directories laid out as
# the kubelet lays them out, with real processes in them, and kubeconfigs
# for the fixture users.  Sourced by tests/e2e/*.sh and tests/demo/run.
#
#   source tests/e2e/lib.sh
#   need_bpf || exit 0
#   stack_start                # traps EXIT to stack_stop
#   kt alice run pod/web-a -n team-a -e '...'
#
# Everything a stack makes lives under $TG_WORK (a fresh temporary
# directory) and $TG_CGROOT (a cgroup root of its own below the cgroup2
# mount), and is removed by stack_stop.

set -uo pipefail
TG_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TG_BIN=$TG_TOP/bin
TG_KUBESIM=${TG_KUBESIM:-$TG_TOP/build/tests/kubesim}   # another build: TG_KUBESIM=build/san/tests/kubesim
TG_FIXTURES=$TG_TOP/tests/kubesim/fixtures
TG_CERTS=$TG_TOP/build/certs
export PATH="$TG_BIN:$PATH"

# ---- TAP -----------------------------------------------------------------
tap_ok() { printf 'ok - %s\n' "$*"; }
tap_fail() {
	printf 'not ok - %s\n' "$1"
	shift
	local l
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}
# check NAME CMD...: ok when CMD succeeds
check() {
	local name=$1
	shift
	if "$@"; then tap_ok "$name"; else tap_fail "$name"; fi
}
# A test that cannot get what it needs: a skip on a developer machine, a
# failure under CI=true (CI always has root and BPF).
tap_skip_or_fail() {
	if [ "${CI:-}" = true ]; then
		tap_fail "$1 (CI must run this: $2)"
	else
		printf 'ok - %s # SKIP %s\n' "$1" "$2"
	fi
}

need_bpf() {
	if [ "$(id -u)" -ne 0 ]; then
		tap_skip_or_fail "${1:-bpf tests}" "needs root for BPF"
		return 1
	fi
	if ! bpftool prog list >/dev/null 2>&1; then
		tap_skip_or_fail "${1:-bpf tests}" "bpftool cannot list programs: no BPF here"
		return 1
	fi
	return 0
}

# ---- small helpers ---------------------------------------------------------
log() { printf '%s\n' "$*" >&2; }

cgroup2_mnt() {
	awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo
}

# A TCP port nobody listens on.
# free_port: a port for a server of this test.  Not one the kernel hands
# out for bind(0) or for outgoing connections (ip_local_port_range): e2e
# files run in lanes at once (tests/run), and a port of that range, free
# when asked, may be another lane's curl's by the time a server binds it.
# The ports below that range are handed out once each across the lanes:
# /tmp/tg-e2e-ports/PORT holds the pid of the test that took it (released
# by stack_stop, or taken back once that pid is gone).
TG_PORTS_DIR=/tmp/tg-e2e-ports
free_port() {
	local lo p i owner
	lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[[ $lo =~ ^[0-9]+$ ]] && ((lo > 12000)) || lo=32768
	mkdir -p "$TG_PORTS_DIR"
	for ((i = 0; i < 500; i++)); do
		p=$((lo - 10000 + RANDOM % 10000))
		if mkdir "$TG_PORTS_DIR/$p" 2>/dev/null; then
			echo "$$" >"$TG_PORTS_DIR/$p/pid"
			# (perl: a python start costs a quarter of a second here)
			if perl -MSocket -e 'socket(S, PF_INET, SOCK_STREAM, 0) && bind(S, sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) or exit 1' "$p" 2>/dev/null; then
				echo "$p"
				return 0
			fi
			rm -rf "${TG_PORTS_DIR:?}/$p"   # something else on this machine has it
		else
			owner=$(cat "$TG_PORTS_DIR/$p/pid" 2>/dev/null)
			[ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null && rm -rf "${TG_PORTS_DIR:?}/$p"
		fi
	done
	echo "free_port: no free port below $lo after 500 tries" >&2
	return 1
}
ports_release() { # the ports this test took
	local d
	for d in "$TG_PORTS_DIR"/*/; do
		[ "$(cat "$d/pid" 2>/dev/null)" = "$$" ] && rm -rf "$d"
	done
	return 0
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s
wait_for() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

json_get() { # json_get EXPR < json   (EXPR in python: d["a"]["b"])
	python3 -c 'import json,sys; d=json.load(sys.stdin); print('"$1"')'
}

# Ids of the BPF programs held open by this stack's runner and its session
# children (from /proc/PID/fdinfo: other tracers on the machine do not
# count).
runner_prog_ids() {
	local p fd
	for p in ${TG_RUNNER_PID:-} $(pgrep -P "${TG_RUNNER_PID:-0}" 2>/dev/null); do
		for fd in /proc/"$p"/fdinfo/*; do
			sed -n 's/^prog_id:[[:space:]]*//p' "$fd" 2>/dev/null
		done
	done | sort -un
}
our_progs() { runner_prog_ids | grep -c . ; }
# progs_gone ID...: none of these program ids is still loaded
progs_gone() {
	local id
	for id in "$@"; do
		bpftool prog show id "$id" >/dev/null 2>&1 && return 1
	done
	return 0
}
no_progs_left() { [ "$(our_progs)" -eq 0 ]; }
# What is loaded, for a failure message.
progs_report() {
	bpftool prog list 2>/dev/null | grep -A3 ' name tg_' | head -20
}

# runner_alone NAME: a runner-only test's setup (no kubesim, no gateway):
# TG_WORK, a cgroup root of its own, certificates, stack_stop on exit, and
# PORT, URL, GW (curl's flags as the gateway's client), LOG for the runner
# the test starts itself.  Returns 1 (after a TAP failure) when it cannot.
runner_alone() {
	TG_WORK=$(mktemp -d "/tmp/tg-e2e-$1.XXXXXX")
	TG_CGROOT_REL=/tracegate-e2e-$1-$$
	TG_CGROOT=$(cgroup2_mnt)$TG_CGROOT_REL
	mkdir -p "$TG_CGROOT" || { tap_fail "cgroup root $TG_CGROOT"; return 1; }
	trap stack_stop EXIT
	"$TG_TOP/tests/certs.sh" "$TG_CERTS" || { tap_fail "certificates"; return 1; }
	PORT=$(free_port)
	URL=https://127.0.0.1:$PORT
	GW=(--cacert "$TG_CERTS/ca.crt" --cert "$TG_CERTS/gateway-client.crt" --key "$TG_CERTS/gateway-client.key")
	LOG=$TG_WORK/runner.log
}

# ---- fake pods ------------------------------------------------------------
# ctr_id POD UID [CONTAINER]: the 64 hex digits of a container's ID, as the
# kubesim fixtures give it (their containerStatuses): sha256(POD UID) for a
# pod's first container, sha256(POD UID/CONTAINER) for the others
ctr_id() {
	printf '%s' "$1$2${3:+/$3}" | sha256sum | cut -c1-64
}

# pod_make NAME UID QOS LAYOUT [CONTAINER [RUNTIME]]: makes the pod's cgroup
# and one container cgroup below it under $TG_CGROOT; LAYOUT is systemd or
# cgroupfs.  Without CONTAINER the pod's first container (ctr_id NAME UID),
# else that one (ctr_id NAME UID CONTAINER); RUNTIME (containerd, cri-o or
# docker; containerd by default) names its cgroup as that runtime's does:
# systemd cri-containerd-<id>.scope, crio-<id>.scope, docker-<id>.scope;
# cgroupfs <id> (cri-o: crio-<id>).  Prints the container directory.
pod_make() {
	local name=$1 uid=$2 qos=$3 layout=$4 c=${5:-} rt=${6:-containerd} q pod ctr
	q=$(tr 'A-Z' 'a-z' <<<"$qos")
	local cid
	cid=$(ctr_id "$name" "$uid" "$c")
	if [ "$layout" = systemd ]; then
		local u=${uid//-/_}
		if [ "$q" = guaranteed ]; then
			pod=$TG_CGROOT/kubepods.slice/kubepods-pod$u.slice
		else
			pod=$TG_CGROOT/kubepods.slice/kubepods-$q.slice/kubepods-$q-pod$u.slice
		fi
		case $rt in
		cri-o) ctr=$pod/crio-$cid.scope ;;
		docker) ctr=$pod/docker-$cid.scope ;;
		*) ctr=$pod/cri-containerd-$cid.scope ;;
		esac
	else
		if [ "$q" = guaranteed ]; then
			pod=$TG_CGROOT/kubepods/pod$uid
		else
			pod=$TG_CGROOT/kubepods/$q/pod$uid
		fi
		case $rt in
		cri-o) ctr=$pod/crio-$cid ;;
		*) ctr=$pod/$cid ;;
		esac
	fi
	mkdir -p "$ctr" || return 1
	printf '%s\n' "$ctr"
}

# pod_run CTRDIR CMD...: starts CMD in the background inside CTRDIR's
# cgroup (the process moves itself in before exec), prints its pid.
pod_run() {
	local dir=$1
	shift
	(
		echo "$BASHPID" >"$dir/cgroup.procs" || exit 1
		exec "$@"
	) >/dev/null 2>&1 </dev/null &
	local pid=$!
	TG_PIDS+=("$pid")
	# wait until it is really in the cgroup
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q "^0::.*$(basename "$dir")\$" "/proc/$pid/cgroup" 2>/dev/null && break
		sleep 0.02
	done
	printf '%s\n' "$pid"
}

# A workload: opens MARKER every 0.1 s (openat with a recognisable name).
opener() { # opener MARKER_PATH
	printf 'while :; do cat %q >/dev/null 2>&1; sleep 0.1; done\n' "$1"
}

cgroup_remove_tree() { # removes a cgroup subtree: kill tasks, rmdir leaves first
	local root=$1 d
	[ -d "$root" ] || return 0
	while IFS= read -r d; do
		if [ -f "$d/cgroup.procs" ]; then
			xargs -r kill -9 <"$d/cgroup.procs" 2>/dev/null
		fi
	done < <(find "$root" -depth -type d)
	sleep 0.1
	find "$root" -depth -type d -exec rmdir {} \; 2>/dev/null
	[ ! -d "$root" ]
}

# ---- the stack ------------------------------------------------------------
TG_PIDS=()
TG_WORK=
TG_CGROOT=
TG_CGROOT_REL=

stack_stop() {
	local p
	# A child forked from this shell (kt_bg ... &, a command
	# substitution) that takes a signal before it execs runs the EXIT
	# trap it was forked with: that would stop the whole stack from
	# under the test.  Only the test's own shell stops it.
	[ "$BASHPID" = "$$" ] || return 0
	for p in "${TG_PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null
	done
	ports_release
	sleep 0.2
	for p in "${TG_PIDS[@]:-}"; do
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	[ -n "$TG_CGROOT" ] && cgroup_remove_tree "$TG_CGROOT"
	if [ -n "$TG_WORK" ] && [ -z "${TG_KEEP:-}" ]; then
		rm -rf "$TG_WORK"
	elif [ -n "$TG_WORK" ]; then
		log "kept $TG_WORK"
	fi
	TG_PIDS=()
}

# stack_dirs [SUBDIR...]: TG_WORK, the stack's cgroup root (with SUBDIRs
# below it), stack_stop on exit, certificates.
stack_dirs() {
	TG_WORK=$(mktemp -d /tmp/tg-e2e.XXXXXX)
	local mnt d
	mnt=$(cgroup2_mnt)
	[ -n "$mnt" ] || { log "no cgroup2 mount"; return 1; }
	TG_CGROOT_REL=/tracegate-e2e-$$
	TG_CGROOT=$mnt$TG_CGROOT_REL
	mkdir -p "$TG_CGROOT"
	for d in "$@"; do mkdir -p "$TG_CGROOT/$d"; done
	trap stack_stop EXIT
	"$TG_TOP/tests/certs.sh" "$TG_CERTS" || return 1
}

# Starts kubesim, one runner (node-1) and the gateway; makes pods web-a
# (team-a, systemd layout) and web-b (team-b, cgroupfs layout) from the
# kubesim fixtures, each with one process that opens a marker file of its
# own; writes a kubeconfig with one context per fixture user.
stack_start() {
	stack_dirs || return 1

	TG_KUBESIM_PORT=$(free_port)
	TG_RUNNER_PORT=$(free_port)
	TG_GATEWAY_PORT=$(free_port)
	TG_API=https://127.0.0.1:$TG_KUBESIM_PORT
	TG_RUNNER_URL=https://127.0.0.1:$TG_RUNNER_PORT
	TG_GATEWAY=https://127.0.0.1:$TG_GATEWAY_PORT

	kubesim_start || return 1
	runner_start || return 1
	gateway_start || return 1
	pods_start || return 1
	kubeconfig_write
	if [ -n "${TG_AGGREGATED:-}" ]; then
		# kubectl trace reaches the gateway through kubesim's aggregator:
		# nothing but the kubeconfig
		unset TRACEGATE_URL TRACEGATE_CA
	else
		export TRACEGATE_URL=$TG_GATEWAY TRACEGATE_CA=$TG_CERTS/ca.crt
	fi
	export KUBECONFIG=$TG_WORK/kubeconfig
}

# nodes_stack_init: the start of a stack with a runner per node (workload.sh,
# gateway-discovery.sh): TG_WORK, a cgroup root with node-1 and node-2
# below it (each runner's own root; stack_stop removes them), certificates,
# kubesim, the gateway's token in $TG_WORK/sa.token.
nodes_stack_init() {
	stack_dirs node-1 node-2 || return 1
	TG_KUBESIM_PORT=$(free_port)
	TG_API=https://127.0.0.1:$TG_KUBESIM_PORT
	kubesim_start || return 1
	fixture_token tracegate >"$TG_WORK/sa.token"
}

# node_pods_start "POD NODE LAYOUT"...: fixture pods of team-a laid out
# under their node's cgroup root, each running a process that opens
# $TG_WORK/marker-POD.
node_pods_start() {
	local p ctr
	for p in "$@"; do
		set -- $p
		: >"$TG_WORK/marker-$1"
		ctr=$(TG_CGROOT=$TG_CGROOT/$2 pod_make "$1" "$(pod_uid team-a "$1")" \
			"$(pod_qos team-a "$1")" "$3") || return 1
		pod_run "$ctr" bash -c "$(opener "$TG_WORK/marker-$1")" >/dev/null
	done
}

# runner_node_start NODE PORT [ADDR]: a runner playing NODE on ADDR:PORT
# (default 127.0.0.1) with the cgroup root $TG_CGROOT/NODE; its pid in
# RUNNER_PID and RUNNER_PID_<node> (node-1: RUNNER_PID_node_1), its log
# in $TG_WORK/runner-NODE.log (runner-NODE-ADDR.log with an ADDR).
TG_RUNNER_PIDS=()
runner_node_start() {
	local node=$1 port=$2 addr=${3:-127.0.0.1} tag=$1
	[ -n "${3:-}" ] && tag=$1-$3
	tracegate-runner serve --listen "$addr:$port" \
		--cert "$TG_CERTS/runner.crt" --key "$TG_CERTS/runner.key" \
		--client-ca "$TG_CERTS/ca.crt" --client-cn tracegate-gateway \
		--node "$node" --cgroup-root "$TG_CGROOT_REL/$node" \
		--cache-dir "$TG_WORK/cache-$tag" 2>>"$TG_WORK/runner-$tag.log" &
	RUNNER_PID=$!
	TG_PIDS+=("$RUNNER_PID")
	TG_RUNNER_PIDS+=("$RUNNER_PID")
	eval "RUNNER_PID_${node//-/_}=$RUNNER_PID"
	wait_for 10 bash -c "exec 3<>/dev/tcp/$addr/$port" || {
		log "runner $node did not start:"; cat "$TG_WORK/runner-$tag.log" >&2; return 1; }
}

# TG_AGGREGATED=1 before stack_start: kubesim aggregates tracegate.dev (the
# APIService of deploy/50-apiservice.yaml, its caBundle the test CA,
# Service tracegate/tracegate at the gateway's address), authenticates users
# by client certificate (users-ca) and publishes the front-proxy CA in the
# extension-apiserver-authentication ConfigMap, which the gateway reads
# (requestHeader); the kubeconfig gains alice-cert and bob-cert, users with
# a client certificate only.  TRACEGATE_URL is not set.
aggregated_kubesim_args() {
	local ca
	ca=$(base64 -w0 <"$TG_CERTS/ca.crt")
	sed "s|caBundle: \"\"|caBundle: $ca|" "$TG_TOP/deploy/50-apiservice.yaml" \
		>"$TG_WORK/apiservice.yaml"
	TG_AGG_ARGS=(--objects "$TG_WORK/apiservice.yaml"
		--client-ca "$TG_CERTS/users-ca.crt"
		--requestheader-client-ca "$TG_WORK/front-proxy-ca.crt"
		--requestheader-allowed-names front-proxy-client
		--proxy-client-cert "$TG_CERTS/front-proxy-client.crt"
		--proxy-client-key "$TG_CERTS/front-proxy-client.key"
		--service-endpoint "tracegate/tracegate=$TG_GATEWAY")
	# a copy: a test may rotate it (and SIGHUP kubesim)
	cp "$TG_CERTS/front-proxy-ca.crt" "$TG_WORK/front-proxy-ca.crt"
}

# A ServiceAccount tenant of team-a (system:serviceaccount:team-a:debugger,
# bound to tracegate-tracer): set TG_WITH_DEBUGGER_SA=1 before stack_start
# and use $TG_DEBUGGER_TOKEN.
TG_DEBUGGER_TOKEN=tg-sa-debugger-e2e-5c1e2a7b9d
debugger_sa_fixtures() {
	cat "$TG_FIXTURES/tokens.yaml" - >"$TG_WORK/tokens.yaml" <<EOF
- token: $TG_DEBUGGER_TOKEN
  username: system:serviceaccount:team-a:debugger
  uid: 5a7e0c1d-0000-4000-8000-0000000de8e9
  audiences: ["tracegate"]
EOF
	mkdir -p "$TG_WORK/rbac"
	cat >"$TG_WORK/rbac/debugger.yaml" <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: debugger-traces, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: tracegate-tracer}
subjects:
- {kind: ServiceAccount, name: debugger, namespace: team-a}
EOF
}

# TG_EXTRA_TOKENS=FILE adds token entries, TG_EXTRA_RBAC=DIR manifests (the
# playground's: tests/playground/).
kubesim_start() {
	local tokens=$TG_FIXTURES/tokens.yaml extra=()
	if [ -n "${TG_WITH_DEBUGGER_SA:-}" ]; then
		debugger_sa_fixtures
		tokens=$TG_WORK/tokens.yaml
		extra=(--rbac "$TG_WORK/rbac")
	fi
	if [ -n "${TG_EXTRA_TOKENS:-}" ]; then
		cat "$tokens" "$TG_EXTRA_TOKENS" >"$TG_WORK/tokens-extra.yaml"
		tokens=$TG_WORK/tokens-extra.yaml
	fi
	[ -n "${TG_EXTRA_RBAC:-}" ] && extra+=(--rbac "$TG_EXTRA_RBAC")
	TG_AGG_ARGS=()
	[ -n "${TG_AGGREGATED:-}" ] && aggregated_kubesim_args
	"$TG_KUBESIM" --listen "127.0.0.1:$TG_KUBESIM_PORT" \
		--cert "$TG_CERTS/kubesim.crt" --key "$TG_CERTS/kubesim.key" \
		--tokens "$tokens" \
		--objects "$TG_FIXTURES/objects" \
		--rbac "$TG_FIXTURES/rbac" --rbac "$TG_TOP/deploy" "${extra[@]}" "${TG_AGG_ARGS[@]}" \
		--log "$TG_WORK/kubesim.log" 2>>"$TG_WORK/kubesim.stderr" &
	TG_KUBESIM_PID=$!
	TG_PIDS+=("$TG_KUBESIM_PID")
	wait_for 10 curl -sf --cacert "$TG_CERTS/ca.crt" "$TG_API/healthz" -o /dev/null ||
		wait_for 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$TG_KUBESIM_PORT" || {
		log "kubesim did not start:"; cat "$TG_WORK/kubesim.stderr" >&2; return 1; }
}

kubesim_stop() {
	kill "$TG_KUBESIM_PID" 2>/dev/null
	wait "$TG_KUBESIM_PID" 2>/dev/null
}

# TG_RUNNER_ARGS: more options for the runner (e.g. "--max-sessions 128")
runner_start() {
	# shellcheck disable=SC2086 # options, split on purpose
	tracegate-runner serve --listen "127.0.0.1:$TG_RUNNER_PORT" \
		--cert "$TG_CERTS/runner.crt" --key "$TG_CERTS/runner.key" \
		--client-ca "$TG_CERTS/ca.crt" --client-cn tracegate-gateway \
		--node node-1 --cgroup-root "$TG_CGROOT_REL" \
		--cache-dir "$TG_WORK/cache" ${TG_RUNNER_ARGS:-} 2>>"$TG_WORK/runner.log" &
	TG_RUNNER_PID=$!
	TG_PIDS+=("$TG_RUNNER_PID")
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$TG_RUNNER_PORT" || {
		log "runner did not start:"; cat "$TG_WORK/runner.log" >&2; return 1; }
}

# TG_GATEWAY_RUNNERS: the configuration's runner keys instead of the
# static map of node-1 (e.g. "runnerDiscovery":{...}).
# TG_GATEWAY_EXTRA: more configuration keys, each followed by a comma
# (e.g. '"cache":{"allowedSeconds":2},').
gateway_start() {
	local runners="\"runners\":{\"node-1\":{\"url\":\"${TG_RUNNER_URL:-}\"}}"
	[ -n "${TG_GATEWAY_RUNNERS:-}" ] && runners=$TG_GATEWAY_RUNNERS
	local rh=
	# aggregated: the front-proxy settings from kubesim's ConfigMap, polled each second
	[ -n "${TG_AGGREGATED:-}" ] && rh='"requestHeader":{"pollSeconds":1},'
	fixture_token tracegate >"$TG_WORK/sa.token"
	TG_AUDIT=$TG_WORK/audit.log
	cat >"$TG_WORK/gateway.json" <<EOF
{"listen":"127.0.0.1:$TG_GATEWAY_PORT",
 "tls":{"cert":"$TG_CERTS/gateway.crt","key":"$TG_CERTS/gateway.key"},
 "apiServer":{"server":"$TG_API","ca":"$TG_CERTS/ca.crt","tokenFile":"$TG_WORK/sa.token"},
 "audiences":["tracegate"],
 $runners,
 "runnerTLS":{"ca":"$TG_CERTS/ca.crt","cert":"$TG_CERTS/gateway-client.crt","key":"$TG_CERTS/gateway-client.key"},
 "audit":{"path":"$TG_AUDIT"},
 $rh
 ${TG_GATEWAY_EXTRA:-}
 "policies":"${TG_POLICIES:-$TG_TOP/policy/presets}"}
EOF
	tracegate serve --config "$TG_WORK/gateway.json" 2>>"$TG_WORK/gateway.log" &
	TG_GATEWAY_PID=$!
	TG_PIDS+=("$TG_GATEWAY_PID")
	wait_for 10 curl -sf --cacert "$TG_CERTS/ca.crt" "$TG_GATEWAY/healthz" -o /dev/null || {
		log "gateway did not start:"; cat "$TG_WORK/gateway.log" >&2; return 1; }
}

# The token of a fixture user (by the user name kubesim maps it to).
# (awk, not python: a stack's start asks for about ten of them, and a
# python start costs a quarter of a second on a loaded 2-core machine)
fixture_token() {
	awk -v want="$1" '
	function flush(  u) {
		u = e["username"]
		if (have && (u == want || (length(u) > length(want) &&
		    substr(u, length(u) - length(want)) == ":" want))) {
			print e["token"]
			found = 1
		}
		split("", e)
		have = 0
	}
	# tokens.yaml: a list of {token, username, ...}; read without a YAML library
	found { exit }
	{
		s = $0
		sub(/^[ \t]+/, "", s)
		sub(/[ \t\r]+$/, "", s)
		if (substr(s, 1, 2) == "- ") {
			flush()
			if (found)
				exit
			s = substr(s, 3)
		}
		i = index(s, ":")
		if (i && substr(s, 1, 1) != "#") {
			k = substr(s, 1, i - 1)
			v = substr(s, i + 1)
			sub(/[ \t]+$/, "", k)
			sub(/^[ \t]+/, "", v)
			gsub(/^"+|"+$/, "", v)
			gsub(/^\047+|\047+$/, "", v)
			e[k] = v
			have = 1
		}
	}
	END {
		if (!found)
			flush()
		if (!found) {
			print "no token for " want > "/dev/stderr"
			exit 1
		}
	}' "$TG_FIXTURES/tokens.yaml"
}

# Pods from the fixtures, laid out on this node.
pod_uid() { # pod_uid NAMESPACE NAME
	curl -sf --cacert "$TG_CERTS/ca.crt" -H "Authorization: Bearer $(fixture_token tracegate)" \
		"$TG_API/api/v1/namespaces/$1/pods/$2" | json_get 'd["metadata"]["uid"]'
}
pod_qos() {
	curl -sf --cacert "$TG_CERTS/ca.crt" -H "Authorization: Bearer $(fixture_token tracegate)" \
		"$TG_API/api/v1/namespaces/$1/pods/$2" | json_get 'd["status"].get("qosClass","BestEffort")'
}

pods_start() {
	TG_MARK_A=$TG_WORK/marker-team-a-web-a
	TG_MARK_B=$TG_WORK/marker-team-b-web-b
	: >"$TG_MARK_A"
	: >"$TG_MARK_B"
	TG_CTR_A=$(pod_make web-a "$(pod_uid team-a web-a)" "$(pod_qos team-a web-a)" systemd) || return 1
	TG_CTR_B=$(pod_make web-b "$(pod_uid team-b web-b)" "$(pod_qos team-b web-b)" cgroupfs) || return 1
	pod_run "$TG_CTR_A" bash -c "$(opener "$TG_MARK_A")" >/dev/null
	pod_run "$TG_CTR_B" bash -c "$(opener "$TG_MARK_B")" >/dev/null
}

kubeconfig_write() {
	local u
	{
		echo "apiVersion: v1"
		echo "kind: Config"
		echo "current-context: alice"
		echo "clusters:"
		echo "- name: sim"
		echo "  cluster:"
		echo "    server: $TG_API"
		echo "    certificate-authority: $TG_CERTS/ca.crt"
		echo "users:"
		for u in alice bob carol olga oscar; do
			echo "- name: $u"
			echo "  user:"
			# aggregated, the API server itself takes the token: the
			# user's API-server token (kubesim refuses tracegate's)
			if [ -n "${TG_AGGREGATED:-}" ]; then
				echo "    token: $(grep -o "tg-$u-api-[0-9a-f]*" "$TG_FIXTURES/tokens.yaml")"
			else
				echo "    token: $(fixture_token "$u")"
			fi
		done
		echo "- name: mallory"
		echo "  user:"
		echo "    token: not-a-valid-token"
		for u in alice bob; do
			echo "- name: $u-cert"
			echo "  user:"
			echo "    client-certificate: $TG_CERTS/user-$u.crt"
			echo "    client-key: $TG_CERTS/user-$u.key"
		done
		echo "contexts:"
		for u in alice bob carol olga oscar mallory alice-cert bob-cert; do
			echo "- name: $u"
			echo "  context:"
			echo "    cluster: sim"
			echo "    user: $u"
		done
	} >"$TG_WORK/kubeconfig"
}

# kt USER SUBCOMMAND ARGS...: `kubectl trace SUBCOMMAND ARGS` through the
# real kubectl as USER (kubectl refuses flags before a plugin's name, so
# the context goes after the subcommand).
kt() {
	local user=$1 sub=$2
	shift 2
	KUBECONFIG=$TG_WORK/kubeconfig kubectl trace "$sub" --context "$user" "$@"
}
# kt_bg: the same, for `kt_bg ... &`: the background subshell becomes
# kubectl itself (which execs the plugin), so $! is the plugin's pid and
# `kill $!` really kills the client.
kt_bg() {
	local user=$1 sub=$2
	shift 2
	KUBECONFIG=$TG_WORK/kubeconfig exec kubectl trace "$sub" --context "$user" "$@"
}

# api METHOD PATH [BODY]: kubesim as its admin (system:masters)
api() {
	local body=()
	[ -n "${3:-}" ] && body=(-H 'Content-Type: application/json' --data-binary "$3")
	curl -s --cacert "$TG_CERTS/ca.crt" -H "Authorization: Bearer $(fixture_token admin)" \
		-X "$1" "${body[@]}" "$TG_API$2"
}

# Audit records (one JSON per line) as python dicts: audit_py 'EXPR over recs'
audit_py() {
	python3 - "$TG_AUDIT" "$1" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(eval(sys.argv[2]))
EOF
}

# ---- a stack of two nodes and a gateway (workload.sh, workload-*.sh) ------------
# nodes_gateway_config FILE PORT RUNNERS_JSON [LIMITS_JSON]
nodes_gateway_config() {
	local limits=
	[ -n "${4:-}" ] && limits="\"limits\":$4,"
	cat >"$1" <<EOF
{"listen":"127.0.0.1:$2",
 "tls":{"cert":"$TG_CERTS/gateway.crt","key":"$TG_CERTS/gateway.key"},
 "apiServer":{"server":"$TG_API","ca":"$TG_CERTS/ca.crt","tokenFile":"$TG_WORK/sa.token"},
 "audiences":["tracegate"],
 "runners":$3,
 "runnerTLS":{"ca":"$TG_CERTS/ca.crt","cert":"$TG_CERTS/gateway-client.crt","key":"$TG_CERTS/gateway-client.key"},
 "audit":{"path":"$TG_WORK/audit-$2.log"},
 $limits
 "policies":"$TG_TOP/policy/presets"}
EOF
}

nodes_gateway_at() { # nodes_gateway_at CONFIG PORT: starts a gateway, prints nothing
	tracegate serve --config "$1" 2>>"$TG_WORK/gateway-$2.log" &
	TG_PIDS+=("$!")
	wait_for 10 curl -sf --cacert "$TG_CERTS/ca.crt" "https://127.0.0.1:$2/healthz" -o /dev/null || {
		log "gateway on $2 did not start:"; cat "$TG_WORK/gateway-$2.log" >&2; return 1; }
}

# workload_stack_start: kubesim, runners for node-1 and node-2 (PORT1,
# PORT2), a gateway that knows both (GW_PORT, TG_GATEWAY, TG_AUDIT), the
# fixture pods web-a, web-a2, web-canary-a under their nodes' cgroup
# roots; alice's kubeconfig, and dave's (may trace pods in team-a, not
# read its workloads) in $TG_WORK/kubeconfig-dave.
workload_stack_start() {
	nodes_stack_init || return 1
	PORT1=$(free_port)
	PORT2=$(free_port)
	runner_node_start node-1 "$PORT1" || return 1
	runner_node_start node-2 "$PORT2" || return 1
	GW_PORT=$(free_port)
	nodes_gateway_config "$TG_WORK/gateway.json" "$GW_PORT" \
		"{\"node-1\":{\"url\":\"https://127.0.0.1:$PORT1\"},\"node-2\":{\"url\":\"https://127.0.0.1:$PORT2\"}}"
	nodes_gateway_at "$TG_WORK/gateway.json" "$GW_PORT" || return 1
	TG_GATEWAY=https://127.0.0.1:$GW_PORT
	TG_AUDIT=$TG_WORK/audit-$GW_PORT.log
	node_pods_start "web-a node-1 systemd" "web-a2 node-2 cgroupfs" "web-canary-a node-2 systemd" || return 1
	kubeconfig_write
	# dave: may trace pods in team-a, may not read its Deployments
	sed -e "s/^current-context: alice/current-context: dave/" \
		-e "s/^users:/users:\n- name: dave\n  user:\n    token: $(fixture_token dave)/" \
		-e "s/^contexts:/contexts:\n- name: dave\n  context:\n    cluster: sim\n    user: dave/" \
		"$TG_WORK/kubeconfig" >"$TG_WORK/kubeconfig-dave"
	export TRACEGATE_URL=$TG_GATEWAY TRACEGATE_CA=$TG_CERTS/ca.crt
	export KUBECONFIG=$TG_WORK/kubeconfig
}

# BPF programs held by one node's runner and its session children.
node_prog_ids() { TG_RUNNER_PID=$1 runner_prog_ids; }

# py CODE FILE: CODE over recs, the NDJSON records of FILE; prints the
# value of CODE's last line (the lines before it are statements)
py() {
	python3 - "$2" "$1" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
# one output record holds several printed lines: one entry per line
outs = [dict(r, text=t) for r in recs if r["type"] == "output" for t in r["text"].split("\n") if t]
lines = sys.argv[2].strip().split("\n")
exec("\n".join(lines[:-1]))
print(eval(lines[-1]))
EOF
}

# selector_stack_start: workload_stack_start, plus team-b's web-b (node-1,
# app=web) running and $TG_WORK/kubeconfig-admin with an admin context
# (system:masters: create traces and list pods at the cluster scope)
selector_stack_start() {
	local ctr
	workload_stack_start || return 1
	: >"$TG_WORK/marker-web-b"
	ctr=$(TG_CGROOT=$TG_CGROOT/node-1 pod_make web-b "$(pod_uid team-b web-b)" "$(pod_qos team-b web-b)" cgroupfs) &&
		pod_run "$ctr" bash -c "$(opener "$TG_WORK/marker-web-b")" >/dev/null || return 1
	sed -e "s/^users:/users:\n- name: admin\n  user:\n    token: $(fixture_token admin)/" \
		-e "s/^contexts:/contexts:\n- name: admin\n  context:\n    cluster: sim\n    user: admin/" \
		"$TG_WORK/kubeconfig" >"$TG_WORK/kubeconfig-admin"
}
