"""Images and the scripts around them carry no credential and run the stages as non-root.

test_no_literal_secrets.py scans flows, compose, .env.example, ops.just and workflows; this
adds the Dockerfiles, the justfile and the IAM policies (detect-secrets, in
ops/check-artifacts.sh, scans every tracked file, scripts included), and what only a Dockerfile
can get wrong: a secret baked in as ARG/ENV (kept in the image's history), a `.env`
let into the build context, a stage left running as root.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from contract_helpers import ROOT, STAGES, load_yaml
from test_no_literal_secrets import literal_secrets

DOCKERFILES = [ROOT / "stages" / stage / "Dockerfile" for stage in STAGES]
SCANNED = [
    *DOCKERFILES,
    *sorted((ROOT / "ops" / "smoke").glob("*.Containerfile")),
    ROOT / "justfile",
    *sorted((ROOT / "iam").glob("*.json")),
]
SECRET_NAME = re.compile(r"(?i)secret|password|passwd|token|api_?key|access_key|credential")


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", SCANNED, ids=rel)
def test_no_literal_credential(path):
    assert literal_secrets(path.read_text(encoding="utf-8")) == []


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=rel)
def test_no_secret_is_built_into_the_image(dockerfile):
    """ARG and ENV values stay in the image's history: credentials come at run time (env,
    Kestra's secret()), a CA bundle through a build secret mount."""
    for keyword, rest in instructions(dockerfile):
        if keyword in ("ARG", "ENV"):
            names = re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)(?==|\s|$)", rest)
            assert not [n for n in names if SECRET_NAME.search(n)], f"{keyword} {rest}"
        if keyword in ("COPY", "ADD"):
            assert not re.search(r"(^|\s|/)\.env(\s|$)", rest), f"{keyword} {rest}"


@pytest.mark.parametrize("stage", STAGES)
def test_build_context_keeps_dotenv_out(stage):
    rules = (ROOT / "stages" / stage / "Dockerfile.dockerignore").read_text().splitlines()
    assert rules and "*" in rules, "an allow-list"
    assert not [r for r in rules if r.startswith("!") and ".env" in r], rules


def test_dotenv_is_never_committed():
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False)
    assert ignored.returncode == 0, ".env must be in .gitignore"
    tracked = subprocess.run(
        ["git", "ls-files", ".env"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert tracked.stdout == ""


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=rel)
def test_the_stage_runs_as_non_root(dockerfile):
    """The last USER of the runtime stage is a numeric non-zero uid:gid (checkable by
    Kubernetes' runAsNonRoot), and nothing after it switches back."""
    steps = instructions(dockerfile)
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    users = [rest for keyword, rest in steps[last_from:] if keyword == "USER"]
    assert users, "the runtime stage sets no USER: it would run as root"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) > 0, users[-1]
    assert not gid or (gid.isdigit() and int(gid) > 0), users[-1]
    assert steps[-1][0] in ("ENTRYPOINT", "CMD") or users[-1] == steps[-1][1]


def users_in(node) -> list[str]:
    if isinstance(node, dict):
        found = [str(v) for k, v in node.items() if k == "user"]
        return found + [u for v in node.values() for u in users_in(v)]
    if isinstance(node, list):
        return [u for v in node for u in users_in(v)]
    return []


def test_flows_never_run_a_stage_as_root():
    for path in sorted((ROOT / "kestra" / "flows").glob("*.yml")):
        for user in users_in(load_yaml(path)):
            assert user.split(":")[0] not in ("root", "0"), f"{rel(path)}: user {user}"


def test_the_checks_can_fail(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM python:3.11-slim\nARG AWS_SECRET_ACCESS_KEY\nUSER 10001\nUSER root\n"
        'ENTRYPOINT ["x"]\n'
    )
    with pytest.raises(AssertionError):
        test_no_secret_is_built_into_the_image(bad)
    with pytest.raises(AssertionError):
        test_the_stage_runs_as_non_root(bad)
    assert users_in({"tasks": [{"user": "0:0"}]}) == ["0:0"]
