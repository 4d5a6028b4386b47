"""What each stage image may contain and how its Dockerfile builds it (no engine needed: the
locked dependency set per package, and the Dockerfiles' text). `just images-size` checks the
built images themselves.

The stage Dockerfiles share one base (ops/image/base.Containerfile): a build image (uv, the
lock, every pyproject, the sync helper, every stage's third-party dependencies) and a runtime
image (Python, user 10001, the common environment). Each stage's Dockerfile beside its code
holds only what is its own: its code, one sync of it, its entrypoint.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from contract_helpers import ROOT, STAGES

BASE = ROOT / "ops" / "image" / "base.Containerfile"
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


def instructions(text: str) -> list[str]:
    """The instructions, continuation lines joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", "\n".join(line for line in text.splitlines()
                                              if not line.lstrip().startswith("#")))  # fmt: skip
    return [" ".join(line.split()) for line in joined.splitlines() if line.strip()]


def targets(text: str) -> dict[str, str]:
    """Each `FROM … AS name` stage's text, by name (the last one unnamed: "")."""
    parts = re.split(r"^(FROM .*)$", text, flags=re.MULTILINE)
    found = {}
    for head, body in zip(parts[1::2], parts[2::2], strict=True):
        name = re.search(r"\bAS (\S+)$", head)
        found[name.group(1) if name else ""] = head + body
    return found


def dockerfile(stage: str) -> str:
    return (ROOT / "stages" / stage / "Dockerfile").read_text()


@pytest.mark.parametrize("stage", STAGES)
def test_locked_dependencies_stay_out_of_other_stages(stage):
    packages = locked_packages(stage)
    assert "boto3" in packages, "sanity: the export worked"
    assert packages.isdisjoint(FORBIDDEN[stage]), packages & FORBIDDEN[stage]


def test_base_shape():
    text = BASE.read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert base and re.search(r":\d+\.\d+", base.group(1)) and "latest" not in base.group(1)
    assert re.search(r"^ARG UV_IMAGE=\S+:\d+\.\d+\.\d+", text, re.MULTILINE)
    stages = targets(text)
    assert {"uv", "build", "runtime"} <= set(stages)
    build, runtime = stages["build"], stages["runtime"]
    assert "COPY --from=uv /uv /usr/local/bin/uv" in build
    assert "UV_COMPILE_BYTECODE=1" in build and "UV_PROJECT_ENVIRONMENT=/app" in build
    assert "COPY ops/image/uv-sync.sh /usr/local/bin/makerates-uv-sync" in build
    # uv checks the lock against every workspace member: all of them, and only pyprojects.
    for path in ("core", *(f"stages/{s}" for s in STAGES)):
        assert f"COPY {path}/pyproject.toml {path}/" in build, path
    assert "COPY uv.lock pyproject.toml ./" in build
    assert not re.search(r"^COPY \S*src", build, re.MULTILINE), "no code in the base"
    deps = [line for line in instructions(build) if line.startswith("RUN") and "uv-sync" in line]
    assert deps == [
        "RUN --mount=type=cache,target=/root/.cache/uv --mount=type=secret,id=ca_bundle "
        "makerates-uv-sync deps " + " ".join(f"makerates-{s}" for s in STAGES)
    ], "every stage's dependencies, once, from the lock alone"
    assert "uv" not in re.findall(r"COPY --from=(\w+)", runtime)
    assert re.search(r"^USER 10001:10001$", runtime, re.MULTILINE)
    assert "useradd --no-log-init --uid 10001" in runtime


def test_sync_helper():
    helper = (ROOT / "ops" / "image" / "uv-sync.sh").read_text()
    assert 'uv sync --locked --no-dev "$@"' in helper
    assert 'mv /app "$PARKED/$package"' in helper and 'mv "$PARKED/$1" /app' in helper
    assert "/run/secrets/ca_bundle" in helper, "optional CA bundle, never baked"
    assert "BOTOCORE_SERVICES" in helper
    assert (ROOT / "ops" / "image" / "uv-sync.sh").stat().st_mode & 0o111, "executable"


@pytest.mark.parametrize("stage", STAGES)
def test_dockerfile_shape(stage):
    text = dockerfile(stage)
    froms = re.findall(r"^FROM (.*)$", text, re.MULTILINE)
    assert froms == ["${BUILD_IMAGE} AS builder", "${RUNTIME_IMAGE}"], "the shared base, twice"
    assert re.search(r"^ARG BUILD_IMAGE=makerates-build:\S+$", text, re.MULTILINE)
    assert re.search(r"^ARG RUNTIME_IMAGE=makerates-runtime:\S+$", text, re.MULTILINE)
    syncs = [line for line in instructions(text) if "makerates-uv-sync" in line]
    assert syncs == [
        "RUN --mount=type=cache,target=/root/.cache/uv --mount=type=secret,id=ca_bundle "
        f"makerates-uv-sync code makerates-{stage}"
    ], "one sync, of the code, on the base's dependencies; the CA bundle optional, never baked"
    assert text.index("COPY core/src") < text.index("makerates-uv-sync code")
    runtime = targets(text)[""]
    assert "COPY --from=builder /app /app" in runtime
    assert "uv" not in re.findall(r"COPY --from=(\w+)", runtime)
    for label in ("source", "revision", "version"):
        assert f"org.opencontainers.image.{label}=" in runtime
    assert f'org.opencontainers.image.title="makerates-{stage}"' in runtime
    assert f'ENTRYPOINT ["makerates-{stage}"]' in runtime


def test_the_stage_dockerfiles_share_the_base_instead_of_copies():
    """What all three stages need lives once, in the base; what is left in the stage files is
    their own. Lines common to all three (the stage's name set aside) are the skeleton only."""
    base = set(instructions(BASE.read_text()))
    common = None
    for stage in STAGES:
        lines = [line.replace(stage, "<stage>") for line in instructions(dockerfile(stage))]
        assert not base & set(lines), f"{stage} repeats the base: {base & set(lines)}"
        for shared in ("useradd", "COPY uv.lock", "UV_COMPILE_BYTECODE", "botocore", "USER "):
            assert not any(shared in line for line in lines), f"{stage}: {shared} is the base's"
        common = set(lines) if common is None else common & set(lines)
    skeleton = {line for line in common if not line.startswith(("ARG ", "LABEL ", "CMD "))}
    assert len(skeleton) <= 6, sorted(skeleton)


def test_images_script_builds_the_base_first():
    script = (ROOT / "ops" / "images.sh").read_text()
    base = script.index("ops/image/base.Containerfile --target")
    stage = script.index('-f "stages/$stage/Dockerfile"')
    assert base < stage
    assert '--build-arg "BUILD_IMAGE=$(image_ref build)"' in script
    assert '--build-arg "RUNTIME_IMAGE=$(image_ref runtime)"' in script
    engine = (ROOT / "ops" / "engine.sh").read_text()
    assert re.search(r"^BASE_TARGETS=\(build runtime\)$", engine, re.MULTILINE)
    changed = (ROOT / "ops" / "changed-stages.sh").read_text()
    assert "ops/image/" in changed, "a base change rebuilds every stage"


@pytest.mark.parametrize("stage", STAGES)
def test_ignore_file_keeps_other_stages_out(stage):
    lines = (ROOT / "stages" / stage / "Dockerfile.dockerignore").read_text().splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules[0] == "*", "an allow-list: ignore everything, then allow"
    for other in set(STAGES) - {stage}:
        assert not any(rule.startswith(f"!stages/{other}/") for rule in rules)


def test_base_ignore_file_lets_in_only_the_lock_pyprojects_and_helper():
    lines = (ROOT / "ops" / "image" / "base.Containerfile.dockerignore").read_text().splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules[0] == "*"
    allowed = {rule[1:] for rule in rules if rule.startswith("!")}
    assert allowed == {
        "uv.lock",
        "pyproject.toml",
        "core/pyproject.toml",
        *(f"stages/{s}/pyproject.toml" for s in STAGES),
        "ops/image/uv-sync.sh",
    }


def test_silver_image_carries_the_dbt_project():
    text = dockerfile("silver")
    assert "MAKERATES_DBT_PROJECT_DIR=/opt/makerates/dbt" in text
    assert "COPY --from=builder /opt/makerates/dbt /opt/makerates/dbt" in text
