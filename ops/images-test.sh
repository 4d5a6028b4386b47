#!/usr/bin/env bash
# The images job (`just images-test`; .ci/run after the test suite; ci.yml's images job):
#   1. an engine: Docker when its daemon answers, else podman, installed from Debian's packages
#      with what it needs when missing (ops/engine.sh install_podman; root)
#   2. the base images: pulled when the registries answer, else made offline
#      (ops/smoke-base.sh: debootstrap, its rootfs kept in MAKERATES_CACHE_DIR)
#   3. the shared base once, then the three stage images (ops/images.sh), and their sizes against
#      the targets, contents, user and labels (ops/images-size.sh)
#   4. ops/images-chain.sh: the containers chained by ops/pipeline-docker.sh (`just pipeline-docker`)
#   5. with podman, its Docker-compatible API on a socket of this run (up within 30 s, stopped
#      at the end)
#   6. tests/integration/test_images_run.py: the stage containers through testcontainers
# and prints each step's start and the job's wall time. For a cold run, first empty podman's
# storage and build cache, MAKERATES_PODMAN_DIR (default /var/tmp/makerates-podman; podman keeps
# its overlay mounted, so `podman system reset --force` with that configuration, then delete the
# folder); the debootstrap'd rootfs stays in MAKERATES_CACHE_DIR unless you delete it too.
set -euo pipefail
cd "$(dirname "$0")/.."
source ops/engine.sh
job_start=$(date +%s)
# One tag for the images built, sized and run here, though HEAD may move meanwhile.
IMAGE_TAG="$(image_tag)"
export IMAGE_TAG
step() { echo "==> [images job +$(($(date +%s) - job_start)) s] $*"; }

ensure_engine
step "engine: $ENGINE"
prepare_base_images
# buildah keeps RUN --mount=type=cache folders (uv's cache) under TMPDIR: keep them with podman's
# storage, so a cold run is one deleted folder.
build_tmp="${TMPDIR:-/tmp}"
if [ "$ENGINE" = podman ]; then
  build_tmp="${MAKERATES_PODMAN_DIR-/var/tmp/makerates-podman}/tmp"
  mkdir -p "$build_tmp"
fi

step "build: the shared base, then bronze, silver, gold"
build_log="$(mktemp /tmp/makerates-images-build.XXXXXX.log)"
TMPDIR="$build_tmp" bash ops/images.sh >"$build_log" 2>&1 || { tail -40 "$build_log"; exit 1; }
grep '^==> makerates' "$build_log"
echo "    (build log: $build_log)"
step "sizes against the targets"
bash ops/images-size.sh
step "the stage containers chained by ops/pipeline-docker.sh (ops/images-chain.sh)"
bash ops/images-chain.sh

if [ "$ENGINE" = podman ]; then
  socket_dir="$(mktemp -d /tmp/makerates-podman-api.XXXXXX)"
  podman system service --time=0 "unix://$socket_dir/podman.sock" >"$socket_dir/service.log" 2>&1 &
  service=$!
  trap 'kill "$service" 2>/dev/null; wait "$service" 2>/dev/null; rm -rf "$socket_dir"' EXIT
  deadline=$((SECONDS + 30))
  until curl -s -o /dev/null --unix-socket "$socket_dir/podman.sock" http://podman/_ping; do
    if ! kill -0 "$service" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      cat "$socket_dir/service.log" >&2
      echo "podman's API socket did not answer within 30 s" >&2; exit 1
    fi
    sleep 0.5
  done
  # The Ryuk reaper image cannot be pulled without a registry; each test removes its containers.
  export DOCKER_HOST="unix://$socket_dir/podman.sock" TESTCONTAINERS_RYUK_DISABLED=true
  step "podman's Docker API at $DOCKER_HOST"
fi

step "stage containers through testcontainers (tests/integration/test_images_run.py)"
uv run --locked pytest -q -m images -p no:cacheprovider \
  tests/integration/test_images_run.py
step "done: images job wall time $(($(date +%s) - job_start)) s"
