#!/usr/bin/env bash
# Make the base images the stage Dockerfiles need, without a registry (podman only):
#   localhost/debian:bookworm-minbase   debootstrap --variant=minbase + podman import
#   localhost/makerates-python:3.11     + python3, ca-certificates (ops/smoke/python-base.Containerfile)
#   localhost/uv:host                   the host's uv binary at /uv (ops/smoke/uv.Containerfile)
# Needs: podman, debootstrap (install_podman in ops/engine.sh installs them), root.
# Existing images are kept; FORCE=1 rebuilds them. The debootstrap'd rootfs is kept as a tar in
# MAKERATES_CACHE_DIR (default /var/tmp/makerates-cache), so a new podman storage imports it in
# seconds instead of bootstrapping Debian again; delete the tar to refresh it.
set -euo pipefail
cd "$(dirname "$0")/.."
source ops/engine.sh
CONTAINER_ENGINE=podman detect_engine
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
have() { [ -z "${FORCE:-}" ] && podman image exists "$1"; }

cache="${MAKERATES_CACHE_DIR:-/var/tmp/makerates-cache}"
rootfs_tar="$cache/debian-bookworm-minbase.tar"

rootfs=""
trap '[ -z "$rootfs" ] || rm -rf "$rootfs"' EXIT
bootstrap() {
  rootfs="$(mktemp -d /var/tmp/makerates-rootfs.XXXXXX)"
  echo "==> debootstrap bookworm from $mirror (kept in $rootfs_tar)"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
  mkdir -p "$cache"
  tar -C "$rootfs" -cf "$rootfs_tar.part" . && mv "$rootfs_tar.part" "$rootfs_tar"
}

if ! have localhost/debian:bookworm-minbase; then
  if [ -n "${FORCE:-}" ] || [ ! -s "$rootfs_tar" ]; then bootstrap; fi
  podman import - localhost/debian:bookworm-minbase <"$rootfs_tar" >/dev/null
fi
if ! have localhost/makerates-python:3.11; then
  podman build --isolation=chroot -q -t localhost/makerates-python:3.11 \
    -f ops/smoke/python-base.Containerfile ops/smoke >/dev/null
fi
if ! have localhost/uv:host; then
  ctx="$(mktemp -d)"
  # The uv binary itself: `uv run` names it in UV; a `uv` on PATH may be a shim (pyenv's).
  uv_bin="${UV:-$(python3 -c 'import uv; print(uv.find_uv_bin())' 2>/dev/null || command -v uv)}"
  cp "$(readlink -f "$uv_bin")" "$ctx/uv"
  [ "$(head -c4 "$ctx/uv" | tail -c3)" = ELF ] || {
    echo "$uv_bin is not the uv binary; set UV to it (python3 -m pip install uv)" >&2; exit 1; }
  podman build --isolation=chroot -q -t localhost/uv:host -f ops/smoke/uv.Containerfile "$ctx" >/dev/null
  rm -rf "$ctx"
fi
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'debian:bookworm-minbase|makerates-python|uv:host'
