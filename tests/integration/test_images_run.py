"""The three stage images, run as containers through testcontainers: bronze → silver → gold
against the offline sources (tools/ecb_mirror.py) and a real S3 + DynamoDB API (moto's server)
on the host, then what gold serves checked digit for digit against the ECB's published strings.

The images job runs this (`just images-test`, ops/images-test.sh): it builds the images and
gives the engine — Docker, or podman's Docker-compatible socket in DOCKER_HOST. `just test`
leaves it out (the `images` marker is deselected in pyproject's addopts). The containers use
the host network, so the loopback servers of this process are theirs too.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import date
from decimal import Context, Decimal
from pathlib import Path

import docker
import pytest
import requests
import yaml
from makerates_core.events import read_outputs
from makerates_core.hotstore import open_store, table_name
from makerates_core.settings import Settings
from services import DUMMY_CREDENTIALS, create_bucket
from testcontainers.core.container import DockerContainer

pytestmark = pytest.mark.images

REPO = Path(__file__).resolve().parents[2]
START, DAY = "2026-10-19", "2026-10-30"  # the last two weeks of the shipped history
SOURCES = "ecb,frankfurter,exchangerate_api"
STAGE_SECONDS = 300  # the deadline of one stage container
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|ACCESS_KEY|API_KEY|CREDENTIAL", re.IGNORECASE)


HOT_TIER = ("HOT_STORE", "DYNAMODB_ENDPOINT_URL")


def image(stage: str) -> str:
    """The image ops/images.sh tagged (IMAGE_PREFIX, IMAGE_TAG as there; default :local)."""
    return f"{os.environ.get('IMAGE_PREFIX', '')}makerates-{stage}:{os.environ.get('IMAGE_TAG', 'local')}"


@pytest.fixture(scope="module")
def engine() -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except docker.errors.DockerException as error:
        pytest.fail(f"no container engine answers ({error}); run `just images-test`")
    for stage in ("bronze", "silver", "gold"):
        try:
            client.images.get(image(stage))
        except docker.errors.ImageNotFound:
            pytest.fail(f"{image(stage)} is not built; run `just images-test` (or `just images`)")
    return client


def run(
    stage: str, env: dict[str, str], *command: str, mount: Path | None = None, **options: str
) -> str:
    """Run one container of a stage image to its end on the host network; its stdout.
    `mount`: a host folder at the same path inside; `options`: docker's (entrypoint, user, …).
    Only gold's image gets the hot tier's settings, as in the Kestra flow."""
    if stage != "gold":
        env = {name: value for name, value in env.items() if name not in HOT_TIER}
    container = (
        DockerContainer(image(stage))
        .with_command(list(command))
        .with_kwargs(network_mode="host", **options)
    )
    for name, value in env.items():
        container.with_env(name, value)
    if mount:
        container.with_volume_mapping(str(mount), str(mount), "rw")
    with container:
        try:
            status = container.get_wrapped_container().wait(timeout=STAGE_SECONDS)["StatusCode"]
        except requests.exceptions.RequestException:  # the deadline (a read timeout)
            pytest.fail(f"{stage} {' '.join(command)} still running after {STAGE_SECONDS} s")
        stdout, stderr = (part.decode() for part in container.get_logs())
    assert status == 0, f"{stage} {' '.join(command)} exited {status}\n{stdout}\n{stderr}"
    return stdout


@pytest.fixture
def deployment(engine, ecb_mirror, moto_endpoint) -> dict[str, str]:
    """The environment every stage container gets: the mirror's sources, a fresh bucket and
    table prefix on moto, dummy credentials (moto checks none; tests/security does IAM)."""
    ecb_mirror.set_as_of(DAY)
    env = {
        **DUMMY_CREDENTIALS,
        **ecb_mirror.env,
        "SOURCES": SOURCES,
        "S3_ENDPOINT_URL": moto_endpoint,
        "DYNAMODB_ENDPOINT_URL": moto_endpoint,
        "HOT_STORE": "dynamodb",
        "LAKE_URL": f"s3://makerates-{uuid.uuid4().hex[:12]}/lake",
        "TABLE_PREFIX": f"t{uuid.uuid4().hex[:8]}_",
        "RUN_ID": f"images-{uuid.uuid4().hex[:10]}",
    }
    create_bucket(env, env["LAKE_URL"].removeprefix("s3://").split("/")[0])
    return env


@pytest.mark.parametrize("stage", ["bronze", "silver", "gold"])
def test_stage_image_is_uid_10001_with_no_secret_in_its_environment(engine, stage):
    config = engine.images.get(image(stage)).attrs["Config"]
    assert config["User"] == "10001:10001"
    names = [entry.split("=", 1)[0] for entry in config["Env"]]
    assert not [name for name in names if SECRET_NAME.search(name)], names


def test_the_stage_containers_chained_serve_the_ecbs_published_strings(
    deployment, ecb_history, tmp_path
):
    # Each stage's Kestra outputs line (stdout) counts what it did.
    assert read_outputs(run("bronze", deployment, "backfill", START, DAY))["rows_loaded_ecb"] > 0
    assert read_outputs(silver_as_kestra_runs_it(deployment, tmp_path))["rows_published"] > 0
    assert read_outputs(run("gold", deployment, "sync"))["items_written"] > 0

    published = dict(ecb_history.rates(ecb_history.lines_until(date.fromisoformat(DAY))[0])[1])
    # What gold wrote, read from the host: every ECB rate of the day, exactly its string.
    settings = Settings.from_env(deployment)
    item = open_store(settings).get_item(table_name(settings, "rates"), "RATES", DAY)
    assert item is not None, f"no RATES/{DAY} item in the hot tier"
    assert {currency: str(item["rates"][currency]) for currency in published} == {
        currency: str(Decimal(text).normalize()) for currency, text in published.items()
    }
    # What the reader in the gold image answers: the ECB's string, and one exact division.
    usd, cross = reader(deployment, ("EUR", "USD"), ("USD", "JPY"))
    assert (usd["date"], usd["rate"]) == (DAY, published["USD"])
    exact = Context(prec=50).divide(Decimal(published["JPY"]), Decimal(published["USD"]))
    assert Decimal(cross["rate"]) == exact


def silver_as_kestra_runs_it(env: dict[str, str], workdir: Path) -> str:
    """Silver as the pipeline flow's DbtCLI task runs it: the flow's own commands through
    /bin/sh, as root in a root-owned working directory (what Kestra's Docker task runner gives),
    dropping to 10001; dbt's target/ must be left there for DbtCLI to parse."""
    flow = yaml.safe_load((REPO / "kestra" / "flows" / "makerates_pipeline.yml").read_text())
    task = next(task for task in flow["tasks"] if task["id"] == "silver")
    workdir.chmod(0o755)
    # The AWS key pair is secret('SILVER_…') in the flow and the deployment's here.
    task_env = {**env, "HOME": task["env"]["HOME"], "WORKING_DIR": str(workdir)}
    script = "\n".join(["set -e", *task["commands"]])
    out = run("silver", task_env, "-c", script, mount=workdir, entrypoint="/bin/sh", user="0:0")
    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    assert results and all(r["status"] in ("pass", "success") for r in results)
    assert (workdir / "target" / "manifest.json").stat().st_size > 0
    assert (workdir / "target" / "run_results.json").stat().st_uid == 10001, "dbt ran as 10001"
    return out


def reader(env: dict[str, str], *pairs: tuple[str, str]) -> list[dict[str, str]]:
    """`makerates rate BASE QUOTE --date DAY --json` for each pair, in one gold container."""
    script = " && ".join(f"makerates rate {b} {q} --date {DAY} --json" for b, q in pairs)
    return [
        json.loads(line)
        for line in run("gold", env, "-c", script, entrypoint="/bin/sh").splitlines()
    ]
