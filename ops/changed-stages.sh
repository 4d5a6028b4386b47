#!/usr/bin/env bash
# Which stage images must be rebuilt, as a JSON list for a GitHub Actions matrix:
#   ops/changed-stages.sh BASE_REF     compare BASE_REF...HEAD
#   ops/changed-stages.sh              (or BASE_REF empty / all zeros / unknown): all stages
# A stage is rebuilt when its folder, core/, uv.lock, the root pyproject.toml, the shared base
# (ops/image/), ops/engine.sh / ops/images.sh or the images workflow changed.
set -euo pipefail
all='["bronze","silver","gold"]'
base="${1:-}"
if [ -z "$base" ] || [[ "$base" =~ ^0+$ ]] || ! git cat-file -e "$base^{commit}" 2>/dev/null; then
  echo "$all"; exit 0
fi
changed="$(git diff --name-only "$base"...HEAD)"
shared='^(core/|uv\.lock$|pyproject\.toml$|\.github/workflows/images\.yml$|ops/image/|ops/(engine|images)\.sh$)'
out=()
for stage in bronze silver gold; do
  if grep -Eq "$shared|^stages/$stage/" <<<"$changed"; then out+=("\"$stage\""); fi
done
(IFS=,; echo "[${out[*]}]")
