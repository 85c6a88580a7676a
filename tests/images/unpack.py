#!/usr/bin/env python3
"""Unpacks an OCI archive (what `make images` writes) the way a container
runtime's image store would, checking it on the way:

    tests/images/unpack.py ARCHIVE DIR

- the archive's oci-layout and index.json, one manifest;
- every blob (manifest, config, layers) matches its sha256 digest and size;
- the layers applied in order into DIR/rootfs (whiteouts honoured, no
  member leaving DIR/rootfs);
- the image config written to DIR/image.json (tests/images/check.sh reads
  the user, entrypoint and environment from it).

Exits 1 naming what was wrong."""
import gzip
import io
import hashlib
import json
import os
import shutil
import sys
import tarfile

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
LAYERS = {
    "application/vnd.oci.image.layer.v1.tar": None,
    "application/vnd.oci.image.layer.v1.tar+gzip": "gzip",
}


def fail(msg):
    print(f"unpack: {msg}", file=sys.stderr)
    sys.exit(1)


def blob(tar, desc, what):
    algo, _, hexd = desc.get("digest", "").partition(":")
    if algo != "sha256" or len(hexd) != 64:
        fail(f"{what}: digest {desc.get('digest')!r} is not sha256")
    try:
        data = tar.extractfile(f"blobs/sha256/{hexd}").read()
    except (KeyError, AttributeError):
        fail(f"{what}: blob {hexd} missing from the archive")
    if hashlib.sha256(data).hexdigest() != hexd:
        fail(f"{what}: blob {hexd} does not match its digest")
    if len(data) != desc.get("size"):
        fail(f"{what}: blob {hexd} is {len(data)} bytes, the descriptor says {desc.get('size')}")
    return data


def apply_layer(data, compression, root, what):
    if compression == "gzip":
        data = gzip.decompress(data)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as layer:
        for m in layer.getmembers():
            name = os.path.normpath(m.name.lstrip("/"))
            if name.startswith("..") or os.path.isabs(name):
                fail(f"{what}: member {m.name!r} leaves the root")
            base = os.path.basename(name)
            if base.startswith(".wh."):
                target = os.path.join(root, os.path.dirname(name), base[4:])
                if base == ".wh..wh..opq":
                    for e in os.listdir(os.path.dirname(target)):
                        p = os.path.join(os.path.dirname(target), e)
                        shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
                elif os.path.lexists(target):
                    shutil.rmtree(target) if os.path.isdir(target) and not os.path.islink(target) \
                        else os.unlink(target)
                continue
            m.name = name
            if m.islnk():
                m.linkname = os.path.normpath(m.linkname.lstrip("/"))
            layer.extract(m, root, numeric_owner=True)


def main():
    if len(sys.argv) != 3:
        fail("usage: unpack.py ARCHIVE DIR")
    archive, out = sys.argv[1], sys.argv[2]
    root = os.path.join(out, "rootfs")
    os.makedirs(root, exist_ok=False)
    with tarfile.open(archive, mode="r:") as tar:
        try:
            layout = json.load(tar.extractfile("oci-layout"))
            index = json.load(tar.extractfile("index.json"))
        except (KeyError, AttributeError, ValueError) as e:
            fail(f"{archive}: no OCI layout ({e})")
        if layout.get("imageLayoutVersion") != "1.0.0":
            fail(f"{archive}: imageLayoutVersion {layout.get('imageLayoutVersion')!r}")
        manifests = index.get("manifests", [])
        if len(manifests) != 1 or manifests[0].get("mediaType") != MANIFEST:
            fail(f"{archive}: index.json should name one image manifest, not {manifests!r}")
        manifest = json.loads(blob(tar, manifests[0], "manifest"))
        config = json.loads(blob(tar, manifest["config"], "config"))
        for i, layer in enumerate(manifest.get("layers", [])):
            mt = layer.get("mediaType")
            if mt not in LAYERS:
                fail(f"layer {i}: media type {mt!r} unknown")
            apply_layer(blob(tar, layer, f"layer {i}"), LAYERS[mt], root, f"layer {i}")
        ref = manifests[0].get("annotations", {}).get("org.opencontainers.image.ref.name", "")
    with open(os.path.join(out, "image.json"), "w") as f:
        json.dump({"ref": ref, "layers": len(manifest.get("layers", [])), **config}, f, indent=1)


if __name__ == "__main__":
    main()
