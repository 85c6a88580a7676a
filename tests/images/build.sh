#!/usr/bin/env bash
# Builds the OCI images of the gateway and the runner (`make images`)
# from this machine's Debian packages, pulling nothing from a registry:
# each root filesystem is assembled here (the binaries, the shared
# libraries they need, CA certificates, /etc/passwd; the runner's clang
# for the BPF target and the headers its compile jail shows clang) and
# committed by buildah from scratch.
#
#   tests/images/build.sh           both images
#   tests/images/build.sh --list    the image names it builds, one a line
#
# Environment:
#   IMAGE_PREFIX   registry and path before the image name (default
#                  localhost/tracegate): IMAGE_PREFIX/tracegate-gateway:TAG
#   IMAGE_TAG      default: the build's version, VERSION-gCOMMIT[-dirty]
#                  (build/gen/version.h, what `tracegate --version` prints)
#   BIN            where the binaries are (default bin)
#   STORAGE_DRIVER containers-storage driver for buildah (default vfs)
#
# Writes build/images/NAME.tar (an OCI archive per image), loads each into
# the local containers-storage as IMAGE_PREFIX/NAME:TAG, and writes
# build/images/images.txt (reference, sizes) and build/images/
# kustomization.yaml (deploy with exactly these images).
# docs/deployment.md: "Images".
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD

images=(tracegate-gateway tracegate-runner)
if [ "${1:-}" = --list ]; then
	printf '%s\n' "${images[@]}"
	exit 0
fi
[ $# -eq 0 ] || { echo "usage: $0 [--list]" >&2; exit 2; }

die() { echo "images: $*" >&2; exit 1; }

# buildah mounts a container's root: root, or root in a user namespace
if [ "$(id -u)" -ne 0 ]; then
	command -v buildah >/dev/null || die "buildah not found (make images-deps)"
	exec buildah unshare "$0" "$@"
fi
command -v buildah >/dev/null || die "buildah not found (make images-deps installs it)"
export STORAGE_DRIVER=${STORAGE_DRIVER:-vfs}

bin=${BIN:-bin}
prefix=${IMAGE_PREFIX:-localhost/tracegate}
# the prefix lands in image references and in a kustomization
[[ $prefix =~ ^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$ ]] ||
	die "IMAGE_PREFIX \"$prefix\" is not a registry/path (lower case letters, digits, '.', '_', '-', '/', a :port)"

vh=build/gen/version.h
[ -r "$vh" ] || die "$vh missing: build first (make)"
version=$(sed -n 's/^#define TG_VERSION "\(.*\)"$/\1/p' "$vh")
commit=$(sed -n 's/^#define TG_GIT_COMMIT "\(.*\)"$/\1/p' "$vh")
built=$(sed -n 's/^#define TG_BUILD_DATE "\(.*\)"$/\1/p' "$vh")
tag=${IMAGE_TAG:-$version-g$commit}
[[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "IMAGE_TAG \"$tag\" is not an image tag"
for b in tracegate tracegate-runner; do
	[ -x "$bin/$b" ] || die "$bin/$b missing: build first (make)"
	"$bin/$b" --version | grep -qF " $version (commit $commit," ||
		die "$bin/$b is not the build $vh describes (make again)"
done
# the layers' file times and the image's creation time: the commit's, so
# the same tree and packages give the same layer
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)

out=build/images
stage=$out/rootfs
mkdir -p "$out"

arch_triplet=$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)

# --- assembling a root filesystem ---------------------------------------------
root=
# add PATH...: copies each host path into $root at the same place, a
# symbolic link as a link and then what it points at; the directories on
# the way are the host's real ones (/lib/... is /usr/lib/... on a
# merged-/usr system, and so in the image).
add() {
	local p d b t
	for p; do
		d=$(realpath -e "$(dirname "$p")") || die "$p: no such directory"
		b=$(basename "$p")
		p=${d%/}/$b
		[ -e "$p" ] || [ -L "$p" ] || die "$p: no such file"
		[ -e "$root$p" ] || [ -L "$root$p" ] && continue
		mkdir -p "$root$d"
		cp -a "$p" "$root$p"
		if [ -L "$p" ]; then
			t=$(readlink "$p")
			[[ $t = /* ]] || t=$d/$t
			add "$t"
		fi
	done
}

# add_libs ELF...: the shared libraries each ELF file loads (ldd's answer:
# the host's, so the Debian packages installed here)
add_libs() {
	local f libs
	for f; do
		libs=$(ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }') ||
			die "ldd $f failed"
		# shellcheck disable=SC2086
		[ -z "$libs" ] || add $libs
	done
}

# the skeleton every image has: merged /usr, /etc basics, the loader cache
skeleton() { # user-lines group-lines
	rm -rf "$root"
	mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib/"$arch_triplet",usr/lib64,etc,proc,sys,dev,run,tmp,var}
	ln -s usr/bin "$root/bin"
	ln -s usr/sbin "$root/sbin"
	ln -s usr/lib "$root/lib"
	ln -s usr/lib64 "$root/lib64"
	chmod 1777 "$root/tmp"
	printf '%s\n' "$1" > "$root/etc/passwd"
	printf '%s\n' "$2" > "$root/etc/group"
	printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$root/etc/nsswitch.conf"
	add /etc/ssl/certs/ca-certificates.crt
}

# which Debian packages the image's files come from (dpkg knows the /lib,
# /bin paths of a merged-/usr system under either name), their versions
# and copyright files, in /usr/share/doc/tracegate/packages.txt
packages() {
	local list pkgs p
	# (/usr only: /etc's files are written here; the CA bundle is
	# ca-certificates')
	list=$(cd "$root" && find usr -type f -printf '/%p\n' | sed -e p -e 's,^/usr/\(lib\|bin\|sbin\)/,/\1/,' | sort -u)
	# (dpkg -S fails for the files no package owns: ours, the generated ones)
	pkgs=$({ xargs -r dpkg -S 2>/dev/null <<< "$list" || true; echo "ca-certificates: x"; } |
		sed -n 's/^\([^ ]*\): .*/\1/p' | tr ',' '\n' | sed 's/^ *//; s/:.*//' | sort -u)
	mkdir -p "$root/usr/share/doc/tracegate"
	for p in $pkgs; do
		dpkg-query -W -f='${Package} ${Version}\n' "$p"
		if [ -f "/usr/share/doc/$p/copyright" ]; then
			mkdir -p "$root/usr/share/doc/$p"
			cp "/usr/share/doc/$p/copyright" "$root/usr/share/doc/$p/copyright"
		fi
	done > "$root/usr/share/doc/tracegate/packages.txt"
}

finish() {
	# the loader's cache (the compile jail shows clang /etc/ld.so.cache)
	printf '/usr/local/lib\n/usr/lib/%s\n' "$arch_triplet" > "$root/etc/ld.so.conf"
	ldconfig -r "$root"
	packages
}

# --- the gateway: the program, its libraries, a user of its own -------------
gateway_rootfs() {
	root=$top/$stage/tracegate-gateway
	skeleton "root:x:0:0:root:/root:/usr/sbin/nologin
nonroot:x:65532:65532:tracegate gateway:/nonexistent:/usr/sbin/nologin" "root:x:0:
nonroot:x:65532:"
	install -m 0755 "$bin/tracegate" "$root/usr/bin/tracegate"
	add_libs "$root/usr/bin/tracegate"
	# what the Deployment mounts: configuration, certificates, the audit log
	mkdir -p "$root/etc/tracegate" "$root/var/log/tracegate"
	chown 65532:65532 "$root/var/log/tracegate"
	finish
}

# --- the runner: the program, clang for the BPF target, the headers --------
runner_rootfs() {
	local clang res
	root=$top/$stage/tracegate-runner
	skeleton "root:x:0:0:root:/root:/usr/sbin/nologin" "root:x:0:"
	install -m 0755 "$bin/tracegate-runner" "$root/usr/bin/tracegate-runner"
	add_libs "$root/usr/bin/tracegate-runner"
	# /usr/bin/clang (runner/compile.c) and its installation prefix, which
	# the compile jail bind-mounts whole (docs/internals/runner.md)
	command -v clang >/dev/null || die "clang not found (make deps)"
	add /usr/bin/clang
	clang=$(realpath /usr/bin/clang)
	add_libs "$clang"
	# the resource directory: clang's own headers (stddef.h, stdint.h, ...)
	res=$("$clang" -print-resource-dir)
	[ -d "$res/include" ] || die "clang's resource headers not found at $res/include"
	add "$res/include"
	# the system headers clang is shown: libbpf's (<bpf/usdt.bpf.h>) and
	# the kernel's UAPI (<linux/errno.h> and the multiarch <asm/...>)
	dpkg-query -L libbpf-dev linux-libc-dev | grep '^/usr/include/.*\.h$' |
		while IFS= read -r h; do [ -f "$h" ] && printf '%s\n' "$h"; done |
		(cd / && cpio -pdm --quiet "$root") || die "copying the headers failed"
	mkdir -p "$root/usr/local/include"
	# local time for time() and strftime() with TZ set (tzdata)
	[ -d /usr/share/zoneinfo ] && add /usr/share/zoneinfo
	# the compile uids' lock (a hostPath in the DaemonSet) and the cache
	mkdir -p "$root/run/tracegate" "$root/var/cache/tracegate"
	chmod 0700 "$root/run/tracegate" "$root/var/cache/tracegate"
	finish
}

# --- committing ---------------------------------------------------------------
# commit NAME USER ENTRYPOINT CMD: the staged root as one layer on scratch
commit() {
	local name=$1 user=$2 entry=$3 cmd=$4 ref c mnt old new
	ref=$prefix/$name:$tag
	# the image this tag named before (a rebuild): removed once untagged
	old=$(buildah images --quiet --no-trunc "$ref" 2>/dev/null || true)
	c=$(buildah from --name "tg-images-$name-$$" scratch)
	# shellcheck disable=SC2064
	trap "buildah rm '$c' >/dev/null 2>&1 || true" EXIT
	mnt=$(buildah mount "$c")
	cp -a "$top/$stage/$name/." "$mnt/"
	buildah umount "$c" >/dev/null
	buildah config --user "$user" --entrypoint "$entry" --cmd "$cmd" --workingdir / \
		--env PATH=/usr/sbin:/usr/bin \
		--label org.opencontainers.image.title="$name" \
		--label org.opencontainers.image.version="$tag" \
		--label org.opencontainers.image.revision="$commit" \
		--label org.opencontainers.image.created="$built" \
		--label org.opencontainers.image.licenses=Apache-2.0 \
		--label org.opencontainers.image.description="tracegate $name: Debian packages, see /usr/share/doc/tracegate/packages.txt" \
		"$c"
	buildah commit --quiet --rm --timestamp "$epoch" "$c" "containers-storage:$ref" >/dev/null
	trap - EXIT
	# the release line's tag too, which deploy/kustomization.yaml names
	[ "$tag" = "$version" ] || buildah tag "$ref" "$prefix/$name:$version"
	new=$(buildah images --quiet --no-trunc "$ref")
	# (by id: refused while another tag still names it)
	if [ -n "$old" ] && [ "$old" != "$new" ]; then
		buildah rmi "$old" >/dev/null 2>&1 || true
	fi
	rm -f "$out/$name.tar"
	buildah push --quiet "$ref" "oci-archive:$top/$out/$name.tar:$ref" >/dev/null
	printf '%s %s %s\n' "$ref" "$(du -sb "$top/$stage/$name" | cut -f1)" "$(stat -c %s "$out/$name.tar")" \
		>> "$out/images.txt.new"
	echo "images: $ref -> $out/$name.tar"
}

rm -f "$out/images.txt.new"
gateway_rootfs
commit tracegate-gateway 65532:65532 '["/usr/bin/tracegate"]' \
	'["serve", "--config", "/etc/tracegate/gateway.json"]'
runner_rootfs
commit tracegate-runner 0:0 '["/usr/bin/tracegate-runner"]' '["--help"]'

{
	echo "# reference, root filesystem bytes, OCI archive bytes (tests/images/build.sh)"
	cat "$out/images.txt.new"
} > "$out/images.txt"
rm -f "$out/images.txt.new"

# the name deploy/kustomization.yaml gives image NAME (its newName)
base_name() {
	awk -v n="$1" '$1 == "-" && $2 == "name:" { cur = $3 } $1 == "newName:" && cur == n { print $2 }' \
		deploy/kustomization.yaml
}

# deploy with exactly the images just built:
#   kubectl apply -k build/images/
cat > "$out/kustomization.yaml" <<EOF
# Written by tests/images/build.sh: deploy with the images it built.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../deploy
images:
$(for n in "${images[@]}"; do printf -- '- name: %s\n  newName: %s\n  newTag: "%s"\n' \
	"$(base_name "$n")" "$prefix/$n" "$tag"; done)
EOF
awk 'NR > 1 { printf "images: %s: root filesystem %.1f MB, archive %.1f MB\n", $1, $2 / 1e6, $3 / 1e6 }' "$out/images.txt"
