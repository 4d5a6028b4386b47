"""The IMF's monthly representative-rates documents, offline, from the recording.

`rms_mth.aspx?SelectDate=…&reportType=REP&tsvflag=Y` answers the recorded document of the month
of `SelectDate` byte for byte; any other month answers a document with its title and no rates
(a month without published rates). Other reports (SDRCV, …) are not recorded: None.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers" / "imf"
PATH = "/external/np/fin/data/rms_mth.aspx"
RECORDED = {"2026-03": "rms_mth_REP_2026-03.tsv"}
TSV = "application/vnd.ms-excel"


def serve(path: str, query: dict[str, list[str]]) -> tuple[str, bytes] | None:
    if path != PATH or query.get("reportType") != ["REP"] or query.get("tsvflag") != ["Y"]:
        return None
    try:
        day = date.fromisoformat(query.get("SelectDate", [""])[0])
    except ValueError:
        return None
    month = f"{day:%Y-%m}"
    if month in RECORDED:
        return TSV, (FIXTURES / RECORDED[month]).read_bytes()
    title = f"Representative Exchange Rates for Selected Currencies for {day:%B %Y}\r\n"
    return TSV, title.encode()
