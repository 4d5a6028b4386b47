# shellcheck shell=bash
# Sourced by the ops/*.sh scripts: picks the container engine and names the images.
#
#   CONTAINER_ENGINE=docker|podman   force one (default: docker if its daemon answers, else podman)
#   MAKERATES_PODMAN_DIR             podman's own storage + config folder (default
#                                    /var/tmp/makerates-podman; set it empty to use your own
#                                    podman configuration instead)
#   IMAGE_PREFIX                     registry/namespace prefix for image names (default: none)
#   IMAGE_TAG                        tag (default: the git revision, 12 hex digits)

STAGES=(bronze silver gold)
# The shared images every stage builds FROM (ops/image/base.Containerfile's targets).
BASE_TARGETS=(build runtime)

repo_root() { git -C "$(dirname "${BASH_SOURCE[0]}")/.." rev-parse --show-toplevel; }

image_tag() {
  if [ -n "${IMAGE_TAG:-}" ]; then echo "$IMAGE_TAG"; return; fi
  git -C "$(repo_root)" rev-parse --short=12 HEAD
}

# makerates-<stage>:<tag>, and makerates-build / makerates-runtime (the base targets) alike.
image_ref() { echo "${IMAGE_PREFIX:-}makerates-$1:$(image_tag)"; }

check_stage() {
  case "$1" in bronze | silver | gold) ;; *) echo "unknown stage '$1' (bronze, silver or gold)" >&2; return 2 ;; esac
}

_podman_setup() {
  local dir="${MAKERATES_PODMAN_DIR-/var/tmp/makerates-podman}"
  [ -z "$dir" ] && return 0
  mkdir -p "$dir"
  if [ ! -f "$dir/storage.conf" ]; then
    printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/storage"\nrunroot = "%s/run"\n' \
      "$dir" "$dir" >"$dir/storage.conf"
  fi
  if [ ! -f "$dir/containers.conf" ]; then
    # Without explicit ulimits every run fails in unprivileged sandboxes
    # ("error setting rlimit type 7: operation not permitted"); runc is the dependable runtime.
    printf '[containers]\ndefault_ulimits = ["nofile=1024:1024","nproc=4096:4096"]\n[engine]\nruntime = "runc"\n' \
      >"$dir/containers.conf"
  fi
  export CONTAINERS_STORAGE_CONF="$dir/storage.conf" CONTAINERS_CONF="$dir/containers.conf"
}

detect_engine() {
  ENGINE="${CONTAINER_ENGINE:-}"
  if [ -z "$ENGINE" ]; then
    if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
      ENGINE=docker
    elif command -v podman >/dev/null 2>&1; then
      ENGINE=podman
    else
      echo "no container engine: install Docker, or podman (apt-get install podman buildah runc)" >&2
      return 1
    fi
  fi
  if [ "$ENGINE" = podman ]; then _podman_setup; fi
  export ENGINE
}

# `engine_run ARGS…`: a container run that works under docker and rootless/sandboxed podman.
engine_run() {
  if [ "$ENGINE" = podman ]; then
    podman run --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 "$@"
  else
    docker run "$@"
  fi
}

# Bytes of an image as the engine reports it.
image_bytes() {
  "$ENGINE" image inspect --format '{{.Size}}' "$1"
}
