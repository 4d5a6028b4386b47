"""The Czech National Bank's daily-year API, answered from its recorded 2026 document.

`/cnbapi/exrates/daily-year?year=YYYY&lang=EN`: for 2026 the recorded document; for any other year
the API's answer for a year without a fixing, `{"rates":[]}` (no other year was recorded). A
request without a four-digit `year` gets None.
"""

from __future__ import annotations

import re
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers" / "cnb"
PATH = "/cnbapi/exrates/daily-year"
RECORDED = "2026"
EMPTY = b'{"rates":[]}'


def serve(path: str, query: dict[str, list[str]]) -> tuple[str, bytes] | None:
    year = query.get("year", [""])[0]
    if path != PATH or not re.fullmatch(r"\d{4}", year):
        return None
    body = (FIXTURES / f"daily-year-{RECORDED}.json").read_bytes() if year == RECORDED else EMPTY
    return "application/json", body
