"""Write-audit-publish around `dbt build`.

check:   `dbt source freshness` on the bronze tables that have files; a source past its
         error_after stops the run before anything is written;
write:   dbt writes silver/runs/<run_id>/<mart>/year=<year>/data_0.parquet for the years this run
         rebuilds (partitioned marts, macros/partitioned.sql) and <mart>.parquet for the rest;
audit:   the same `dbt build` runs every data and unit test, a failure skips what depends on it;
publish: only when the build passed, silver/published.json is replaced (atomically) to point at
         the run's Parquet, and at the previous publication's files of the years it did not
         rebuild (by reference, never copied). dbt's manifest.json, run_results.json and sources.json are kept
         under the run for passed and failed runs alike.

The publication is a compare-and-swap: the run reads published.json with its version (S3's
ETag, a content hash on a folder) before it builds, and replaces it only if it is still at that
version (`Lake.swap_text`). The work folder's flock keeps two runs on one machine apart; two
machines over one lake are not, and without the swap the later would silently overwrite the
earlier with a build that started from a stale state. The loser fails with PublishConflict
(exit 4, the run event `failed`), publishes nothing, and leaves its silver/runs/<run_id>/
unpublished (gold reads only what published.json points at); re-running it builds on the
winner's publication.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from makerates_core.duck import connect, extension_directory, s3_secret_options
from makerates_core.errors import PublishConflict, UpstreamError, UserError, os_error_line
from makerates_core.events import stage_run
from makerates_core.lake import Lake
from makerates_core.settings import Settings, scoped_environ

from makerates_silver import parse_cache
from makerates_silver.bronze import (
    RATE_TABLES,
    Inventory,
    changed_dates,
    files_variable,
    inventory,
)
from makerates_silver.project import project_dir
from makerates_silver.settled_tests import settled_tests

log = logging.getLogger("makerates")

PUBLISHED_KEY = "silver/published.json"
# The run's scratch DuckDB in the work folder (work_dir): dbt builds in it, `docs` fills it.
SCRATCH_DUCKDB = "silver.duckdb"
EXTENSIONS = "duckdb_extensions"  # a link in the work folder (link_extensions)
WORK_DIR_ENV = "MAKERATES_SILVER_WORK_DIR"
ARTIFACTS = ("manifest.json", "run_results.json", "sources.json")
TABLE = "fct_rates"
# The marts written one file per year, each with the group of years it rebuilds
# (macros/partitioned.sql; the groups are computed by rebuilt_years).
PARTITIONED = {
    "fct_rates": "daily",
    "fct_rate_flags": "daily",
    "fct_rates_calendar": "calendar",
    "fct_observations": "daily",
    "fct_consensus": "daily",
    # the v2 series (gold's DAY#/WEEK#/MONTH# items, gold/DESIGN.md)
    "fct_provider_calendar": "calendar",
    "fct_rates_weekly": "weekly",
    "fct_rates_monthly": "daily",
}
# One file per run, rebuilt every time (small, or reading every year).
SINGLE = (
    "fct_cross_rates_latest",
    "fct_quarantine",
    "dim_currencies",
    "dim_providers",
    "dim_provider_currencies",
)
MARTS = (*PARTITIONED, *SINGLE)
PARTITION_YEAR = re.compile(r"/year=(\d{4})/")
# What the build's code is: a publication made by other code is rebuilt in full.
MODEL_CODE = ("dbt_project.yml", "models", "macros", "seeds", "data_tests")
QUARANTINE = "fct_quarantine"
STATE = "int_rates__unioned"  # what the next run starts from (see its model)
# The state's key in published.json names its version (v3: one file per year, its columns): a
# publication whose state is of another version is not read back (the next run rebuilds from
# every bronze load instead).
STATE_KEY = f"{STATE}@v3"
# Every table written one file per year, the state too: its years rebuilt with the daily marts.
YEARLY = PARTITIONED | {STATE: "daily"}
# dbt's unit tests check the models' logic on fixed fixtures, so they gate code changes, not
# data: they run in CI (tests/test_dbt_unit_tests.py), not on every production build, as
# dbt recommends. Data tests, singular tests and freshness gate every run.
BUILD = ["build", "--exclude-resource-type", "unit_test"]
# The models with `--empty` (zero-row inputs, so the unit tests can read their parents'
# columns), then every test: the unit tests are what this is for.
UNIT_TESTS = ["build", "--empty"]


class SilverTestsFailed(UserError):
    """`dbt build` failed: a test failed or a model errored. Nothing was published."""

    exit_code = 1


def run_key(run_id: str, name: str = "") -> str:
    return f"silver/runs/{run_id}/{name}".rstrip("/")


def profile_env(settings: Settings) -> dict[str, str]:
    """The environment profiles.yml and the models read (every key set, so nothing stale)."""
    secret = s3_secret_options(settings) if settings.lake_is_s3 else {}
    return {
        "LAKE_URL": settings.lake_url,
        "RUN_ID": settings.run_id,
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # Both relative to the work folder, dbt's cwd (invoke_dbt): dbt keeps a partial parse
        # only while the profile's connection info is the same, and these paths are part of it.
        "MAKERATES_DUCKDB_PATH": SCRATCH_DUCKDB,
        "MAKERATES_DUCKDB_EXTENSION_DIR": EXTENSIONS,
        "MAKERATES_S3_KEY_ID": secret.get("KEY_ID", ""),
        "MAKERATES_S3_SECRET": secret.get("SECRET", ""),
        "MAKERATES_S3_SESSION_TOKEN": secret.get("SESSION_TOKEN", ""),
        "MAKERATES_S3_REGION": secret.get("REGION", settings.aws_region),
        "MAKERATES_S3_ENDPOINT": secret.get("ENDPOINT", "s3.amazonaws.com"),
        "MAKERATES_S3_URL_STYLE": secret.get("URL_STYLE", "vhost"),
        "MAKERATES_S3_USE_SSL": secret.get("USE_SSL", "true"),
    }


def default_work_dir(settings: Settings) -> Path:
    """~/.cache/makerates/silver/<lake id>: one folder per lake, so two deployments on one
    machine never share dbt's state, and two runs on the same lake meet at its lock."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    lake_id = hashlib.sha256(settings.lake_url.encode()).hexdigest()[:12]
    return Path(cache) / "makerates" / "silver" / lake_id


@contextmanager
def work_dir(settings: Settings) -> Iterator[Path]:
    """dbt's target, logs and DuckDB file, held by one run at a time.

    $MAKERATES_SILVER_WORK_DIR, else a cache folder per lake (default_work_dir). The folder
    is kept between runs so dbt's partial parsing (target/partial_parse.msgpack) skips
    re-parsing the project; the DuckDB file is run-scoped scratch, started afresh each time.
    """
    configured = os.environ.get(WORK_DIR_ENV)
    path = Path(configured).expanduser().resolve() if configured else default_work_dir(settings)
    path.mkdir(parents=True, exist_ok=True)
    with open(path / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(
                f"another silver run is using {path}; wait for it to finish, or give this "
                f"run its own folder with {WORK_DIR_ENV}"
            ) from None
        for scratch in path.glob(f"{SCRATCH_DUCKDB}*"):
            scratch.unlink()
        link_extensions(path)
        yield path


def link_extensions(work: Path) -> None:
    """work/duckdb_extensions → this machine's DuckDB extension folder (profile_env)."""
    link, target = work / EXTENSIONS, Path(extension_directory())
    if link.is_symlink() and link.readlink() == target:
        return
    link.unlink(missing_ok=True)
    link.symlink_to(target, target_is_directory=True)


@dataclass
class DbtOutcome:
    success: bool
    results: list[dict[str, Any]]
    exception: BaseException | None
    seconds: float
    result: Any = None  # what dbt returned: the Manifest for `parse`


def invoke_dbt(
    command: list[str],
    settings: Settings,
    work: Path,
    target: Path | None = None,
    manifest: Any = None,
    inputs: dict[str, str] | None = None,
    *,
    write_json: bool = False,
) -> DbtOutcome:
    """Run one dbt command in-process on the packaged project, target and logs under `work`.

    With `manifest` (from a `parse`), dbt does not parse the project again. `inputs` are the
    run's inputs for the models (bronze files to read, the previous rates), as environment.
    `write_json`: dbt writes manifest.json (0.4 s each time) and run_results.json, which the
    build's artifacts need; other commands skip it, and a freshness check's sources.json is
    written from the result in memory.
    """
    from dbt.cli.main import dbtRunner  # slow import: only when dbt is really needed

    project = project_dir()
    target = target or work / "target"
    args = [
        *command,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(target),
        "--log-path",
        str(work / "logs"),
        # The screen gets our lines, one per outcome; DBT_LOG_LEVEL=info brings dbt's back.
        # dbt's log file (work/logs/dbt.log) keeps its warnings and errors: at debug, the
        # lines of every query cost ~1 s of a daily build. DBT_LOG_LEVEL_FILE=debug for them.
        "--log-level",
        os.environ.get("DBT_LOG_LEVEL") or "none",
        "--log-level-file",
        os.environ.get("DBT_LOG_LEVEL_FILE") or "warn",
        "--write-json" if write_json else "--no-write-json",
    ]
    results_file = target / ("sources.json" if "freshness" in command else "run_results.json")
    results_file.unlink(missing_ok=True)  # the folder is kept: never read a previous run's
    started = time.monotonic()
    with scoped_environ(profile_env(settings) | (inputs or {})), contextlib.chdir(work):
        outcome = dbtRunner(manifest=manifest).invoke(args)
    seconds = time.monotonic() - started
    if "freshness" in command and not write_json and outcome.result is not None:
        outcome.result.write(str(results_file))
    results = []
    if results_file.exists():
        results = json.loads(results_file.read_text(encoding="utf-8")).get("results", [])
    return DbtOutcome(outcome.success, results, outcome.exception, seconds, outcome.result)


def stale_sources(outcome: DbtOutcome) -> tuple[list[str], list[str]]:
    """(errors, warnings) of a `dbt source freshness`, one phrase per late table."""
    errors, warnings = [], []
    for result in outcome.results:
        table = result["unique_id"].rsplit(".", 1)[-1]
        status = result.get("status")
        if status in ("error", "warn"):
            age_days = result.get("max_loaded_at_time_ago_in_s", 0) / 86400
            phrase = (
                f"{table} last extracted {result.get('max_loaded_at')} ({age_days:.1f} days ago)"
            )
            (errors if status == "error" else warnings).append(phrase)
        elif status == "runtime error":
            errors.append(
                f"{table}: {error_summary(result.get('error'), 'freshness query failed')}"
            )
    if not outcome.success and not errors:
        errors.append(error_summary(str(outcome.exception or ""), "dbt source freshness failed"))
    return errors, warnings


def failing_rows(
    settings: Settings,
    work: Path,
    manifest: Any,
    outcome: DbtOutcome,
    inputs: dict[str, str],
    limit: int = 3,
) -> dict[str, str]:
    """unique_id → a few of a failed or warning test's failing rows, as text.

    The build stores no failures (a table per test costs ~1 s of every build); the tests
    that did not pass run again with `--store-failures` on the build's DuckDB, which still
    holds its tables, and their stored rows are read through `dbt show` on the same
    in-process connection: the run's DuckDB file is held open by dbt-duckdb, and a second
    connection with other settings is refused."""
    names = [_name(r) for r in outcome.results if _is_test(r) and r["status"] in ("fail", "warn")]
    if not names:
        return {}
    again = invoke_dbt(
        ["test", "--store-failures", "--select", *names],
        settings,
        work,
        target=work / "failures",  # keeps the build's run_results.json in target/
        manifest=manifest,
        inputs=inputs,
        write_json=True,
    )
    samples: dict[str, str] = {}
    for result in again.results:
        relation = result.get("relation_name")
        if result["status"] not in ("fail", "warn") or not relation:
            continue
        shown = invoke_dbt(
            ["show", "--inline", f"select * from {relation}", "--limit", str(limit)],
            settings,
            work,
            target=work / "show",
            manifest=manifest,
        )
        table = getattr(next(iter(getattr(shown.result, "results", [])), None), "agate_table", None)
        if table is not None:
            samples[result["unique_id"]] = "; ".join(
                ", ".join("NULL" if v is None else str(v) for v in row) for row in table.rows
            )
    return samples


def _is_test(result: dict[str, Any]) -> bool:
    return result["unique_id"].split(".", 1)[0] in ("test", "unit_test")


def _name(result: dict[str, Any]) -> str:
    """`test.<project>.<name>.<hash>`, `unit_test.<project>.<model>.<name>`, `model.<project>.<name>`."""
    parts = result["unique_id"].split(".")
    return parts[2] if parts[0] == "test" and len(parts) > 2 else parts[-1]


def error_summary(message: str | None, fallback: str) -> str:
    """The first line of a dbt error, plus the database's own error line when there is one."""
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    if not lines:
        return fallback
    detail = next((line for line in lines[1:] if "Error:" in line), None)
    if detail is None and len(lines) > 1 and " Error in " in lines[0]:
        detail = lines[1]  # "Compilation Error in unit_test x (file)" says why on line two
    return f"{lines[0]} ({detail})" if detail else lines[0]


def failure_line(outcome: DbtOutcome, samples: dict[str, str] | None = None) -> str:
    """One line naming what failed and, where dbt stored them, the offending values, e.g.
    `silver tests failed: currency_is_iso_4217_fct_rates (1 failure: XYZ)`."""
    samples = samples or {}
    tests, models = [], []
    for result in outcome.results:
        if result["status"] not in ("fail", "error", "runtime error"):
            continue
        if _is_test(result) and result["status"] == "fail":
            failures = result.get("failures")
            if result["unique_id"].startswith("unit_test."):
                tests.append(f"{_name(result)} (unit test)")
            else:
                count = f"{failures} failure{'s' if failures != 1 else ''}"
                sample = samples.get(result["unique_id"])
                tests.append(
                    f"{_name(result)} ({count}: {sample})"
                    if sample
                    else f"{_name(result)} ({count})"
                )
        else:
            models.append(
                f"{_name(result)}: {error_summary(result.get('message'), result['status'])}"
            )
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
    """Copy dbt's artifacts next to the run's Parquet; a lake that refuses them (full, denied)
    is a WARNING here: the build's own outcome is what the run reports."""
    try:
        for name in ARTIFACTS:
            path = work / "target" / name
            if path.exists():
                text = path.read_text(encoding="utf-8")
                lake.write_text(run_key(run_id, f"artifacts/{name}"), text)
    except (OSError, UserError) as exc:
        why = os_error_line(exc) if isinstance(exc, OSError) else exc
        log.warning("silver could not keep dbt's artifacts in the lake: %s", why)


def parquet(uris: list[str]) -> str:
    """read_parquet over a mart's files (the year is in their paths only, never a column)."""
    return f"read_parquet({duckdb_list(uris)}, hive_partitioning = false)"


def published_counts(settings: Settings, uris: list[str], quarantine: list[str]) -> dict[str, int]:
    """Rows of fct_rates per source (the official providers' consensus of several as
    `rows_consensus`), how many are flagged, and how many rows fct_quarantine holds."""
    with connect(settings) as con:
        rows = con.execute(
            "select if(contains(source, '+'), 'consensus', source), count(*), "
            f"count(*) filter (where is_flagged) from {parquet(uris)} "
            "where rate_date is not null group by 1"
        ).fetchall()
        (quarantined,) = con.execute(  # an empty external table holds one row of NULLs
            f"select count(*) from {parquet(quarantine)} where quarantine_reason is not null"
        ).fetchone()
    counts = {f"rows_{source}": int(n) for source, n, _ in rows}
    counts["rows_published"] = sum(int(n) for _, n, _ in rows)
    counts["rows_flagged"] = sum(int(flagged) for _, _, flagged in rows)
    counts["rows_quarantined"] = int(quarantined)
    return counts


def warn_quarantine(settings: Settings, uris: list[str], count: int) -> None:
    """One WARNING line: how many rows of which providers are quarantined, and why."""
    with connect(settings) as con:
        rows = con.execute(
            "select source, quarantine_reason, count(*), min(rate_date), max(rate_date) "
            f"from {parquet(uris)} where quarantine_reason is not null "
            "group by 1, 2 order by 1, 2"
        ).fetchall()
    what = "; ".join(
        f"{source}: {n} rows {first}..{last} ({reason})" for source, reason, n, first, last in rows
    )
    log.warning(
        "silver quarantined %d rows (published without them, listed in fct_quarantine): %s; "
        "the provider's next publication of those days heals them, or reload them with "
        "`just backfill START END`",
        count,
        what,
    )


def read_published(lake: Lake) -> dict[str, Any] | None:
    return read_published_versioned(lake)[0]


def read_published_versioned(lake: Lake) -> tuple[dict[str, Any] | None, str | None]:
    """published.json and its version (None, None before the first publication): `publish`
    replaces it only if it is still at that version."""
    text, version = lake.read_versioned(PUBLISHED_KEY)
    if text is None:
        return None, None
    try:
        return json.loads(text), version
    except json.JSONDecodeError:
        raise UserError(
            f"{lake.uri(PUBLISHED_KEY)} is not valid JSON; restore it from a run's folder "
            "or delete it to republish"
        ) from None


def publish(lake: Lake, document: dict[str, Any], version: str | None) -> None:
    """Replace published.json with `document` if it is still at `version` (what this run read
    before building); else PublishConflict, and nothing is published."""
    try:
        lake.swap_text(PUBLISHED_KEY, json.dumps(document, indent=2) + "\n", version)
    except PublishConflict:
        raise PublishConflict(
            f"another silver run published {lake.uri(PUBLISHED_KEY)} while run "
            f"{document['run_id']} was building; nothing was published (its "
            f"{run_key(document['run_id'])}/ is left unpublished); re-run silver: it will "
            "build on that publication"
        ) from None


def check_freshness(settings: Settings, work: Path, manifest: Any, tables: list[str]) -> None:
    """`dbt source freshness` on the bronze tables that have files: warn, or stop the run."""
    selectors = [f"source:bronze.{table}" for table in tables]
    outcome = invoke_dbt(
        ["source", "freshness", "--select", *selectors], settings, work, manifest=manifest
    )
    errors, warnings = stale_sources(outcome)
    for warning in warnings:
        log.warning("bronze is getting stale: %s", warning)
    if errors:
        raise SilverTestsFailed(
            "bronze is stale: " + "; ".join(errors) + "; run bronze (`makerates-bronze run`) "
            "and check the sources; gold left unchanged"
        )


def build(
    settings: Settings, lake: Lake, tables: list[str], inputs: dict[str, str], *, incremental: bool
) -> tuple[DbtOutcome, dict[str, str]]:
    """Parse once, check freshness, `dbt build` without the settled tests (settled_tests.py);
    keep the artifacts. Returns the build's outcome and samples of the rows of failed or
    warning tests."""
    with work_dir(settings) as work:
        restored = parse_cache.restore(lake, project_dir(), work / "target")
        parsed = invoke_dbt(["parse"], settings, work)
        if not parsed.success:
            raise SilverTestsFailed(failure_line(parsed))
        parse_cache.keep(lake, project_dir(), work / "target", restored)
        try:
            check_freshness(settings, work, parsed.result, tables)
            settled = settled_tests(parsed.result, inputs, incremental=incremental)
            outcome = invoke_dbt(
                [*BUILD, *(["--exclude", *settled] if settled else [])],
                settings,
                work,
                manifest=parsed.result,
                inputs=inputs,
                write_json=True,
            )
            samples = failing_rows(settings, work, parsed.result, outcome, inputs)
        finally:
            keep_artifacts(lake, settings.run_id, work)
    log.info(
        "dbt build took %.1fs (%d tests passed, %d settled: nothing new under them)",
        outcome.seconds,
        tests_passed(outcome),
        len(settled),
    )
    for result in outcome.results:
        if result["status"] == "warn":
            log.warning(
                "silver test warning: %s (%s rows: %s)",
                _name(result),
                result.get("failures"),
                samples.get(result["unique_id"], "see the dbt log"),
            )
    return outcome, samples


LAKE_ERROR = re.compile(r"HTTP (Error|\d{3})|IO Error")


def lake_failure(outcome: DbtOutcome) -> bool:
    """Did the build fail because the lake failed (DuckDB's HTTP or IO errors in a model), not
    because of the data? Then it is an upstream failure (exit 3, worth a retry), not exit 1."""
    return any(
        result["status"] == "error"
        and not _is_test(result)
        and LAKE_ERROR.search(result.get("message") or "")
        for result in outcome.results
    )


def tests_passed(outcome: DbtOutcome) -> int:
    return sum(1 for r in outcome.results if _is_test(r) and r["status"] == "pass")


def duckdb_list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + path.replace("'", "''") + "'" for path in paths) + "]"


def model_hash(project: Path) -> str:
    """sha256 of the dbt project's code and vars (MODEL_CODE): a publication that other code
    built is rebuilt in full, never built on."""
    digest = hashlib.sha256()
    for name in MODEL_CODE:
        root = project / name
        for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if path.is_file():
                digest.update(f"{path.relative_to(project).as_posix()}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def carry_forward_days(project: Path) -> int:
    """The calendars' carry limit, from dbt_project.yml's vars (what the models read)."""
    import yaml  # dbt's own dependency

    config = yaml.safe_load((project / "dbt_project.yml").read_text(encoding="utf-8"))
    return int(config["vars"]["carry_forward_days"])


def rebuilt_years(changed: Iterable[date], carry: int, today: date) -> dict[str, list[int]]:
    """The years each group of partitioned marts rebuilds (macros/partitioned.sql) when the
    rates of the `changed` days may differ: daily, those days' years; calendar, also the
    years their carry reaches and the years of the last `carry` days (the calendars run up
    to today); weekly, the years of those days' Mondays (a week starting in December holds
    January's days)."""
    days = list(changed)
    daily = {day.year for day in days}
    calendar = daily | {(day + timedelta(days=carry)).year for day in days}
    calendar |= {today.year, (today - timedelta(days=carry)).year}
    weekly = {(day - timedelta(days=day.weekday())).year for day in days}
    return {"daily": sorted(daily), "calendar": sorted(calendar), "weekly": sorted(weekly)}


def partition_year(key: str) -> int | None:
    found = PARTITION_YEAR.search(key)
    return int(found.group(1)) if found else None


def yearly_files(published: dict[str, Any]) -> dict[str, list[str]]:
    """The keys of a publication's yearly tables (YEARLY): its partitioned marts' and state's."""
    return {mart: published["tables"][mart] for mart in PARTITIONED} | {
        STATE: published["state"][STATE_KEY]
    }


def carried_keys(published: dict[str, Any], years: dict[str, list[int]]) -> dict[str, list[str]]:
    """Per yearly table, the keys of the previous publication's files of the years this run
    does not rebuild: published again by reference."""
    return {
        mart: [key for key in keys if (year := partition_year(key)) is not None
               and year not in years[YEARLY[mart]]]
        for mart, keys in yearly_files(published).items()
    }  # fmt: skip


def rebuilt_state(published: dict[str, Any], years: dict[str, list[int]]) -> list[str]:
    """The previous state's files of the years this run rebuilds: what it adds the new rows to."""
    return [
        key for key in published["state"][STATE_KEY] if partition_year(key) in years[YEARLY[STATE]]
    ]


def build_plan(lake: Lake, years: dict[str, list[int]], carried: dict[str, list[str]]) -> str:
    """$MAKERATES_BUILD for the models (macros/partitioned.sql): the years to rebuild and the
    carried files, with their years; empty for a full build."""
    if not years:
        return ""
    files = {
        mart: [[partition_year(key), lake.uri(key)] for key in keys]
        for mart, keys in carried.items()
    }
    return json.dumps({"years": years, "carried": files})


def written_keys(lake: Lake, run_id: str, mart: str, carried: list[str]) -> list[str]:
    """A partitioned mart's files in this publication: the carried ones and the years this run
    wrote; a mart with no row at all is its run's zero-row file (macros/partitioned.sql)."""
    written = [
        key
        for key in lake.list_keys(run_key(run_id, mart) + "/")
        if partition_year(key) is not None
    ]
    return sorted(carried + written) or [run_key(run_id, f"{mart}.empty.parquet")]


def model_inputs(bronze: Inventory, loads: list[str], previous: list[str]) -> dict[str, str]:
    """What the models read: per bronze table the files of `loads` (bronze_table macro), and
    the previous publication's rates of the years rebuilt (previous_rates macro)."""
    inputs = {
        files_variable(table): duckdb_list(files)
        for table in RATE_TABLES
        if (files := bronze.files_of(table, loads))
    }
    for table in RATE_TABLES:
        inputs.setdefault(files_variable(table), "")
    inputs["MAKERATES_PREVIOUS_RATES"] = duckdb_list(previous) if previous else ""
    return inputs


@dataclass
class Plan:
    """What a build reads and rebuilds: `loads`, the bronze loads the models read; `previous`,
    the state's files it builds on (None: a full build, every load and every year); `years`,
    per group the years it rebuilds (empty on a full build); `carried`, per yearly table the
    previous publication's files it publishes again by reference."""

    loads: list[str]
    previous: list[str] | None
    years: dict[str, list[int]]
    carried: dict[str, list[str]]


def plan(
    settings: Settings,
    bronze: Inventory,
    published: dict[str, Any] | None,
    new_loads: list[str],
    code: str,
    *,
    full_refresh: bool,
) -> Plan:
    """Build on the previous publication when it can be built on (previous_state): read only
    the new loads, and rebuild only the years their rate dates reach; else rebuild everything
    from every completed load."""
    previous = None if full_refresh else previous_state(published, code)
    if previous is None:
        log.info(
            "building silver run %s from all %d completed bronze loads (%s), every year",
            settings.run_id,
            len(bronze.loads),
            ", ".join(bronze.tables),
        )
        return Plan(bronze.loads, None, {}, {mart: [] for mart in YEARLY})
    assert published is not None  # previous_state found a state in it
    files = [path for table in RATE_TABLES for path in bronze.files_of(table, new_loads)]
    today = datetime.now(UTC).date()
    years = rebuilt_years(changed_dates(settings, files), carry_forward_days(project_dir()), today)
    log.info(
        "building silver run %s: %d new bronze loads on top of run %s; rebuilding %s",
        settings.run_id,
        len(new_loads),
        published.get("run_id"),
        ", ".join(f"{group} {'/'.join(map(str, ys))}" for group, ys in years.items()),
    )
    return Plan(new_loads, rebuilt_state(published, years), years, carried_keys(published, years))


def publication_tables(
    lake: Lake, run_id: str, carried: dict[str, list[str]]
) -> dict[str, list[str]]:
    """Per table its files' keys: written_keys for a yearly one (the marts and the state), the
    run's one file for the others."""
    return {mart: written_keys(lake, run_id, mart, carried[mart]) for mart in YEARLY} | {
        mart: [run_key(run_id, f"{mart}.parquet")] for mart in SINGLE
    }


def document(
    settings: Settings, bronze_loads: list[str], code: str, tables: dict[str, list[str]]
) -> dict[str, Any]:
    """published.json: what gold reads (`tables`) and what the next run builds on (`state`,
    `bronze_loads`: the loads it holds, `model_hash`: the code that built it)."""
    return {
        "run_id": settings.run_id,
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "bronze_loads": bronze_loads,
        "model_hash": code,
        "tables": {mart: keys for mart, keys in tables.items() if mart != STATE},
        "state": {STATE_KEY: tables[STATE]},
    }


def run(settings: Settings, *, full_refresh: bool = False) -> int:
    lake = Lake(settings)
    with stage_run(settings, "silver") as stage:  # opened first: a lake failure is a failed run
        lake.check()
        bronze = inventory(settings)
        published, version = read_published_versioned(lake)
        held = set(published.get("bronze_loads", [])) if published else set()
        new_loads = [load for load in bronze.loads if load not in held]
        if published is not None and not new_loads and not full_refresh:
            log.info(
                "nothing new in bronze (%d completed loads, as published by run %s); skipping",
                len(bronze.loads),
                published.get("run_id"),
            )
            stage.counts.update(rows_published=0, tests_passed=0, bronze_loads=len(bronze.loads))
            stage.outputs.update(skipped=True, published_run_id=published.get("run_id"))
            return 0
        if published is not None and published.get("run_id") == settings.run_id:
            raise UserError(
                f"RUN_ID {settings.run_id} is already published; rebuilding it would overwrite "
                "the Parquet gold reads. Use a new RUN_ID (or unset it)"
            )

        code = model_hash(project_dir())
        planned = plan(settings, bronze, published, new_loads, code, full_refresh=full_refresh)
        if not lake.is_s3:  # DuckDB's COPY does not create folders; S3 has none to create
            Path(lake.uri(run_key(settings.run_id))).mkdir(parents=True, exist_ok=True)
        inputs = model_inputs(
            bronze, planned.loads, [lake.uri(key) for key in planned.previous or []]
        )
        inputs["MAKERATES_BUILD"] = build_plan(lake, planned.years, planned.carried)
        incremental = planned.previous is not None
        outcome, samples = build(settings, lake, bronze.tables, inputs, incremental=incremental)
        stage.counts.update(
            tests_passed=tests_passed(outcome),
            bronze_loads=len(bronze.loads),
            bronze_loads_read=len(planned.loads),
        )
        if not outcome.success:
            stage.counts["tests_failed"] = sum(
                1 for r in outcome.results if _is_test(r) and r["status"] in ("fail", "error")
            )
            if lake_failure(outcome):
                raise UpstreamError(failure_line(outcome, samples))
            raise SilverTestsFailed(failure_line(outcome, samples))

        tables = publication_tables(lake, settings.run_id, planned.carried)
        uris = {mart: [lake.uri(key) for key in keys] for mart, keys in tables.items()}
        counts = published_counts(settings, uris[TABLE], uris[QUARANTINE])
        if counts["rows_published"] == 0:
            raise UserError(
                f"bronze under {lake.uri('bronze')} holds no rates from completed loads; "
                "run bronze first; gold left unchanged"
            )
        publish(lake, document(settings, bronze.loads, code, tables), version)
        if counts["rows_quarantined"]:
            warn_quarantine(settings, uris[QUARANTINE], counts["rows_quarantined"])
        stage.counts.update(counts)
        stage.outputs.update(
            skipped=False,
            full_refresh=planned.previous is None,
            rebuilt_years=planned.years or "all",
            published_json=lake.uri(PUBLISHED_KEY),
            missing_sources=missing(bronze.tables),
        )
        log.info(
            "published %d rows (%s), %d flagged by the consensus check: %s → %s",
            counts["rows_published"],
            ", ".join(
                f"{name.removeprefix('rows_')} {n}"
                for name, n in counts.items()
                if name not in ("rows_published", "rows_flagged", "rows_quarantined")
            ),
            counts["rows_flagged"],
            lake.uri(PUBLISHED_KEY),
            run_key(settings.run_id),
        )
    return 0


def previous_state(published: dict[str, Any] | None, code: str) -> list[str] | None:
    """The state's keys to build on, or None for a full build: no publication, one without
    this state, or one that other model code built (its years would not match this code's)."""
    if published is None:
        return None
    if published.get("model_hash") != code:
        log.info(
            "the dbt project differs from run %s's; rebuilding every year", published.get("run_id")
        )
        return None
    return published.get("state", {}).get(STATE_KEY)


def missing(tables: list[str]) -> list[str]:
    """The sources bronze has no file of (switched off, or never loaded)."""
    return [t.removesuffix("_rates") for t in RATE_TABLES if t not in tables]
