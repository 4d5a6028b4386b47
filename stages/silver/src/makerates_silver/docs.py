"""`makerates-silver docs`: dbt's documentation site for the silver project, with a catalog.

dbt's catalog (column types) is read from the database dbt connects to, and a silver run's
DuckDB is scratch: its marts live as Parquet in the lake. So before `dbt docs generate` the
work folder's DuckDB gets one view per table of the current publication (published.json: the
marts and the state) over its Parquet, under the model's own name, as dbt-duckdb's external
materialization leaves it after a build; and the seeds are loaded (`dbt seed`, two small
CSVs). Staging models are run-scoped tables and stay without types.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from makerates_core.duck import connect
from makerates_core.errors import UserError
from makerates_core.lake import Lake
from makerates_core.settings import Settings

from makerates_silver.runner import (
    PUBLISHED_KEY,
    SCRATCH_DUCKDB,
    error_summary,
    invoke_dbt,
    parquet,
    read_published,
    work_dir,
)

log = logging.getLogger("makerates")


def published_tables(document: dict[str, Any]) -> dict[str, list[str]]:
    """{model name: lake keys} of every Parquet a publication lists (marts and state)."""
    state = {key.split("@")[0]: keys for key, keys in document.get("state", {}).items()}
    return document.get("tables", {}) | state


def register_views(
    settings: Settings, database: Path, lake: Lake, tables: dict[str, list[str]]
) -> None:
    """A view per published table in `database`, named as its model, over its Parquet files."""
    con = connect(settings, str(database))
    try:
        for name, keys in sorted(tables.items()):
            files = parquet([lake.uri(key) for key in keys])
            con.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM {files}')
    finally:
        con.close()


def generate(settings: Settings, work: Path, out: Path, with_catalog: bool) -> None:
    """`dbt seed` (when there is a catalog to fill), then `dbt docs generate --static`."""
    steps = [["seed"], ["docs", "generate", "--static"]]
    if not with_catalog:
        steps = [["docs", "generate", "--static", "--empty-catalog"]]
    for command in steps:
        outcome = invoke_dbt(command, settings, work, target=out, write_json=True)
        if not outcome.success:
            raise UserError(
                f"dbt {' '.join(command[:2])} failed: "
                + error_summary(str(outcome.exception or ""), "see the dbt log (logs/dbt.log)")
            )


def docs(settings: Settings, out: Path) -> Path:
    """The docs site in `out`, its catalog typed from the current publication; returns the
    single-file site's path."""
    out = out.expanduser().resolve()
    lake = Lake(settings)
    published = read_published(lake)
    tables = published_tables(published) if published else {}
    if not tables:
        log.warning(
            "no silver publication at %s yet: the docs have lineage and descriptions but no "
            "column types; run `just pipeline` first for a full catalog",
            lake.uri(PUBLISHED_KEY),
        )
    with work_dir(settings) as work:
        if tables:
            register_views(settings, work / SCRATCH_DUCKDB, lake, tables)
        generate(settings, work, out, with_catalog=bool(tables))
    return out / "static_index.html"
