#!/usr/bin/env bash
# Create the hot-tier tables <TABLE_PREFIX>rates and <TABLE_PREFIX>runs if missing:
# pk (S, HASH) + sk (S, RANGE), on-demand billing. Runs in compose's one-shot `hot-init`
# service (amazon/aws-cli image) and as `just hot-init` against DynamoDB Local or AWS.
# Reads: TABLE_PREFIX (default makerates_), DYNAMODB_ENDPOINT_URL (optional), AWS_REGION.
set -euo pipefail
prefix="${TABLE_PREFIX-makerates_}"
endpoint=(); [ -n "${DYNAMODB_ENDPOINT_URL:-}" ] && endpoint=(--endpoint-url "$DYNAMODB_ENDPOINT_URL")
for name in rates runs; do
  table="${prefix}${name}"
  if aws "${endpoint[@]}" dynamodb describe-table --table-name "$table" >/dev/null 2>&1; then
    echo "table $table exists"
    continue
  fi
  aws "${endpoint[@]}" dynamodb create-table --table-name "$table" \
    --attribute-definitions AttributeName=pk,AttributeType=S AttributeName=sk,AttributeType=S \
    --key-schema AttributeName=pk,KeyType=HASH AttributeName=sk,KeyType=RANGE \
    --billing-mode PAY_PER_REQUEST >/dev/null
  aws "${endpoint[@]}" dynamodb wait table-exists --table-name "$table"
  echo "table $table created"
done
