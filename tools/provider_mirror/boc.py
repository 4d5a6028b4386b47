"""The Bank of Canada's Valet API, offline: FX_RATES_DAILY observations from the recording.

A date-range request answers the recorded days inside the range in the real layout (a range
without a recorded day: an empty `observations` list, as Valet answers a holiday).
"""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers" / "boc"
PATH = "/valet/observations/group/FX_RATES_DAILY/json"  # pragma: allowlist secret (a URL path)


def serve(path: str, query: dict[str, list[str]]) -> tuple[str, bytes] | None:
    if path != PATH:
        return None
    document = json.loads((FIXTURES / "FX_RATES_DAILY.json").read_bytes())
    start = query.get("start_date", ["0000-00-00"])[0]
    end = query.get("end_date", ["9999-99-99"])[0]
    document["observations"] = [day for day in document["observations"] if start <= day["d"] <= end]
    return "application/json; charset=utf-8", json.dumps(document, indent=4).encode()
