#!/bin/sh
# `uv sync` inside a stage image build (the base build image installs this as
# /usr/local/bin/makerates-uv-sync; every stage Dockerfile calls it twice: dependencies from the
# lock alone, then the stage's own code). Arguments go to `uv sync --locked --no-dev`.
#
# - A CA bundle handed to the build as secret `ca_bundle` (for TLS-intercepting proxies) is used
#   while uv runs; it is mounted by the calling RUN, never stored in a layer.
# - botocore ships the models of every AWS service (~25 MB); the stages talk to S3 and DynamoDB,
#   and credential providers may call STS / SSO. The others are dropped from /app after each
#   sync (BOTOCORE_SERVICES, set in the base; build the base with --build-arg
#   BOTOCORE_SERVICES= to keep everything).
set -eu
if [ -s /run/secrets/ca_bundle ]; then
  export SSL_CERT_FILE=/run/secrets/ca_bundle
fi
uv sync --locked --no-dev "$@"
[ -n "${BOTOCORE_SERVICES:-}" ] || exit 0
for data in /app/lib/python3*/site-packages/botocore/data /app/lib/python3*/site-packages/boto3/data; do
  [ -d "$data" ] || continue
  for dir in "$data"/*/; do
    name="$(basename "$dir")"
    case " $BOTOCORE_SERVICES " in *" $name "*) ;; *) rm -rf "$dir" ;; esac
  done
done
