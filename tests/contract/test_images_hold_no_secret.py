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

BASE = ROOT / "ops" / "image" / "base.Containerfile"
DOCKERFILES = [*(ROOT / "stages" / stage / "Dockerfile" for stage in STAGES), BASE]
SCANNED = [
    *DOCKERFILES,
    ROOT / "ops" / "image" / "uv-sync.sh",
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


@pytest.mark.parametrize(
    "ignorefile",
    [
        *(ROOT / "stages" / s / "Dockerfile.dockerignore" for s in STAGES),
        BASE.with_name("base.Containerfile.dockerignore"),
    ],
    ids=rel,
)
def test_build_context_keeps_dotenv_out(ignorefile):
    rules = ignorefile.read_text().splitlines()
    assert rules and "*" in rules, "an allow-list"
    assert not [r for r in rules if r.startswith("!") and ".env" in r], rules


def test_dotenv_is_never_committed():
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False)
    assert ignored.returncode == 0, ".env must be in .gitignore"
    tracked = subprocess.run(
        ["git", "ls-files", ".env"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert tracked.stdout == ""


def last_stage(steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def check_runtime_user(steps: list[tuple[str, str]]) -> None:
    """The last USER of the stage is a numeric non-zero uid:gid (checkable by Kubernetes'
    runAsNonRoot), and nothing after it switches back."""
    users = [rest for keyword, rest in steps if keyword == "USER"]
    assert users, "the runtime stage sets no USER: it would run as root"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) > 0, users[-1]
    assert not gid or (gid.isdigit() and int(gid) > 0), users[-1]


def test_the_runtime_base_runs_as_non_root():
    steps = instructions(BASE)
    runtime = next(
        i for i, (k, rest) in enumerate(steps) if k == "FROM" and rest.endswith("AS runtime")
    )
    following = [i for i, (k, _) in enumerate(steps) if k == "FROM" and i > runtime]
    check_runtime_user(steps[runtime : following[0] if following else None])


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_runs_as_non_root(stage):
    """A stage's runtime is the runtime base (user 10001) and never sets USER itself."""
    steps = last_stage(instructions(ROOT / "stages" / stage / "Dockerfile"))
    assert steps[0] == ("FROM", "${RUNTIME_IMAGE}")
    assert not [rest for keyword, rest in steps if keyword == "USER"], "USER is the base's"
    assert steps[-1][0] in ("ENTRYPOINT", "CMD")


def users_in(node, path: str = "") -> list[tuple[str, str]]:
    """(where, user) for every `user` key."""
    if isinstance(node, dict):
        found = [(f"{path}.{k}", str(v)) for k, v in node.items() if k == "user"]
        return found + [u for k, v in node.items() for u in users_in(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [u for i, v in enumerate(node) for u in users_in(v, f"{path}[{i}]")]
    return []


def test_flows_never_run_a_stage_as_root():
    """No container runs as root, but silver's: its DbtCLI task starts as root only to hand the
    root-owned working directory to uid 10001 and drop to it (test_flows.py checks the drop)."""
    for path in sorted((ROOT / "kestra" / "flows").glob("*.yml")):
        flow = load_yaml(path)
        for where, user in users_in(flow):
            if user.split(":")[0] not in ("root", "0"):
                continue
            assert path.name == "makerates_pipeline.yml" and where == ".tasks[1].taskRunner.user"
            silver = flow["tasks"][1]
            assert silver["id"] == "silver" and "setpriv --reuid=10001" in silver["commands"][-1]


def test_the_checks_can_fail(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM python:3.11-slim\nARG AWS_SECRET_ACCESS_KEY\nUSER 10001\nUSER root\n"
        'ENTRYPOINT ["x"]\n'
    )
    with pytest.raises(AssertionError):
        test_no_secret_is_built_into_the_image(bad)
    with pytest.raises(AssertionError):
        check_runtime_user(last_stage(instructions(bad)))
    assert users_in({"tasks": [{"user": "0:0"}]}) == [(".tasks[0].user", "0:0")]
