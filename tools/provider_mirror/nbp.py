"""Narodowy Bank Polski's Web API, offline: tables A and B from the recording.

A date-range request answers the recorded tables inside the range, each exactly as recorded, in
the real compact layout; a range without a recorded table answers None (a 404, as the API's
"Brak danych"). A range the API refuses (over 93 days, or reversed: a 400 there) answers the
API's error text, which is no tables document, so the client fails as it would on the API.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

NOT_FOUND = b"404 NotFound - Not Found - Brak danych"  # the body of NBP's "no data"

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers" / "nbp"
RECORDED = "tables_{table}_2026-03-01_2026-03-05.json"
PATH = re.compile(r"/api/exchangerates/tables/([AB])/(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})/?")
SEPARATORS = re.compile(r"[\s,]*")
MAX_DAYS = 93
TOO_LONG = b"400 BadRequest - Przekroczony limit 93 dni / Limit of 93 days has been exceeded"
JSON = "application/json; charset=utf-8"


def serve(path: str, query: dict[str, list[str]]) -> tuple[str, bytes] | None:
    match = PATH.fullmatch(path)
    if match is None or query.get("format", ["json"]) != ["json"]:
        return None
    table, start, end = match.groups()
    if not 0 <= (date.fromisoformat(end) - date.fromisoformat(start)).days < MAX_DAYS:
        return "text/plain; charset=utf-8", TOO_LONG
    inside = [text for day, text in _recorded(table) if start <= day <= end]
    return (JSON, f"[{','.join(inside)}]".encode()) if inside else None


def _recorded(table: str) -> list[tuple[str, str]]:
    """(effectiveDate, JSON text as recorded) of each recorded table, in published order."""
    text = (FIXTURES / RECORDED.format(table=table)).read_text(encoding="utf-8").strip()
    decoder = json.JSONDecoder()
    tables = []
    index = SEPARATORS.match(text, 1).end()  # past the opening "["
    while text[index] != "]":
        document, end = decoder.raw_decode(text, index)
        tables.append((document["effectiveDate"], text[index:end]))
        index = SEPARATORS.match(text, end).end()
    return tables
