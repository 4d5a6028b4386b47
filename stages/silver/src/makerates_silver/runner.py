"""Write-audit-publish around `dbt build`.

write:   dbt writes silver/runs/<run_id>/fct_rates.parquet (external materialization);
audit:   the same `dbt build` runs every data and unit test, a failure skips what depends on it;
publish: only when the build passed, silver/published.json is replaced (atomically) to point at
         the run's Parquet. dbt's manifest.json and run_results.json are kept under the run
         for passed and failed runs alike.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from makerates_core.duck import connect, extension_directory, s3_secret_options
from makerates_core.errors import UserError
from makerates_core.events import stage_run
from makerates_core.lake import Lake
from makerates_core.settings import Settings, scoped_environ

from makerates_silver.bronze import completed_loads
from makerates_silver.project import project_dir

log = logging.getLogger("makerates")

PUBLISHED_KEY = "silver/published.json"
WORK_DIR_ENV = "MAKERATES_SILVER_WORK_DIR"
ARTIFACTS = ("manifest.json", "run_results.json")
TABLE = "fct_rates"


class SilverTestsFailed(UserError):
    """`dbt build` failed: a test failed or a model errored. Nothing was published."""

    exit_code = 1


def run_key(run_id: str, name: str = "") -> str:
    return f"silver/runs/{run_id}/{name}".rstrip("/")


def profile_env(settings: Settings, work_dir: Path) -> dict[str, str]:
    """The environment profiles.yml and the models read (every key set, so nothing stale)."""
    secret = s3_secret_options(settings) if settings.lake_is_s3 else {}
    return {
        "LAKE_URL": settings.lake_url,
        "RUN_ID": settings.run_id,
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MAKERATES_DUCKDB_PATH": str(work_dir / "silver.duckdb"),
        "MAKERATES_DUCKDB_EXTENSION_DIR": extension_directory(),
        "MAKERATES_S3_KEY_ID": secret.get("KEY_ID", ""),
        "MAKERATES_S3_SECRET": secret.get("SECRET", ""),
        "MAKERATES_S3_SESSION_TOKEN": secret.get("SESSION_TOKEN", ""),
        "MAKERATES_S3_REGION": secret.get("REGION", settings.aws_region),
        "MAKERATES_S3_ENDPOINT": secret.get("ENDPOINT", "s3.amazonaws.com"),
        "MAKERATES_S3_URL_STYLE": secret.get("URL_STYLE", "vhost"),
        "MAKERATES_S3_USE_SSL": secret.get("USE_SSL", "true"),
    }


@contextmanager
def work_dir() -> Iterator[Path]:
    """dbt's target and log folders: $MAKERATES_SILVER_WORK_DIR (kept) or a temp dir."""
    configured = os.environ.get(WORK_DIR_ENV)
    if configured:
        path = Path(configured).expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="makerates-silver-") as tmp:
        yield Path(tmp)


@dataclass
class DbtOutcome:
    success: bool
    results: list[dict[str, Any]]
    exception: BaseException | None
    seconds: float


def invoke_dbt(
    command: list[str], settings: Settings, work: Path, target: Path | None = None
) -> DbtOutcome:
    """Run one dbt command in-process on the packaged project, target and logs under `work`."""
    from dbt.cli.main import dbtRunner  # slow import: only when dbt is really needed

    project = project_dir()
    args = [
        *command,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(target or work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    started = time.monotonic()
    with scoped_environ(profile_env(settings, work)):
        outcome = dbtRunner().invoke(args)
    seconds = time.monotonic() - started
    results_file = (target or work / "target") / "run_results.json"
    results = []
    if results_file.exists():
        results = json.loads(results_file.read_text(encoding="utf-8")).get("results", [])
    return DbtOutcome(outcome.success, results, outcome.exception, seconds)


def _is_test(result: dict[str, Any]) -> bool:
    return result["unique_id"].split(".", 1)[0] in ("test", "unit_test")


def _name(result: dict[str, Any]) -> str:
    """`test.<project>.<name>.<hash>`, `unit_test.<project>.<model>.<name>`, `model.<project>.<name>`."""
    parts = result["unique_id"].split(".")
    return parts[2] if parts[0] == "test" and len(parts) > 2 else parts[-1]


def _summary(message: str | None, fallback: str) -> str:
    """The first line of a dbt error, plus the database's own error line when there is one."""
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    if not lines:
        return fallback
    detail = next((line for line in lines[1:] if "Error:" in line), None)
    return f"{lines[0]} ({detail})" if detail else lines[0]


def failure_line(outcome: DbtOutcome) -> str:
    """One line naming what failed, e.g. `silver tests failed: unique_… (3 failures)`."""
    tests, models = [], []
    for result in outcome.results:
        if result["status"] not in ("fail", "error", "runtime error"):
            continue
        if _is_test(result) and result["status"] == "fail":
            failures = result.get("failures")
            if result["unique_id"].startswith("unit_test."):
                tests.append(f"{_name(result)} (unit test)")
            else:
                tests.append(f"{_name(result)} ({failures} failure{'s' if failures != 1 else ''})")
        else:
            models.append(f"{_name(result)}: {_summary(result.get('message'), result['status'])}")
    parts = []
    if tests:
        parts.append("silver tests failed: " + ", ".join(tests))
    if models:
        parts.append("silver build failed: " + "; ".join(models))
    if not parts:
        detail = str(outcome.exception or "see the dbt log above").strip().splitlines()
        parts.append("silver build failed: " + (detail[0] if detail else "unknown error"))
    return "; ".join(parts) + "; gold left unchanged"


def keep_artifacts(lake: Lake, run_id: str, work: Path) -> None:
    for name in ARTIFACTS:
        path = work / "target" / name
        if path.exists():
            lake.write_text(run_key(run_id, f"artifacts/{name}"), path.read_text(encoding="utf-8"))


def count_rows(settings: Settings, uri: str) -> int:
    with connect(settings) as con:
        escaped = uri.replace("'", "''")
        (rows,) = con.execute(
            f"select count(*) from read_parquet('{escaped}') where rate_date is not null"
        ).fetchone()
    return int(rows)


def read_published(lake: Lake) -> dict[str, Any] | None:
    text = lake.read_text(PUBLISHED_KEY)
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise UserError(
            f"{lake.uri(PUBLISHED_KEY)} is not valid JSON; restore it from a run's folder "
            "or delete it to republish"
        ) from None


def run(settings: Settings) -> int:
    lake = Lake(settings)
    lake.check()
    with stage_run(settings, "silver") as stage:
        loads = completed_loads(settings)
        published = read_published(lake)
        if published is not None and sorted(published.get("bronze_loads", [])) == loads:
            log.info(
                "nothing new in bronze (%d completed loads, as published by run %s); skipping",
                len(loads),
                published.get("run_id"),
            )
            stage.counts.update(rows_published=0, tests_passed=0, bronze_loads=len(loads))
            stage.outputs.update(skipped=True, published_run_id=published.get("run_id"))
            return 0
        if published is not None and published.get("run_id") == settings.run_id:
            raise UserError(
                f"RUN_ID {settings.run_id} is already published; rebuilding it would overwrite "
                "the Parquet gold reads. Use a new RUN_ID (or unset it)"
            )

        log.info(
            "building silver run %s from %d completed bronze loads", settings.run_id, len(loads)
        )
        if not lake.is_s3:  # DuckDB's COPY does not create folders; S3 has none to create
            Path(lake.uri(run_key(settings.run_id))).mkdir(parents=True, exist_ok=True)
        with work_dir() as work:
            outcome = invoke_dbt(["build"], settings, work)
            keep_artifacts(lake, settings.run_id, work)
        tests_passed = sum(1 for r in outcome.results if _is_test(r) and r["status"] == "pass")
        stage.counts.update(tests_passed=tests_passed, bronze_loads=len(loads))
        log.info("dbt build took %.1fs (%d tests passed)", outcome.seconds, tests_passed)
        if not outcome.success:
            stage.counts["tests_failed"] = sum(
                1 for r in outcome.results if _is_test(r) and r["status"] in ("fail", "error")
            )
            raise SilverTestsFailed(failure_line(outcome))

        table_key = run_key(settings.run_id, f"{TABLE}.parquet")
        rows = count_rows(settings, lake.uri(table_key))
        if rows == 0:
            raise UserError(
                f"bronze under {lake.uri('bronze')} holds no rates from completed loads; "
                "run bronze first; gold left unchanged"
            )
        document = {
            "run_id": settings.run_id,
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "bronze_loads": loads,
            "tables": {TABLE: table_key},
        }
        lake.write_text(PUBLISHED_KEY, json.dumps(document, indent=2) + "\n")
        stage.counts["rows_published"] = rows
        stage.outputs.update(skipped=False, table=lake.uri(table_key))
        log.info("published %d rows: %s → %s", rows, lake.uri(PUBLISHED_KEY), table_key)
    return 0


def docs(settings: Settings, out: Path) -> Path:
    """`dbt docs generate --static` into `out`; returns the single-file site's path."""
    out = out.expanduser().resolve()
    with work_dir() as work:
        outcome = invoke_dbt(
            ["docs", "generate", "--static", "--empty-catalog"], settings, work, target=out
        )
    if not outcome.success:
        raise UserError(
            "dbt docs generate failed: "
            + _summary(str(outcome.exception or ""), "see the dbt log above")
        )
    return out / "static_index.html"
