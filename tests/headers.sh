#!/usr/bin/env bash
# Every header compiles on its own (issue 12): a header includes what it
# uses, so any file may include it first.  Prints one TAP line per header.
# Run from the top of the tree; CC and the package list as the Makefile's.
set -uo pipefail
cd "$(dirname "$0")/.."
pkgs="libbpf libelf libcurl openssl jansson libseccomp libevent libevent_openssl yaml-0.1 zlib"
# shellcheck disable=SC2086
cflags=$(pkg-config --cflags $pkgs 2>/dev/null)
rc=0
while IFS= read -r h; do
	# shellcheck disable=SC2086
	if out=$(${CC:-cc} -std=gnu11 -D_GNU_SOURCE -I. $cflags -Wall -Wextra -Werror \
		-Wno-unused-parameter -Wno-unused-function -fsyntax-only -include "$h" -x c /dev/null 2>&1); then
		echo "ok - headers: $h compiles on its own"
	else
		echo "not ok - headers: $h does not compile on its own"
		printf '%s\n' "$out" | head -5 | sed 's/^/#   /'
		rc=1
	fi
done < <(find lib lang output policy kube wire runner gateway plugin tests -name '*.h' -not -path 'tests/compat/*' | LC_ALL=C sort)
exit $rc
