# shellcheck shell=bash
# The harness of tests/e2e/exec-user-programs*.sh: `same NAME PROG [SED]`
# runs PROG under `tracegate-runner exec` and under bpftrace 0.17 (with
# `-c WORKLOAD` when it names cpid or @WL@) and compares stdout exactly.
# WORKLOAD is tests/tools/lib-user-workload.c.  Sourced, never run.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
UP_TITLE=${UP_TITLE:-exec user programs}
RUNNER=${TG_RUNNER:-$TG_BIN/tracegate-runner}
WL=$TG_TOP/build/tests/tools/lib-user-workload
need_bpf "$UP_TITLE" || exit 0
if [ ! -x "$RUNNER" ] || [ ! -x "$WL" ]; then
	tap_fail "$UP_TITLE: $RUNNER or $WL is not built"
	exit 0
fi
BT=$(command -v bpftrace || true)
if [ -z "$BT" ] || ! "$BT" --version 2>/dev/null | grep -q 'v0\.17\.'; then
	tap_skip_or_fail "$UP_TITLE" "bpftrace 0.17 is not installed"
	exit 0
fi
work=$(mktemp -d /tmp/tg-userprog.XXXXXX)
trap 'if [ "$BASHPID" = "$$" ]; then rm -rf "$work"; fi' EXIT
# UP_WL_NAME: the workload runs as a copy of that name (its own inode for
# uprobes, its own comm), so that files running at once in other lanes
# do not trace each other's workload.
if [ -n "${UP_WL_NAME:-}" ]; then
	cp "$WL" "$work/$UP_WL_NAME" || { tap_fail "$UP_TITLE: cannot copy $WL"; exit 0; }
	WL=$work/$UP_WL_NAME
fi

# Entries of equal value in a map printed at exit come in the kernel's
# hash order in bpftrace 0.17 (std::sort by value of what
# bpf_get_next_key returned; the hash seed is random per map), so each
# run of map lines with one value is sorted before comparing.
# (perl, not python: this runs twice per program, 370 programs, and a
# python start costs a quarter of a second on a loaded 2-core machine)
ties() {
	perl -e '
		local $/;
		my @lines = split /\n/, <STDIN> // "", -1;
		my (@out, @run, $key);
		for my $l (@lines, undef) {
			my $k;
			$k = "$1 $2" if defined $l && $l =~ /^(@[A-Za-z0-9_]*)\[.*\]: (-?[0-9]+)$/;
			if (!defined $k || !defined $key || $k ne $key) {
				push @out, sort @run;
				@run = ();
			}
			$key = $k;
			if (defined $k) { push @run, $l } elsif (defined $l) { push @out, $l }
		}
		print join("\n", @out);
	' <"$1" >"$1.t" && mv "$1.t" "$1"
}

# [FLAGS=...] [ARGS=...] same NAME PROG [SED]: PROG (with @WL@ the
# workload's path), given the positional parameters ARGS (words), prints
# the same under both tracers once SED (a sed script) has run over each
# output.  A program that names cpid or the workload runs with
# `-c WORKLOAD` (and ends when it exits), any other as it is.
same() {
	local name=$1 prog=${2//@WL@/$WL} norm=${3:-} rc brc
	local -a cmd=()
	case $2 in *cpid*|*@WL@*) cmd=(-c "$WL") ;; esac
	# Without the workload nothing either tracer sees depends on the
	# other, so the two run at once (bpftrace takes about a second to
	# start); with it they run in turn: each would trace the other's
	# workload through its uprobes and comm filters.
	# shellcheck disable=SC2086 # FLAGS, ARGS: words, e.g. FLAGS="-f json" same ...
	timeout 60 "$BT" ${FLAGS:-} "${cmd[@]}" -e "$prog" ${ARGS:-} >"$work/bt" 2>"$work/bt.err" &
	local bpid=$!
	((${#cmd[@]})) && { wait "$bpid"; brc=$?; }
	# shellcheck disable=SC2086 # FLAGS, ARGS: words
	timeout 60 "$RUNNER" exec --cache-dir "$work/cache" ${FLAGS:-} "${cmd[@]}" -e "$prog" ${ARGS:-} \
		>"$work/ours" 2>"$work/ours.err"
	rc=$?
	((${#cmd[@]})) || { wait "$bpid"; brc=$?; }
	# bpftrace 0.17 itself aborts now and then when the workload's
	# /proc/PID/exe is gone before it resolves a user stack
	# (std::filesystem read_symlink throws): the reference, not the
	# comparison, failed, so it runs again (in turn: nothing else runs).
	local again=0
	while [ $brc -eq 134 ] && [ $again -lt 2 ] &&
		grep -qE 'filesystem error: read_symlink.*\[/proc/[0-9]+/exe\]' "$work/bt.err"; do
		again=$((again + 1))
		echo "# $name: bpftrace 0.17 aborted resolving /proc/PID/exe; running it again ($again)"
		# shellcheck disable=SC2086 # FLAGS, ARGS: words
		timeout 60 "$BT" ${FLAGS:-} "${cmd[@]}" -e "$prog" ${ARGS:-} >"$work/bt" 2>"$work/bt.err"
		brc=$?
	done
	ties "$work/ours"
	ties "$work/bt"
	if [ -n "$norm" ]; then
		sed -E -i -e "$norm" "$work/ours" "$work/bt"
	fi
	if [ $rc -eq $brc ] && [ -s "$work/bt" ] && diff "$work/bt" "$work/ours" >"$work/diff"; then
		tap_ok "$UP_TITLE: $name"
	else
		tap_fail "$UP_TITLE: $name" "rc=$rc bpftrace rc=$brc" "program: $prog" \
			"$(cat "$work/diff")" "$(grep -v RLIMIT_MEMLOCK "$work/bt.err")" "$(cat "$work/ours.err")"
	fi
}

