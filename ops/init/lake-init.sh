#!/usr/bin/env bash
# Create the lake bucket if it does not exist. Runs in compose's one-shot `lake-init` service
# (amazon/aws-cli image) and as `just lake-init` against any S3 API (MinIO or AWS).
# Reads: LAKE_URL (s3://bucket[/prefix]), S3_ENDPOINT_URL (optional), the AWS credential chain.
set -euo pipefail
lake="${LAKE_URL:?LAKE_URL must be s3://bucket[/prefix]}"
case "$lake" in s3://*) ;; *) echo "LAKE_URL=$lake is not s3://…; nothing to create" >&2; exit 0 ;; esac
bucket="${lake#s3://}"; bucket="${bucket%%/*}"
endpoint=(); [ -n "${S3_ENDPOINT_URL:-}" ] && endpoint=(--endpoint-url "$S3_ENDPOINT_URL")
if aws "${endpoint[@]}" s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
  echo "bucket $bucket exists"
else
  aws "${endpoint[@]}" s3api create-bucket --bucket "$bucket" >/dev/null
  echo "bucket $bucket created"
fi
