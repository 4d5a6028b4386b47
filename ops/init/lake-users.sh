#!/bin/sh
# One MinIO user per stage, allowed what the stage's IAM policy allows on S3, so each stage's key
# pair does locally what it may do on AWS (and nothing more). Runs in compose's one-shot
# `lake-users` service (the minio image, which ships mc); POSIX sh, nothing else needed.
# Reads: MINIO_ROOT_USER / MINIO_ROOT_PASSWORD (the admin pair), <STAGE>_AWS_ACCESS_KEY_ID /
# <STAGE>_AWS_SECRET_ACCESS_KEY for bronze, silver, gold, and /policies/<stage>.json: the S3
# statements of iam/<stage>.json, which `just up` renders (python iam/render.py STAGE --service s3).
# Idempotent: an existing user gets its secret and policy set again.
set -eu
export MC_CONFIG_DIR=/tmp/mc
mc alias set lake http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
for pair in bronze:BRONZE silver:SILVER gold:GOLD; do
  stage="${pair%%:*}" upper="${pair#*:}"
  eval "key=\${${upper}_AWS_ACCESS_KEY_ID:-} secret=\${${upper}_AWS_SECRET_ACCESS_KEY:-}"
  if [ -z "$key" ] || [ -z "$secret" ]; then
    echo "set ${upper}_AWS_ACCESS_KEY_ID and ${upper}_AWS_SECRET_ACCESS_KEY in .env" >&2
    exit 1
  fi
  policy="makerates-$stage"
  mc admin policy create lake "$policy" "/policies/$stage.json" >/dev/null
  mc admin user add lake "$key" "$secret" >/dev/null
  # attach says so when the policy is attached already; the check below is what counts
  mc admin policy attach lake "$policy" --user "$key" >/dev/null 2>&1 || true
  case "$(mc admin user info lake "$key")" in
    *"$policy"*) echo "user for $stage: policy $policy" ;;
    *) echo "MinIO user for $stage lacks policy $policy" >&2; exit 1 ;;
  esac
done
