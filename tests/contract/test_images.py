"""What each stage image may contain and how its Dockerfile builds it (no engine needed: the
locked dependency set per package, and the Dockerfile's text). `just images-size` checks the
built images themselves."""

from __future__ import annotations

import re
import subprocess

import pytest
from contract_helpers import ROOT, STAGES

FORBIDDEN = {
    "bronze": {"dbt-core", "dbt-duckdb"},
    "silver": {"dlt"},
    "gold": {"dlt", "dbt-core", "dbt-duckdb"},
}


def locked_packages(stage: str) -> set[str]:
    out = subprocess.run(
        [
            "uv",
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-workspace",
            "--package",
            f"makerates-{stage}",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {
        re.split(r"[=<>;\[ ]", line, maxsplit=1)[0].lower()
        for line in out.splitlines()
        if line and not line.startswith(("#", " ", "-"))
    }


@pytest.mark.parametrize("stage", STAGES)
def test_locked_dependencies_stay_out_of_other_stages(stage):
    packages = locked_packages(stage)
    assert "boto3" in packages, "sanity: the export worked"
    assert packages.isdisjoint(FORBIDDEN[stage]), packages & FORBIDDEN[stage]


@pytest.mark.parametrize("stage", STAGES)
def test_dockerfile_shape(stage):
    text = (ROOT / "stages" / stage / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert base and re.search(r":\d+\.\d+", base.group(1)) and "latest" not in base.group(1)
    assert re.search(r"^ARG UV_IMAGE=\S+:\d+\.\d+\.\d+", text, re.MULTILINE)
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) >= 3, "multi-stage"
    assert "UV_COMPILE_BYTECODE=1" in text
    deps = text.index("--no-install-workspace")
    code = text.index("COPY core/src")
    assert deps < code, "dependencies layer before the code"
    assert f"--locked --no-dev --no-editable --package makerates-{stage}" in text
    assert "--mount=type=cache,target=/root/.cache/uv" in text
    assert "--mount=type=secret,id=ca_bundle" in text, "optional CA bundle, never baked"
    runtime = text[text.rindex("\nFROM ") :]
    assert "COPY --from=builder /app /app" in runtime
    assert "uv" not in re.findall(r"COPY --from=(\w+)", runtime)
    assert re.search(r"^USER 10001:10001$", runtime, re.MULTILINE)
    for label in ("source", "revision", "version"):
        assert f"org.opencontainers.image.{label}=" in runtime
    assert f'ENTRYPOINT ["makerates-{stage}"]' in runtime


@pytest.mark.parametrize("stage", STAGES)
def test_ignore_file_keeps_other_stages_out(stage):
    lines = (ROOT / "stages" / stage / "Dockerfile.dockerignore").read_text().splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules[0] == "*", "an allow-list: ignore everything, then allow"
    for other in set(STAGES) - {stage}:
        assert not any(
            rule.startswith(f"!stages/{other}/") and "pyproject" not in rule for rule in rules
        )


def test_silver_image_carries_the_dbt_project():
    text = (ROOT / "stages" / "silver" / "Dockerfile").read_text()
    assert "MAKERATES_DBT_PROJECT_DIR=/opt/makerates/dbt" in text
    assert "COPY --from=builder /opt/makerates/dbt /opt/makerates/dbt" in text
