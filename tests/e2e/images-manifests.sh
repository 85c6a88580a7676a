#!/usr/bin/env bash
# The manifests name the images `make images` builds (a static check: the
# images themselves are built and run by `make images`, tests/images/,
# which `make test` does not do):
# - every container image in deploy/*.yaml is a bare name that
#   tests/images/build.sh --list builds, and each of those is named;
# - deploy/kustomization.yaml maps each to REGISTRY/NAME (newName)
#   at the release tag (newTag: the Makefile's TG_VERSION_STR), and lists
#   every manifest file as a resource, so `kubectl apply -k` misses none;
# - `kubectl kustomize` renders the directory with exactly those images.
source "$(dirname "$0")/lib.sh"
cd "$TG_TOP" || exit 1
m=deploy
k=$m/kustomization.yaml
T="images manifests"

built=$(tests/images/build.sh --list | sort)
if [ -z "$built" ]; then
	tap_fail "$T: tests/images/build.sh --list names no image"
	exit 0
fi

# the images the manifests name (image: lines of the yaml files)
named=$(grep -h -E '^[[:space:]]*(- )?image:' $m/*.yaml | sed -E 's/^[[:space:]]*(- )?image:[[:space:]]*//; s/[[:space:]]*(#.*)?$//; s/^"(.*)"$/\1/' | sort -u)
if [ "$named" = "$built" ]; then
	tap_ok "$T: the manifests name exactly the images make images builds ($(echo $built))"
else
	tap_fail "$T: the manifests name exactly the images make images builds" \
		"named: $(echo $named)" "built: $(echo $built)"
fi

# the kustomization: each built image mapped to */NAME at the release tag
version=$(sed -n 's/^TG_VERSION_STR *:= *//p' Makefile)
mapped=$(awk '$1 == "-" && $2 == "name:" { n = $3 } $1 == "newName:" { nn[n] = $2 }
	$1 == "newTag:" { t = $2; gsub(/"/, "", t); print n, nn[n], t }' "$k" | sort)
want=$(for n in $built; do
	nn=$(awk -v n="$n" '$1 == "-" && $2 == "name:" { c = $3 } $1 == "newName:" && c == n { print $2 }' "$k")
	printf '%s %s %s\n' "$n" "$nn" "$version"
	[[ $nn = */"$n" ]] || echo "bad-newName-for-$n"
done | sort)
if [ -n "$version" ] && [ "$mapped" = "$want" ]; then
	tap_ok "$T: kustomization.yaml maps each image to REGISTRY/NAME:$version"
else
	tap_fail "$T: kustomization.yaml maps each image to REGISTRY/NAME:$version" "got:" "$mapped" "want:" "$want"
fi

files=$(for f in "$m"/*.yaml; do f=${f##*/}; [ "$f" = kustomization.yaml ] || echo "$f"; done | sort)
resources=$(sed -n 's/^- \([^ ]*\.yaml\)$/\1/p' "$k" | sort)
if [ "$files" = "$resources" ]; then
	tap_ok "$T: kustomization.yaml lists every manifest as a resource"
else
	tap_fail "$T: kustomization.yaml lists every manifest as a resource" \
		"files: $(echo $files)" "resources: $(echo $resources)"
fi

if ! command -v kubectl >/dev/null; then
	tap_skip_or_fail "$T: kubectl kustomize renders the manifests" "kubectl not installed"
	exit 0
fi
if out=$(kubectl kustomize "$m" 2>&1); then
	rendered=$(sed -n 's/^[[:space:]]*image:[[:space:]]*//p' <<< "$out" | sort -u)
	want=$(awk '{ print $2 ":" $3 }' <<< "$mapped" | sort -u)
	if [ "$rendered" = "$want" ]; then
		tap_ok "$T: kubectl kustomize renders the images as $(echo $rendered)"
	else
		tap_fail "$T: kubectl kustomize renders the images" "got: $(echo $rendered)" "want: $(echo $want)"
	fi
else
	tap_fail "$T: kubectl kustomize renders the manifests" "$out"
fi
