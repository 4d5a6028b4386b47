#!/usr/bin/env bash
# Build stage images: ops/images.sh [STAGE…]   (default: bronze silver gold)
# Tags: makerates-<stage>:<git revision> and makerates-<stage>:local (see ops/engine.sh).
#
# Optional environment:
#   PYTHON_IMAGE, UV_IMAGE   base images (build args); defaults are pinned in the Dockerfiles
#   BUILD_CA_BUNDLE          a CA bundle handed to the build as secret `ca_bundle` (for TLS-
#                            intercepting proxies); never stored in a layer
#   VERSION                  the org.opencontainers.image.version label (default: 0.0.0+<rev>)
#   SOURCE                   the org.opencontainers.image.source label
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ops/engine.sh
source ops/engine.sh
detect_engine

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=("${STAGES[@]}")
revision="$(git rev-parse HEAD)"
tag="$(image_tag)"

for stage in "${stages[@]}"; do
  check_stage "$stage"
  args=(build -f "stages/$stage/Dockerfile"
    -t "$(image_ref "$stage")" -t "${IMAGE_PREFIX:-}makerates-$stage:local"
    --build-arg "REVISION=$revision"
    --build-arg "VERSION=${VERSION:-0.0.0+$tag}")
  [ -n "${SOURCE:-}" ] && args+=(--build-arg "SOURCE=$SOURCE")
  [ -n "${PYTHON_IMAGE:-}" ] && args+=(--build-arg "PYTHON_IMAGE=$PYTHON_IMAGE")
  [ -n "${UV_IMAGE:-}" ] && args+=(--build-arg "UV_IMAGE=$UV_IMAGE")
  if [ -n "${BUILD_CA_BUNDLE:-}" ]; then
    [ -r "$BUILD_CA_BUNDLE" ] || { echo "BUILD_CA_BUNDLE=$BUILD_CA_BUNDLE is not readable" >&2; exit 2; }
    args+=(--secret "id=ca_bundle,src=$BUILD_CA_BUNDLE")
  fi
  if [ "$ENGINE" = podman ]; then
    # buildah does not look for <Dockerfile>.dockerignore by itself; BuildKit does.
    args+=(--isolation=chroot --ignorefile "stages/$stage/Dockerfile.dockerignore")
  else
    export DOCKER_BUILDKIT=1
  fi
  echo "==> $ENGINE ${args[*]} ."
  start=$(date +%s)
  "$ENGINE" "${args[@]}" .
  echo "==> $(image_ref "$stage") built in $(($(date +%s) - start)) s"
done
