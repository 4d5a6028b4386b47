#!/usr/bin/env bash
# Chain the three stage images with `docker run` (or podman) against the compose services:
#   ops/pipeline-docker.sh                 bronze run → silver run → gold sync
#   ops/pipeline-docker.sh START END       bronze backfill START END → silver run → gold sync
# The containers join PIPELINE_NETWORK (default makerates-network, from compose.yaml) and reach
# MinIO and DynamoDB Local by service name; override the endpoints for another setup:
#   PIPELINE_NETWORK, PIPELINE_S3_ENDPOINT_URL (http://minio:9000),
#   PIPELINE_DYNAMODB_ENDPOINT_URL (http://dynamodb:8000), PIPELINE_ECB_BASE_URL (ECB_BASE_URL),
#   PIPELINE_FRANKFURTER_BASE_URL, PIPELINE_EXCHANGERATE_API_BASE_URL (likewise); SOURCES
# Credentials and the rest come from the environment (.env): AWS_ACCESS_KEY_ID, … They are
# passed by name (-e NAME), so they never show up in the process list.
set -euo pipefail
cd "$(dirname "$0")/.."
source ops/engine.sh
detect_engine

export RUN_ID="${RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)-docker-$RANDOM}"
export LAKE_URL="${LAKE_URL:-s3://makerates}"
export S3_ENDPOINT_URL="${PIPELINE_S3_ENDPOINT_URL:-http://minio:9000}"
export DYNAMODB_ENDPOINT_URL="${PIPELINE_DYNAMODB_ENDPOINT_URL:-http://dynamodb:8000}"
export HOT_STORE=dynamodb
export TABLE_PREFIX="${TABLE_PREFIX-makerates_}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export ECB_BASE_URL="${PIPELINE_ECB_BASE_URL:-${ECB_BASE_URL:-https://www.ecb.europa.eu/stats/eurofxref}}"
export FRANKFURTER_BASE_URL="${PIPELINE_FRANKFURTER_BASE_URL:-${FRANKFURTER_BASE_URL:-https://api.frankfurter.dev}}"
export EXCHANGERATE_API_BASE_URL="${PIPELINE_EXCHANGERATE_API_BASE_URL:-${EXCHANGERATE_API_BASE_URL:-https://open.er-api.com}}"
export SOURCES="${SOURCES:-ecb,frankfurter,exchangerate_api}"
export INITIAL_LOOKBACK_DAYS="${INITIAL_LOOKBACK_DAYS:-90}"
export AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required
export DO_NOT_TRACK=1 RUNTIME__DLTHUB_TELEMETRY=false
: "${AWS_ACCESS_KEY_ID:?set AWS_ACCESS_KEY_ID (see .env.example)}"
: "${AWS_SECRET_ACCESS_KEY:?set AWS_SECRET_ACCESS_KEY (see .env.example)}"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

envs=()
for name in RUN_ID LAKE_URL S3_ENDPOINT_URL DYNAMODB_ENDPOINT_URL HOT_STORE TABLE_PREFIX AWS_REGION \
  AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY ECB_BASE_URL FRANKFURTER_BASE_URL \
  EXCHANGERATE_API_BASE_URL SOURCES INITIAL_LOOKBACK_DAYS \
  AWS_REQUEST_CHECKSUM_CALCULATION AWS_RESPONSE_CHECKSUM_VALIDATION DO_NOT_TRACK \
  RUNTIME__DLTHUB_TELEMETRY; do
  envs+=(-e "$name")
done

stage() {
  local name="$1"; shift
  echo "==> $name $* (run $RUN_ID)"
  engine_run --rm --network "${PIPELINE_NETWORK:-makerates-network}" "${envs[@]}" \
    "$(image_ref "$name")" "$@"
}

if [ $# -eq 2 ]; then
  stage bronze backfill "$1" "$2"
elif [ $# -eq 0 ]; then
  stage bronze run
else
  echo "usage: $0 [START END]" >&2; exit 2
fi
stage silver run
stage gold sync
