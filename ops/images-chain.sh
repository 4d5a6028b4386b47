#!/usr/bin/env bash
# The three stage images chained by ops/pipeline-docker.sh, the way `just pipeline-docker` runs
# them, but against a moto server (S3 + DynamoDB on one loopback port) and tools/ecb_mirror.py on
# the host network instead of the compose stack: each stage with its own key pair, silver the
# way the pipeline flow's DbtCLI task runs it (PIPELINE_SILVER=dbtcli: as root in a root-owned
# working directory, dropping to 10001, leaving dbt's target/ there); then the hot tier must hold
# rates and stdout a Kestra outputs line. Run by ops/images-test.sh after the images are built.
set -euo pipefail
cd "$(dirname "$0")/.."
source ops/engine.sh  # STAGES

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
moto_port="$(free_port)"; ecb_port="$(free_port)"
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
uv run --locked moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 & pids+=($!)
uv run --locked python tools/ecb_mirror.py --port "$ecb_port" >"$work/ecb.log" 2>&1 & pids+=($!)
for _ in $(seq 60); do
  curl -s -o /dev/null "http://127.0.0.1:$moto_port" && curl -s -o /dev/null "http://127.0.0.1:$ecb_port/" && break
  sleep 0.5
done

export AWS_ACCESS_KEY_ID=smoke AWS_SECRET_ACCESS_KEY=smoke-secret AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
# moto enforces no IAM here (tests/security does): distinct pairs show each stage gets its own.
for stage in "${STAGES[@]}"; do
  export "${stage^^}_AWS_ACCESS_KEY_ID=smoke-$stage" "${stage^^}_AWS_SECRET_ACCESS_KEY=smoke-$stage-secret"
done
# The three sources the mirror's smoke URLs below serve.
export SOURCES=ecb,frankfurter,exchangerate_api
export LAKE_URL=s3://makerates-smoke TABLE_PREFIX=smoke_ INITIAL_LOOKBACK_DAYS=10
export S3_ENDPOINT_URL="http://127.0.0.1:$moto_port" DYNAMODB_ENDPOINT_URL="http://127.0.0.1:$moto_port"
uv run --locked bash ops/init/lake-init.sh
uv run --locked bash ops/init/hot-init.sh
t3=$(date +%s)
PIPELINE_NETWORK=host PIPELINE_SILVER=dbtcli PIPELINE_S3_ENDPOINT_URL="$S3_ENDPOINT_URL" \
  PIPELINE_DYNAMODB_ENDPOINT_URL="$DYNAMODB_ENDPOINT_URL" \
  PIPELINE_ECB_BASE_URL="http://127.0.0.1:$ecb_port/stats/eurofxref" \
    PIPELINE_FRANKFURTER_BASE_URL="http://127.0.0.1:$ecb_port/frankfurter" \
    PIPELINE_EXCHANGERATE_API_BASE_URL="http://127.0.0.1:$ecb_port/erapi" \
    bash ops/pipeline-docker.sh 2026-10-01 2026-10-30 | tee "$work/pipeline.log"
echo "==> pipeline in containers: $(($(date +%s) - t3)) s"
count="$(uv run --locked aws --endpoint-url "$DYNAMODB_ENDPOINT_URL" dynamodb scan \
  --table-name smoke_rates --select COUNT --query Count --output text)"
echo "==> hot tier: $count items in smoke_rates"
[ "$count" -gt 0 ]
grep -q '::{"outputs"' "$work/pipeline.log" || { echo "no Kestra outputs line on stdout" >&2; exit 1; }
echo "==> pipeline-docker.sh chain: ok"
