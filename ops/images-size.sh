#!/usr/bin/env bash
# Measure the stage images and check them against their targets:
#   size   bronze ≤ 300 MB, silver ≤ 350 MB, gold ≤ 250 MB (MB = 10^6 bytes, as docker shows)
#   content bronze without dbt, silver without dlt, gold without either; no uv/pip in any
#   user   non-root;  labels: org.opencontainers.image.{source,revision,version}
# Images: makerates-<stage>:<tag> as `just images` builds them (IMAGE_TAG to pick another).
set -euo pipefail
cd "$(dirname "$0")/.."
source ops/engine.sh
detect_engine

declare -A budget=([bronze]=300 [silver]=350 [gold]=250)
declare -A forbidden=([bronze]="dbt-core dbt-duckdb" [silver]="dlt" [gold]="dlt dbt-core dbt-duckdb")
fail=0
printf '%-8s %8s %8s  %s\n' stage MB budget verdict
for stage in "${STAGES[@]}"; do
  ref="$(image_ref "$stage")"
  if ! "$ENGINE" image inspect "$ref" >/dev/null 2>&1; then
    echo "$ref: not built (just image $stage)" >&2; fail=1; continue
  fi
  mb=$(( ($(image_bytes "$ref") + 500000) / 1000000 ))
  verdict=ok
  [ "$mb" -le "${budget[$stage]}" ] || { verdict="OVER BUDGET"; fail=1; }
  printf '%-8s %8s %8s  %s\n' "$stage" "$mb" "${budget[$stage]}" "$verdict"

  dists="$(engine_run --rm --network none --entrypoint python "$ref" -c \
    'import importlib.metadata as m; print("\n".join(sorted({(d.metadata["Name"] or "").lower() for d in m.distributions()})))')"
  for name in ${forbidden[$stage]} uv pip; do
    if grep -qx "$name" <<<"$dists"; then echo "  $stage contains $name" >&2; fail=1; fi
  done
  if engine_run --rm --network none --entrypoint sh "$ref" -c 'command -v uv || command -v pip' >/dev/null; then
    echo "  $stage has uv or pip on PATH" >&2; fail=1
  fi
  user="$("$ENGINE" image inspect --format '{{.Config.User}}' "$ref")"
  case "$user" in "" | root | 0 | 0:*) echo "  $stage runs as root" >&2; fail=1 ;; esac
  for label in source revision version; do
    value="$("$ENGINE" image inspect --format "{{index .Config.Labels \"org.opencontainers.image.$label\"}}" "$ref")"
    [ -n "$value" ] || { echo "  $stage lacks label org.opencontainers.image.$label" >&2; fail=1; }
  done
done
exit "$fail"
