"""Fixtures: a whole deployment (lake + hot tier + ECB mirror) per test, on both providers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from makerates_core.events import read_outputs
from services import aws_services, create_bucket

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]


@dataclass
class StageResult:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Deployment:
    """One isolated makerates deployment: its own lake, hot tier and working folder."""

    env: dict[str, str]
    workdir: Path
    name: str

    def run(
        self, *command: str, check: bool = True, extra_env: dict[str, str] | None = None
    ) -> StageResult:
        program = command[0] if command[0] == "just" else str(BIN / command[0])
        done = subprocess.run(
            [program, *command[1:]],
            cwd=self.workdir,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=600,
        )
        result = StageResult(done.returncode, done.stdout, done.stderr, read_outputs(done.stdout))
        if check and done.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} exited {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
            )
        return result

    def pipeline(self, *bronze_args: str) -> dict[str, StageResult]:
        """bronze → silver → gold with one run id, as `just pipeline` chains them."""
        run_id = f"it-{uuid.uuid4().hex[:10]}"
        extra = {"RUN_ID": run_id}
        return {
            "bronze": self.run("makerates-bronze", *(bronze_args or ("run",)), extra_env=extra),
            "silver": self.run("makerates-silver", "run", extra_env=extra),
            "gold": self.run("makerates-gold", "sync", extra_env=extra),
        }

    def rate(self, base: str, quote: str, day: str | None = None) -> dict[str, Any]:
        args = ["makerates", "rate", base, quote, "--json"]
        if day:
            args += ["--date", day]
        return json.loads(self.run(*args).stdout)

    def hot_items(self, table: str = "rates") -> list[dict[str, Any]]:
        """Every item of a hot-tier table, for before/after comparisons."""
        from makerates_core.hotstore import open_store, table_name
        from makerates_core.settings import Settings

        settings = Settings.from_env(self.env)
        store = open_store(settings)
        name = table_name(settings, table)
        items = []
        for pk in ("RATES", "META", "LATEST"):
            items.extend(store.query(name, pk))
        return items


def _base_env(tmp_path: Path, source_urls: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "LAKE_", "HOT_", "DYNAMODB_", "S3_"))
    }
    env.update(
        {
            **source_urls,
            "DO_NOT_TRACK": "1",
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "HOME": str(tmp_path / "home"),
            "XDG_CACHE_HOME": str(tmp_path / "home" / ".cache"),
        }
    )
    return env


@pytest.fixture(scope="session")
def aws():
    with aws_services() as env:
        saved = dict(os.environ)
        os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
        yield env
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(params=["embedded", "aws"])
def deployment(request, tmp_path: Path, ecb_mirror) -> Deployment:
    env = _base_env(tmp_path, ecb_mirror.env)
    if request.param == "embedded":
        env["LAKE_URL"] = str(tmp_path / "lake")
        env["HOT_STORE"] = str(tmp_path / "hot.sqlite3")
    else:
        aws = request.getfixturevalue("aws")
        bucket = f"makerates-{uuid.uuid4().hex[:12]}"
        create_bucket(aws, bucket)
        env.update({k: v for k, v in aws.items() if k != "provider"})
        env["LAKE_URL"] = f"s3://{bucket}/lake"
        env["TABLE_PREFIX"] = f"t{uuid.uuid4().hex[:8]}_"
    workdir = tmp_path / "work"
    workdir.mkdir()
    return Deployment(env=env, workdir=workdir, name=request.param)
