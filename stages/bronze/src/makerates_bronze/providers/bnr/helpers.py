"""Banca Națională a României (BNR): the leu's reference rates, one XML document per year.

Endpoint: `GET /files/xml/years/nbrfxratesYYYY.xml` on curs.bnr.ro, where the feeds moved in the
August 2026 site relaunch (the old www.bnr.ro paths now redirect to the home page). The yearly
archive starts with 2005; the current year's document grows by one `Cube` per fixing day.

Format: `<DataSet xmlns="https://www.bnr.ro/xsd"><Header>…</Header><Body>…
<OrigCurrency>RON</OrigCurrency><Cube date="2026-08-19"><Rate currency="EUR">5.2452</Rate>
<Rate currency="HUF" multiplier="100">1.4375</Rate>…</Cube>…</Body></DataSet>`.

Quote: RON per `multiplier` units of the currency (1 when absent; 100 for HUF, IDR, ISK, JPY and
KRW), four decimals, on Romanian business days around 13:00 Bucharest time.

Quirks: the namespace was http://www.bnr.ro/xsd before the relaunch and https:// since, so
elements are matched by local name; XAU is gold in RON per gram, not a currency, and is skipped;
XDR (the IMF's SDR) is kept. So is every other Rate, its currency, value (stripped of the
spacing around it) and multiplier as published (even "jpy", "0" or "-": silver checks them),
but for an empty one (no rate) and RON, the pivot.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from makerates_core.errors import UpstreamError

from makerates_bronze.providers.observation import Observation

SETTING = "BNR_BASE_URL"
FIRST_YEAR = 2005  # the first yearly archive: earlier years have no document to ask for
NOT_QUOTED = frozenset({"RON", "XAU"})  # the pivot itself; gold is not a currency
NO_RATE = ""  # an empty <Rate>


def requests(first: date, last: date) -> list[str]:
    """One yearly archive per calendar year touched by first..last, from 2005 on."""
    years = range(max(first.year, FIRST_YEAR), last.year + 1)
    return [f"/files/xml/years/nbrfxrates{year}.xml" for year in years]


def parse(body: bytes, url: str) -> list[Observation]:
    """Every quote of a yearly archive, as published."""
    cubes = _children(_body(body, url), "Cube")
    return [observation for cube in cubes for observation in _cube(cube, url)]


def _body(body: bytes, url: str) -> ET.Element:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise _not_bnr(url, f"not XML: {exc}") from exc
    if _local(root.tag) != "DataSet":
        raise _not_bnr(url, f"its root is <{_local(root.tag)}>, not <DataSet>")
    found = _children(root, "Body")
    if not found:
        raise _not_bnr(url, "no <Body>")
    return found[0]


def _cube(cube: ET.Element, url: str) -> list[Observation]:
    day = _iso_day(cube.get("date"), url)
    observations = (_observation(day, rate, url) for rate in _children(cube, "Rate"))
    return [observation for observation in observations if observation is not None]


def _observation(day: str, rate: ET.Element, url: str) -> Observation | None:
    """The Rate's quote as published; None for an empty Rate, the pivot or gold."""
    code = rate.get("currency")
    if code is None:
        raise _not_bnr(url, f"a <Rate> of {day} without a currency")
    value = (rate.text or "").strip()
    if value == NO_RATE or code in NOT_QUOTED:
        return None
    return Observation(day, code, value, rate.get("multiplier", "1"))


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _local(tag: str) -> str:
    """An element's name without its namespace ("{https://www.bnr.ro/xsd}Cube" → "Cube")."""
    return tag.rpartition("}")[2]


def _iso_day(value: str | None, url: str) -> str:
    try:
        return date.fromisoformat(value or "").isoformat()
    except ValueError as exc:
        raise _not_bnr(url, f"a <Cube> dated {value!r}") from exc


def _not_bnr(url: str, reason: str) -> UpstreamError:
    return UpstreamError(f"{url} is not a BNR nbrfxrates document ({reason}); check {SETTING}")
