#!/bin/sh
# `uv sync` inside the image builds (the base build image installs this as
# /usr/local/bin/makerates-uv-sync):
#
#   makerates-uv-sync deps PACKAGE…   (the base build image, once) each package's third-party
#                                     dependencies from the lock alone, parked in
#                                     /opt/makerates/deps/<package>
#   makerates-uv-sync code PACKAGE    (a stage Dockerfile) that package's parked dependencies
#                                     back at /app, then the package and core from /src as
#                                     wheels (not editable)
#
# A venv is built where it runs (/app: its scripts name /app/bin/python), so each set is built
# at /app and moved aside, and moved back before its stage adds the code.
#
# - A CA bundle handed to the build as secret `ca_bundle` (for TLS-intercepting proxies) is used
#   while uv runs; it is mounted by the calling RUN, never stored in a layer.
# - botocore ships the models of every AWS service (~25 MB); the stages talk to S3 and DynamoDB,
#   and credential providers may call STS / SSO. The others are dropped from /app after each
#   sync (BOTOCORE_SERVICES, set in the base; build the base with --build-arg
#   BOTOCORE_SERVICES= to keep everything).
set -eu
PARKED=/opt/makerates/deps
if [ -s /run/secrets/ca_bundle ]; then
  export SSL_CERT_FILE=/run/secrets/ca_bundle
fi

sync() {
  uv sync --locked --no-dev "$@"
  [ -n "${BOTOCORE_SERVICES:-}" ] || return 0
  for data in /app/lib/python3*/site-packages/botocore/data /app/lib/python3*/site-packages/boto3/data; do
    [ -d "$data" ] || continue
    for dir in "$data"/*/; do
      name="$(basename "$dir")"
      case " $BOTOCORE_SERVICES " in *" $name "*) ;; *) rm -rf "$dir" ;; esac
    done
  done
}

mode="${1:-}"
[ $# -ge 2 ] || { echo "usage: makerates-uv-sync deps PACKAGE… | code PACKAGE" >&2; exit 2; }
shift
case "$mode" in
  deps)
    mkdir -p "$PARKED"
    for package in "$@"; do
      sync --no-install-workspace --package "$package"
      mv /app "$PARKED/$package"
    done
    ;;
  code)
    mv "$PARKED/$1" /app
    sync --no-editable --package "$1"
    ;;
  *) echo "makerates-uv-sync: unknown mode '$mode' (deps or code)" >&2; exit 2 ;;
esac
