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

# Install podman and what it needs here from Debian's packages, each only when missing (root):
# podman alone brings crun, while the configuration above names runc; debootstrap makes the base
# image offline (ops/smoke-base.sh); netavark is podman's network backend; curl asks the socket.
install_podman() {
  local missing=() package
  for package in podman runc debootstrap netavark curl ca-certificates; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
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

# detect_engine, installing podman first (install_podman) where no Docker daemon answers.
ensure_engine() {
  if [ "${CONTAINER_ENGINE:-}" = podman ] || { [ -z "${CONTAINER_ENGINE:-}" ] && ! docker info >/dev/null 2>&1; }; then
    install_podman
  fi
  detect_engine
}

# The base images ops/images.sh builds FROM, exported as PYTHON_IMAGE / UV_IMAGE for podman
# (Docker pulls the defaults itself): made offline (ops/smoke-base.sh) when no registry answers,
# else the pinned defaults, qualified (podman resolves no short names without a search list).
# The host's CA bundle goes to the builds as BUILD_CA_BUNDLE, never into a layer.
prepare_base_images() {
  if [ "$ENGINE" = podman ] && [ -z "${PYTHON_IMAGE:-}" ]; then
    if curl -s -o /dev/null -m 5 https://registry-1.docker.io/v2/ && curl -s -o /dev/null -m 5 https://ghcr.io/v2/; then
      PYTHON_IMAGE="docker.io/library/$(sed -n 's/^ARG PYTHON_IMAGE=//p' "$(repo_root)/ops/image/base.Containerfile")"
    else
      echo "==> no registry answers: base images made offline (ops/smoke-base.sh)"
      bash "$(repo_root)/ops/smoke-base.sh"
      PYTHON_IMAGE=localhost/makerates-python:3.11 UV_IMAGE="${UV_IMAGE:-localhost/uv:host}"
      export UV_IMAGE
    fi
    export PYTHON_IMAGE
  fi
  if [ -z "${BUILD_CA_BUNDLE:-}" ] && [ -n "${SSL_CERT_FILE:-}" ] && [ -r "${SSL_CERT_FILE}" ]; then
    export BUILD_CA_BUNDLE="$SSL_CERT_FILE"
  fi
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
