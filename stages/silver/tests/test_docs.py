"""`makerates-silver docs`: lineage before the first publication, a typed catalog after it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from makerates_silver import cli
from makerates_silver.runner import MARTS, STATE, STATE_KEY


def docs(out: Path) -> subprocess.CompletedProcess[str]:
    """`makerates-silver docs` in a process of its own: a DuckDB left open by the build in
    this process would hand dbt the build's relations and hide a missing catalog."""
    command = [str(Path(sys.executable).with_name("makerates-silver")), "docs", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip().splitlines()[-1]) == out / "static_index.html"
    return done


def node(name: str, kind: str = "model") -> str:
    return f"{kind}.makerates_silver.{name}"


def parquet_types(path: Path) -> dict[str, str]:
    """{column: DuckDB type} of a Parquet file, as DuckDB reads it."""
    rows = duckdb.sql(
        f"describe select * from read_parquet('{path}', hive_partitioning = false)"
    ).fetchall()
    return {name: kind for name, kind, *_ in rows}


def test_the_catalog_types_every_published_mart_and_the_manifest_describes_them(
    silver_env, bronze, tmp_path, capsys
):
    out = tmp_path / "docs"
    before = docs(out)
    assert "no silver publication" in before.stderr and "just pipeline" in before.stderr
    assert json.loads((out / "catalog.json").read_text())["nodes"] == {}

    extracted_at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    bronze.load(bronze.rows("2024-03-11", "2024-03-15", extracted_at))
    assert cli.main(["run"]) == 0, capsys.readouterr().err
    after = docs(out)
    assert "no silver publication" not in after.stderr
    assert (out / "static_index.html").stat().st_size > 10_000

    catalog = json.loads((out / "catalog.json").read_text())["nodes"]
    manifest = json.loads((out / "manifest.json").read_text())["nodes"]
    published = json.loads((silver_env / "silver" / "published.json").read_text())
    tables = published["tables"] | {STATE: published["state"][STATE_KEY]}
    assert set(MARTS) <= set(tables)
    for name, (key, *_) in tables.items():
        typed = {c: col["type"] for c, col in catalog[node(name)]["columns"].items()}
        assert typed == parquet_types(silver_env / key), name
        model = manifest[node(name)]
        assert model["description"].strip(), f"{name} has no description"
        described = {c for c, col in model["columns"].items() if col["description"].strip()}
        assert set(typed) <= described, f"{name}: no description for {set(typed) - described}"
    assert catalog[node("iso_4217_currencies", "seed")]["columns"]["code"]["type"] == "VARCHAR"
