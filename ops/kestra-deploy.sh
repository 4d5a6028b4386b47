#!/usr/bin/env bash
# Push kestra/flows/*.yml to a running Kestra through its API (create, or update in place):
# makerates_pipeline (the flow body) first, then the flows that call it as a subflow.
#   KESTRA_URL       default http://localhost:8080
#   KESTRA_TENANT    default main (Kestra ≥ 0.21 puts the tenant in API paths)
#   KESTRA_USERNAME / KESTRA_PASSWORD   basic auth, if the server has it on
#   MAKERATES_IMAGE_PREFIX / MAKERATES_IMAGE_TAG   written into the variables image_prefix /
#                    image_tag (of makerates_pipeline, the one flow that names images; default
#                    tag: the git revision `just images` tags)
#   DRY_RUN=1        print the rendered flows instead of sending them
set -euo pipefail
cd "$(dirname "$0")/.."
url="${KESTRA_URL:-http://localhost:8080}"; url="${url%/}"
tenant="${KESTRA_TENANT:-main}"
tag="${MAKERATES_IMAGE_TAG:-$(git rev-parse --short=12 HEAD)}"
auth=()
[ -n "${KESTRA_USERNAME:-}" ] && auth=(-u "${KESTRA_USERNAME}:${KESTRA_PASSWORD:-}")
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

flows=(kestra/flows/makerates_pipeline.yml)
for flow in kestra/flows/*.yml; do
  [ "$flow" = "${flows[0]}" ] || flows+=("$flow")
done

for flow in "${flows[@]}"; do
  name="$(basename "$flow")"
  # Set the image variables without reformatting the file (comments and order stay).
  python3 - "$flow" "$tmp/$name" "$tag" "${MAKERATES_IMAGE_PREFIX-__keep__}" <<'PY'
import re, sys
src, dst, tag, prefix = sys.argv[1:]
text = open(src, encoding="utf-8").read()
text = re.sub(r"(?m)^(  image_tag:).*$", lambda m: f'{m.group(1)} "{tag}"', text)
if prefix != "__keep__":
    text = re.sub(r"(?m)^(  image_prefix:).*$", lambda m: f'{m.group(1)} "{prefix}"', text)
open(dst, "w", encoding="utf-8").write(text)
PY
  ns="$(sed -n 's/^namespace: *//p' "$tmp/$name")"
  id="$(sed -n 's/^id: *//p' "$tmp/$name")"
  if [ -n "${DRY_RUN:-}" ]; then echo "--- $ns.$id"; cat "$tmp/$name"; continue; fi
  code="$(curl -sS -o "$tmp/response" -w '%{http_code}' "${auth[@]}" -X PUT \
    -H 'Content-Type: application/x-yaml' --data-binary "@$tmp/$name" \
    "$url/api/v1/$tenant/flows/$ns/$id")"
  if [ "$code" = 404 ]; then
    code="$(curl -sS -o "$tmp/response" -w '%{http_code}' "${auth[@]}" -X POST \
      -H 'Content-Type: application/x-yaml' --data-binary "@$tmp/$name" \
      "$url/api/v1/$tenant/flows")"
  fi
  if [ "${code:0:1}" != 2 ]; then
    echo "deploying $ns.$id failed: HTTP $code" >&2; cat "$tmp/response" >&2; echo >&2; exit 1
  fi
  echo "deployed $ns.$id (images tag $tag)"
done
