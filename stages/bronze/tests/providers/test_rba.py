"""The RBA's table F11.1: parsed from the recorded CSV, one request whatever the range, mirrored."""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from makerates_bronze.providers.observation import Observation
from makerates_bronze.providers.rba import helpers
from makerates_core.errors import UpstreamError

TOOLS = Path(__file__).resolve().parents[4] / "tools"
FIXTURE = TOOLS / "fixtures" / "providers" / "rba" / "f11.1-data.csv"
CURRENCIES = "CAD CHF CNY EUR GBP HKD IDR INR JPY KRW MYR NZD PGK PHP SGD THB TWD USD VND"
HEADER = (
    "\ufeffF11.1  EXCHANGE RATES\n"
    "Title,A$1=USD,Trade-weighted Index May 1970 = 100,A$1=JPY,A$1=SDR\n"
    "Units,USD,Index,JPY,SDR\n"
)


mirror = importlib.import_module("provider_mirror.rba")  # tools/ is on sys.path (conftest)


def _fetch(path: str) -> list[Observation]:
    parts = urlsplit(path)
    answer = mirror.serve(parts.path, parse_qs(parts.query))
    assert answer is not None, path
    return helpers.parse(answer[1], f"http://mirror/rba{path}")


@pytest.fixture(scope="module")
def recorded() -> list[Observation]:
    return helpers.parse(FIXTURE.read_bytes(), str(FIXTURE))


def test_the_recording_gives_every_published_quote_as_its_string(recorded):
    days = sorted({r.rate_date for r in recorded})
    assert (len(days), days[0], days[-1]) == (808, "2023-01-03", "2026-03-20")
    assert " ".join(sorted({r.currency for r in recorded})) == CURRENCIES
    # 19 quoted columns a day, less the blank cells of PGK (756), CHF (263) and CAD (245).
    assert len(recorded) == len(set(recorded)) == 808 * 19 - 756 - 263 - 245
    rates = {(r.rate_date, r.currency): r.rate for r in recorded}
    assert rates["2026-03-20", "USD"] == "0.7088"
    assert rates["2026-03-20", "EUR"] == "0.6132"
    assert rates["2026-03-20", "IDR"] == "12039"
    assert rates["2023-01-03", "NZD"] == "1.0760"  # trailing zero kept
    assert rates["2023-12-21", "CAD"] == "0.9013"  # CAD's first quote
    assert ("2023-12-20", "CAD") not in rates
    assert ("2023-12-21", "CHF") not in rates  # CHF's gap begins


def test_quotes_are_inverse_per_one_aud(recorded):
    assert {(r.units, r.inverse) for r in recorded} == {("1", True)}
    assert all(isinstance(r.rate, str) for r in recorded)


def test_the_index_the_sdr_the_discontinued_and_the_pivot_are_not_currencies(recorded):
    assert not {"AUD", "Index", "SDR", "XDR", "AED", "ZAR"} & {r.currency for r in recorded}


def test_only_blank_cells_are_missing_days():
    body = HEADER + "20-Mar-2026,0.7088,66.10,,0.5217\n21-Mar-2026,N/A,66.0, 112.27,0.52\n\n\n"
    assert helpers.parse(body.encode(), "x") == [
        ("2026-03-20", "USD", "0.7088", "1", True),
        ("2026-03-21", "USD", "N/A", "1", True),
        ("2026-03-21", "JPY", " 112.27", "1", True),
    ]
    assert helpers.parse(HEADER.encode(), "x") == []


def test_zero_negative_rates_and_a_lowercase_code_are_kept_for_silver_to_check(recorded):
    body = (
        FIXTURE.read_bytes()
        .replace(b"Units,USD,Index,CNY,JPY,", b"Units,USD,Index,CNY,jpy,")
        .replace(b"\n20-Mar-2026,0.7088,", b"\n20-Mar-2026,0,")
        .replace(b"\n03-Jan-2023,0.6828,", b"\n03-Jan-2023,-1.5,")
        .replace(b"\n04-Jan-2023,0.6809,", b"\n04-Jan-2023,,")
    )
    rates = {(r.rate_date, r.currency): r.rate for r in helpers.parse(body, "x")}
    assert rates["2026-03-20", "USD"] == "0"
    assert rates["2023-01-03", "USD"] == "-1.5"
    assert rates["2023-01-03", "jpy"] == "88.48"
    assert "JPY" not in {currency for _, currency in rates}
    assert ("2023-01-04", "USD") not in rates
    assert len(rates) == len(recorded) - 1


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 3, 20), date(2026, 3, 20)),
        (date(2025, 12, 29), date(2026, 1, 5)),
        (date(1999, 1, 4), date(2026, 3, 20)),
    ],
)
def test_any_range_is_the_one_whole_table_request(first, last):
    assert helpers.requests(first, last) == ["/statistics/tables/csv/f11.1-data.csv"]


@pytest.mark.parametrize(
    ("first", "last", "days"),
    [
        (date(2026, 3, 16), date(2026, 3, 20), 5),
        (date(2025, 12, 24), date(2026, 1, 2), 5),  # no 25, 26 Dec nor 1 Jan
        (date(2026, 1, 26), date(2026, 1, 26), 0),  # Australia Day
        (date(1999, 1, 4), date(2026, 3, 20), 808),
    ],
)
def test_the_mirror_answers_the_whole_recorded_table(recorded, first, last, days):
    fetched = [r for path in helpers.requests(first, last) for r in _fetch(path)]
    assert fetched == recorded  # the whole table: the caller keeps first..last
    window = (first.isoformat(), last.isoformat())
    assert len({r.rate_date for r in fetched if window[0] <= r.rate_date <= window[1]}) == days


def test_the_mirror_does_not_serve_other_paths():
    assert mirror.serve("/statistics/tables/csv/f11-data.csv", {}) is None


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html>oops</html>", "no Units row"),
        (b"", "no Units row"),
        (b"\xff\xfeU\x00n\x00", "not a UTF-8 CSV"),
    ],
)
def test_a_document_that_is_not_the_f11_csv_fails_in_one_line_naming_the_setting(body, why):
    url = "http://x/statistics/tables/csv/f11.1-data.csv"
    with pytest.raises(UpstreamError) as err:
        helpers.parse(body, url)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{url} is not a Reserve Bank of Australia F11.1")
    assert f"({why}); check RBA_BASE_URL" in message
