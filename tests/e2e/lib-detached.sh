# shellcheck shell=bash
# What tests/e2e/gateway-audit-detached*.sh share, sourced after lib.sh and
# need_bpf: a started stack and its cleanup (every pid in TG_PIDS killed),
# W, `detach SECONDS` (starts a detached trace of $PROG as alice on
# pod/web-a, prints its id) and `runner_det ID` (the runner's own view of
# the session, with the gateway's mTLS client certificate).  DET_TITLE
# names the file in a failure to start.
stack_start || { tap_fail "$DET_TITLE: stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 1; }
cleanup() {
	local p
	for p in "${TG_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	stack_stop
}
trap 'if [ "$BASHPID" = "$$" ]; then cleanup; fi' EXIT
W=$TG_WORK
detach() {
	kt alice run pod/web-a -n team-a -e "$PROG" --duration "$1" --detach 2>>"$W/detach.err" |
		sed -n 's|^trace.tracegate.dev/\([0-9a-f-]*\) created$|\1|p'
}
runner_det() {
	curl -sS --cacert "$TG_CERTS/ca.crt" --cert "$TG_CERTS/gateway-client.crt" \
		--key "$TG_CERTS/gateway-client.key" "$TG_RUNNER_URL/v1/detached/$1"
}
