"""dbt's partial-parse file travels through the lake: a new work folder does not parse afresh."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from makerates_core import duck
from makerates_silver import cli, parse_cache
from makerates_silver.project import project_dir

RECENTLY = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)

SKIPPED = "Partial parsing enabled, no changes found, skipping parsing"
FULL = "Starting full parse"


def parse_log(work: Path) -> str:
    return (work / "logs" / "dbt.log").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def no_shared_parse(monkeypatch) -> None:
    """These tests start from no parse at all: the test session's shared file is not theirs."""
    monkeypatch.delenv(parse_cache.SHARED_ENV, raising=False)


def run_in(work: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("MAKERATES_SILVER_WORK_DIR", str(work))
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")  # the parse's lines are debug
    code = cli.main(["run"])
    assert code == 0, capsys.readouterr().err


def test_a_new_work_folder_starts_from_the_lakes_parse(silver_env, bronze, capsys, monkeypatch):
    """As every Kestra DbtCLI task does: each run in a folder of its own, on one lake."""
    cached = silver_env / parse_cache.key(project_dir())
    bronze.load(bronze.rows("2024-03-01", "2024-03-04", RECENTLY))
    run_in(silver_env.parent / "task-1", monkeypatch, capsys)
    assert FULL in parse_log(silver_env.parent / "task-1")
    assert cached.stat().st_size > 10_000

    bronze.load(bronze.rows("2024-03-05", "2024-03-05", RECENTLY))
    # another container: another home, so DuckDB's extensions are in another folder
    monkeypatch.setattr(duck, "EXTENSION_ROOT", silver_env.parent / "home-2" / "extensions")
    run_in(silver_env.parent / "task-2", monkeypatch, capsys)
    second = parse_log(silver_env.parent / "task-2")
    assert SKIPPED in second
    assert FULL not in second
    document = json.loads((silver_env / "silver" / "published.json").read_text())
    assert len(document["bronze_loads"]) == 2


def test_a_foreign_parse_file_costs_a_parse_not_the_build(silver_env, bronze, capsys, monkeypatch):
    cached = silver_env / parse_cache.key(project_dir())
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not a dbt manifest")
    bronze.load(bronze.rows("2024-03-01", "2024-03-04", RECENTLY))
    run_in(silver_env.parent / "task", monkeypatch, capsys)
    assert SKIPPED not in parse_log(silver_env.parent / "task")
    assert cached.read_bytes() != b"not a dbt manifest"  # replaced by this run's parse


def test_a_new_lake_starts_from_the_machines_shared_parse(
    silver_env, bronze, capsys, monkeypatch, tmp_path
):
    shared = tmp_path / "shared" / parse_cache.FILE
    monkeypatch.setenv(parse_cache.SHARED_ENV, str(shared))
    bronze.load(bronze.rows("2024-03-01", "2024-03-04", RECENTLY))
    run_in(silver_env.parent / "task-1", monkeypatch, capsys)
    assert FULL in parse_log(silver_env.parent / "task-1")
    made = shared.read_bytes()
    assert made == (silver_env / parse_cache.key(project_dir())).read_bytes()

    # the lake loses its silver folder (a lake with no parse of its own, as a new one): the
    # run starts from the shared file, and the lake gets a copy
    (silver_env / "silver").rename(silver_env.parent / "first-lake-silver")
    run_in(silver_env.parent / "task-2", monkeypatch, capsys)
    second = parse_log(silver_env.parent / "task-2")
    assert SKIPPED in second
    assert FULL not in second
    assert (silver_env / parse_cache.key(project_dir())).read_bytes() == made


def test_the_key_names_the_project_folder():
    """Seeds are read from the folder the parse saw: another checkout's file is never used."""
    assert parse_cache.key(Path("/opt/makerates/dbt")) != parse_cache.key(Path("/src/silver"))
