#!/usr/bin/env bash
# Build stage images: ops/images.sh [STAGE…]   (default: bronze silver gold)
# First the two shared images every stage builds FROM (ops/image/base.Containerfile, targets
# build and runtime: makerates-build:<tag>, makerates-runtime:<tag>), then each stage.
# Tags: makerates-<stage>:<git revision> and makerates-<stage>:local (see ops/engine.sh).
#
# Optional environment:
#   PYTHON_IMAGE, UV_IMAGE   base images of the shared images (build args); defaults are pinned
#                            in ops/image/base.Containerfile
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
for stage in "${stages[@]}"; do check_stage "$stage"; done
if [ -n "${BUILD_CA_BUNDLE:-}" ] && [ ! -r "$BUILD_CA_BUNDLE" ]; then
  echo "BUILD_CA_BUNDLE=$BUILD_CA_BUNDLE is not readable" >&2; exit 2
fi
revision="$(git rev-parse HEAD)"
# One tag for the whole build, though HEAD may move meanwhile (the stages name the base by it).
IMAGE_TAG="$(image_tag)"
export IMAGE_TAG
tag="$IMAGE_TAG"
secret=()
[ -n "${BUILD_CA_BUNDLE:-}" ] && secret=(--secret "id=ca_bundle,src=$BUILD_CA_BUNDLE")

# `build IGNOREFILE ARGS…`: one engine build from the repository root, its allow-list applied.
build() {
  local ignorefile="$1"; shift
  local args=(build "$@")
  if [ "$ENGINE" = podman ]; then
    # buildah does not look for <Dockerfile>.dockerignore by itself; BuildKit does.
    args+=(--isolation=chroot --network host --ignorefile "$ignorefile")
  else
    export DOCKER_BUILDKIT=1
  fi
  echo "==> $ENGINE ${args[*]} ."
  "$ENGINE" "${args[@]}" .
}

start=$(date +%s)
for target in "${BASE_TARGETS[@]}"; do
  args=(-f ops/image/base.Containerfile --target "$target"
    -t "$(image_ref "$target")" -t "${IMAGE_PREFIX:-}makerates-$target:local" "${secret[@]}")
  [ -n "${PYTHON_IMAGE:-}" ] && args+=(--build-arg "PYTHON_IMAGE=$PYTHON_IMAGE")
  [ -n "${UV_IMAGE:-}" ] && args+=(--build-arg "UV_IMAGE=$UV_IMAGE")
  build ops/image/base.Containerfile.dockerignore "${args[@]}"
done
echo "==> $(image_ref build) and $(image_ref runtime) built in $(($(date +%s) - start)) s"

for stage in "${stages[@]}"; do
  args=(-f "stages/$stage/Dockerfile"
    -t "$(image_ref "$stage")" -t "${IMAGE_PREFIX:-}makerates-$stage:local"
    --build-arg "REVISION=$revision"
    --build-arg "VERSION=${VERSION:-0.0.0+$tag}")
  [ -n "${SOURCE:-}" ] && args+=(--build-arg "SOURCE=$SOURCE")
  args+=(--build-arg "BUILD_IMAGE=$(image_ref build)" --build-arg "RUNTIME_IMAGE=$(image_ref runtime)")
  args+=("${secret[@]}")
  start=$(date +%s)
  build "stages/$stage/Dockerfile.dockerignore" "${args[@]}"
  echo "==> $(image_ref "$stage") built in $(($(date +%s) - start)) s"
done
