"""The Reserve Bank of Australia's table F11.1, offline: the recorded whole-table CSV."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers" / "rba"
PATH = "/statistics/tables/csv/f11.1-data.csv"


def serve(path: str, query: dict[str, list[str]]) -> tuple[str, bytes] | None:
    """The file as recorded, whatever the query (the RBA serves it as application/octet-stream)."""
    if path != PATH:
        return None
    return "application/octet-stream", (FIXTURES / "f11.1-data.csv").read_bytes()
