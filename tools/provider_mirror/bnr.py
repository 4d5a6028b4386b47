"""Banca Națională a României's yearly XML archives, answered from the recorded 2026 document.

`/files/xml/years/nbrfxratesYYYY.xml`: for 2026 the recorded document; for another year from 2005
on (no other year was recorded) that document with its days removed; None before 2005, the year
of the first archive (the real site has no such file).
"""

from __future__ import annotations

import re
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers" / "bnr"
PATH = re.compile(r"/files/xml/years/nbrfxrates(\d{4})\.xml")
FIRST_YEAR = 2005
RECORDED = 2026


def serve(path: str, query: dict[str, list[str]]) -> tuple[str, bytes] | None:
    match = PATH.fullmatch(path)
    if match is None or int(match[1]) < FIRST_YEAR:
        return None
    recorded = (FIXTURES / f"nbrfxrates{RECORDED}.xml").read_bytes()
    return "text/xml", recorded if int(match[1]) == RECORDED else without_days(recorded)


def without_days(document: bytes) -> bytes:
    """The document with every `<Cube>` removed: a valid archive that holds no day."""
    return document[: document.index(b"<Cube ")] + document[document.index(b"</Body>") :]
