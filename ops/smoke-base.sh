#!/usr/bin/env bash
# Make the base images the stage Dockerfiles need, without a registry (podman only):
#   localhost/debian:bookworm-minbase   debootstrap --variant=minbase + podman import
#   localhost/makerates-python:3.11     + python3, ca-certificates (ops/smoke/python-base.Containerfile)
#   localhost/uv:host                   the host's uv binary at /uv (ops/smoke/uv.Containerfile)
# Needs: podman, debootstrap (apt-get install -y podman buildah runc debootstrap), root.
# Existing images are kept; FORCE=1 rebuilds them.
set -euo pipefail
cd "$(dirname "$0")/.."
source ops/engine.sh
CONTAINER_ENGINE=podman detect_engine
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
have() { [ -z "${FORCE:-}" ] && podman image exists "$1"; }

if ! have localhost/debian:bookworm-minbase; then
  rootfs="$(mktemp -d /var/tmp/makerates-rootfs.XXXXXX)"
  trap 'rm -rf "$rootfs"' EXIT
  echo "==> debootstrap bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
  tar -C "$rootfs" -c . | podman import - localhost/debian:bookworm-minbase >/dev/null
fi
if ! have localhost/makerates-python:3.11; then
  podman build --isolation=chroot -q -t localhost/makerates-python:3.11 \
    -f ops/smoke/python-base.Containerfile ops/smoke >/dev/null
fi
if ! have localhost/uv:host; then
  ctx="$(mktemp -d)"
  uv_bin="$(python3 -c 'import uv; print(uv.find_uv_bin())' 2>/dev/null || command -v uv)"
  cp "$(readlink -f "$uv_bin")" "$ctx/uv"
  podman build --isolation=chroot -q -t localhost/uv:host -f ops/smoke/uv.Containerfile "$ctx" >/dev/null
  rm -rf "$ctx"
fi
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'debian:bookworm-minbase|makerates-python|uv:host'
