#!/usr/bin/env bash
# Chain the three stage images with `docker run` (or podman) against the compose services:
#   ops/pipeline-docker.sh                 bronze run → silver run → gold sync
#   ops/pipeline-docker.sh START END       bronze backfill START END → silver run → gold sync
# The containers join PIPELINE_NETWORK (default makerates-network, from compose.yaml) and reach
# MinIO and DynamoDB Local by service name; override the endpoints for another setup:
#   PIPELINE_NETWORK, PIPELINE_S3_ENDPOINT_URL (http://minio:9000),
#   PIPELINE_DYNAMODB_ENDPOINT_URL (http://dynamodb:8000), PIPELINE_<SETTING> for any
#   <PROVIDER>_BASE_URL (e.g. PIPELINE_ECB_BASE_URL: a URL the containers reach, where the
#   host's ECB_BASE_URL may be localhost).
# Each stage runs with its own key pair, as in Kestra: <STAGE>_AWS_ACCESS_KEY_ID and
# <STAGE>_AWS_SECRET_ACCESS_KEY (.env.example) become that container's AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY. Every other setting a stage reads is passed when it is set (.env) and
# left to the stage's default otherwise. Values are passed by name (-e NAME), so they never show
# up in the process list.
# PIPELINE_SILVER=dbtcli runs silver the way the pipeline flow's DbtCLI task does: its commands
# from kestra/flows/makerates_pipeline.yml, through /bin/sh as root in a root-owned working
# directory (what Kestra's Docker task runner gives it), which must then hold dbt's
# target/run_results.json and target/manifest.json for Kestra to parse.
set -euo pipefail
cd "$(dirname "$0")/.."
source ops/engine.sh
detect_engine

export RUN_ID="${RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)-docker-$RANDOM}"
export LAKE_URL="${LAKE_URL:-s3://makerates}"
export S3_ENDPOINT_URL="${PIPELINE_S3_ENDPOINT_URL:-http://minio:9000}"
export DYNAMODB_ENDPOINT_URL="${PIPELINE_DYNAMODB_ENDPOINT_URL:-http://dynamodb:8000}"
export HOT_STORE=dynamodb
export AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required
while read -r name; do
  export "${name#PIPELINE_}=${!name}"
done < <(compgen -e | grep -E '^PIPELINE_[A-Z0-9_]+_BASE_URL$' || true)
for stage in "${STAGES[@]}"; do
  for part in ACCESS_KEY_ID SECRET_ACCESS_KEY; do
    name="${stage^^}_AWS_$part"
    [ -n "${!name:-}" ] || { echo "set $name (each stage has its own key pair; see .env.example)" >&2; exit 2; }
  done
done

envs=()
for name in RUN_ID LAKE_URL S3_ENDPOINT_URL \
  AWS_REQUEST_CHECKSUM_CALCULATION AWS_RESPONSE_CHECKSUM_VALIDATION \
  AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; do
  envs+=(-e "$name")
done
# Optional settings: passed only when set, so the stages' own defaults apply otherwise.
while read -r name; do
  envs+=(-e "$name")
done < <(compgen -e | grep -Ex 'TABLE_PREFIX|AWS_REGION|SOURCES|INITIAL_LOOKBACK_DAYS|HTTP_[A-Z_]+|[A-Z0-9_]+_BASE_URL' \
  | grep -v '^PIPELINE_' || true)

stage() {
  local name="$1"; shift
  local key="${name^^}_AWS_ACCESS_KEY_ID" secret="${name^^}_AWS_SECRET_ACCESS_KEY"
  echo "==> $name $* (run $RUN_ID)"
  (
    export AWS_ACCESS_KEY_ID="${!key}" AWS_SECRET_ACCESS_KEY="${!secret}"
    # Only gold's image talks to the hot tier (bronze and silver write their events to the lake).
    local hot=()
    [ "$name" != gold ] || hot=(-e DYNAMODB_ENDPOINT_URL -e HOT_STORE)
    engine_run --rm --network "${PIPELINE_NETWORK:-makerates-network}" "${envs[@]}" "${hot[@]}" \
      "$(image_ref "$name")" "$@"
  )
}

# silver as Kestra's DbtCLI task runs it (PIPELINE_SILVER=dbtcli; see the top).
silver_as_dbtcli() {
  local work script
  work="$(mktemp -d /var/tmp/makerates-kestra-wd.XXXXXX)"
  chmod 755 "$work"
  script="$(uv run --locked python - <<'PY'
import yaml
flow = yaml.safe_load(open("kestra/flows/makerates_pipeline.yml", encoding="utf-8"))
silver = next(t for t in flow["tasks"] if t["id"] == "silver")
print("\n".join(["set -e", *silver["commands"]]))
PY
)"
  echo "==> silver as Kestra's DbtCLI task (run $RUN_ID, working directory $work)"
  (
    export AWS_ACCESS_KEY_ID="$SILVER_AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$SILVER_AWS_SECRET_ACCESS_KEY"
    export WORKING_DIR="$work" HOME=/home/makerates
    engine_run --rm --network "${PIPELINE_NETWORK:-makerates-network}" "${envs[@]}" \
      -e WORKING_DIR -e HOME --user 0:0 --entrypoint "" -v "$work:$work" -w "$work" \
      "$(image_ref silver)" /bin/sh -c "$script"
  )
  for artifact in run_results.json manifest.json; do
    [ -s "$work/target/$artifact" ] || { echo "no $work/target/$artifact for DbtCLI to parse" >&2; exit 1; }
  done
  echo "==> DbtCLI would parse $work/target/run_results.json:" \
    "$(uv run --locked python -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"]; print(len(r), "results,", sum(x["status"] in ("pass", "success") for x in r), "passed")' "$work/target/run_results.json")"
  # The run left files of uid 10001 there: hand them back before removing them.
  engine_run --rm --network none --user 0:0 --entrypoint "" -v "$work:$work" "$(image_ref silver)" \
    chown -R "$(id -u):$(id -g)" "$work"
  rm -rf "$work"
}

[ $# -eq 0 ] || [ $# -eq 2 ] || { echo "usage: $0 [START END]" >&2; exit 2; }

# A failed bronze or silver still reaches `makerates runs`, as in `just pipeline` and Kestra's
# errors branch: gold copies the lake's run events (and records the failure if the stage could
# not). An EXIT trap: set -e exits from inside stage() and silver_as_dbtcli() too.
current=bronze
record_failure() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -n "$current" ]; then
    stage gold record-failure --run-id "$RUN_ID" --stage "$current" --status "$status" || true
  fi
  exit "$status"
}
trap record_failure EXIT

if [ $# -eq 2 ]; then stage bronze backfill "$1" "$2"; else stage bronze run; fi
current=silver
if [ "${PIPELINE_SILVER:-}" = dbtcli ]; then silver_as_dbtcli; else stage silver run; fi
current=  # gold records its own failure
stage gold sync
