"""The Bank of Israel's SDMX EXR dataflow, offline, from the recording.

A `startperiod`..`endperiod` CSV request (ISO days, both inclusive) for one `c[DATA_TYPE]`
answers the header and the recorded lines of that data type inside the range, as recorded
(series by series); a range without a recorded day answers the header alone.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers" / "boi"
PATH = "/FusionEdgeServer/sdmx/v2/data/dataflow/BOI.STATISTICS/EXR/1.0/"
CONTENT_TYPE = "text/csv; charset=utf-8"


def serve(path: str, query: dict[str, list[str]]) -> tuple[str, bytes] | None:
    if path != PATH or query.get("format") != ["csv"]:
        return None
    data_type = query.get("c[DATA_TYPE]", [None])[0]
    start = query.get("startperiod", ["0000-00-00"])[0]
    end = query.get("endperiod", ["9999-99-99"])[0]
    header, lines = _recorded()
    kept = [
        line for period, kind, line in lines if start <= period <= end and data_type in (None, kind)
    ]
    return CONTENT_TYPE, (header + "".join(kept)).encode()


@cache
def _recorded() -> tuple[str, list[tuple[str, str, str]]]:
    """The header line, and each line as recorded with its TIME_PERIOD and DATA_TYPE."""
    text = (FIXTURES / "exr_of00.csv").read_text(encoding="utf-8")
    header, *lines = text.splitlines(keepends=True)
    columns = header.rstrip("\n").split(",")  # the recording has no quoted field
    period, kind = columns.index("TIME_PERIOD"), columns.index("DATA_TYPE")
    fields = [line.rstrip("\n").split(",") for line in lines]
    return header, [(row[period], row[kind], line) for row, line in zip(fields, lines, strict=True)]
