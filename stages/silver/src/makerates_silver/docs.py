"""`makerates-silver docs`: dbt's documentation site for the silver project."""

from __future__ import annotations

from pathlib import Path

from makerates_core.errors import UserError
from makerates_core.settings import Settings

from makerates_silver.runner import _summary, invoke_dbt, work_dir


def docs(settings: Settings, out: Path) -> Path:
    """`dbt docs generate --static` into `out`; returns the single-file site's path."""
    out = out.expanduser().resolve()
    with work_dir(settings) as work:
        outcome = invoke_dbt(
            ["docs", "generate", "--static", "--empty-catalog"], settings, work, target=out
        )
    if not outcome.success:
        raise UserError(
            "dbt docs generate failed: "
            + _summary(str(outcome.exception or ""), "see the dbt log above")
        )
    return out / "static_index.html"
