"""The National Bank of Ukraine's exchange_site service, offline, from the recording.

A `start`..`end` request (YYYYMMDD, both inclusive) answers the recorded entries of the days
inside the range, byte for byte in the real layout (CRLF lines, `,` between entries); a range
without a recorded day answers an empty list. The answer is always JSON: `parse_qs` drops the
bare `json` flag that selects it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers" / "nbu"
PATH = "/NBU_Exchange/exchange_site"
CONTENT_TYPE = "application/json; charset=utf-8"


def serve(path: str, query: dict[str, list[str]]) -> tuple[str, bytes] | None:
    if path != PATH or not {"start", "end"} <= query.keys():
        return None
    start, end = query["start"][0], query["end"][0]
    kept = [entry for day, entry in _entries() if start <= day <= end]
    return CONTENT_TYPE, b"[\r\n" + b",".join(kept) + b"]\r\n"


@cache
def _entries() -> list[tuple[str, bytes]]:
    """The recorded entries as published (each `{ … }` with its CRLF), keyed by YYYYMMDD day."""
    body = (FIXTURES / "exchange_site.json").read_bytes()
    inner = body.removeprefix(b"[\r\n").removesuffix(b"]\r\n")
    entries = [entry + b"\r\n" for entry in inner.removesuffix(b"\r\n").split(b"\r\n,")]
    return [(_day(entry), entry) for entry in entries]


def _day(entry: bytes) -> str:
    day, month, year = json.loads(entry)["exchangedate"].split(".")
    return year + month + day
