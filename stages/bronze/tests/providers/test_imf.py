"""The IMF's representative rates: parsed from the recording, requested by month, mirrored."""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from makerates_bronze.providers.imf import helpers
from makerates_bronze.providers.observation import Observation
from makerates_core.errors import UpstreamError

TOOLS = Path(__file__).resolve().parents[4] / "tools"
FIXTURE = TOOLS / "fixtures" / "providers" / "imf" / "rms_mth_REP_2026-03.tsv"
RECORDED_URL = (
    "https://www.imf.org/external/np/fin/data/rms_mth.aspx"
    "?SelectDate=2026-03-31&reportType=REP&tsvflag=Y"
)
USD_PER_UNIT = {"EUR", "GBP", "AUD", "BWP", "NZD"}  # the rows marked (1)
CURRENCIES = USD_PER_UNIT | {
    "AED", "BND", "BRL", "CAD", "CHF", "CLP", "CNY", "CZK", "DKK", "DZD", "ILS", "INR", "JPY",
    "KRW", "KWD", "MUR", "MXN", "MYR", "NOK", "OMR", "PEN", "PHP", "PLN", "QAR", "SAR", "SEK",
    "SGD", "THB", "TTD", "UYU",
}  # fmt: skip
WEEKDAYS = [
    f"2026-03-{day:02d}" for day in range(2, 32) if date(2026, 3, day).weekday() < 5
]  # 22 business days, no holiday


mirror = importlib.import_module("provider_mirror.imf")  # tools/ is on sys.path (conftest)


def _fetch(path: str) -> list[Observation]:
    parts = urlsplit(path)
    answer = mirror.serve(parts.path, parse_qs(parts.query))
    assert answer is not None
    return helpers.parse(answer[1], path)


@pytest.fixture(scope="module")
def recorded() -> list[Observation]:
    return helpers.parse(FIXTURE.read_bytes(), RECORDED_URL)


def test_the_month_is_35_currencies_over_22_days_in_two_sections(recorded):
    assert {r.currency for r in recorded} == CURRENCIES
    assert sorted({r.rate_date for r in recorded}) == WEEKDAYS
    assert len(recorded) == 712  # 35 currencies on 22 days: 770 cells, 58 of them "NA"


@pytest.mark.parametrize(
    "expected",
    [
        Observation("2026-03-02", "EUR", "1.169800", inverse=False),
        Observation("2026-03-31", "GBP", "1.319850", inverse=False),  # second section
        Observation("2026-03-02", "JPY", "156.400000", inverse=True),
        Observation("2026-03-03", "KRW", "1435.400000", inverse=True),  # published "1,435.400000"
        Observation("2026-03-17", "BWP", "0.075400", inverse=False),
    ],
)
def test_rates_are_the_published_strings(recorded, expected):
    assert expected in recorded


def test_rows_marked_1_are_usd_per_unit_the_others_units_per_usd(recorded):
    assert {r.currency for r in recorded if not r.inverse} == USD_PER_UNIT
    assert {r.currency for r in recorded if r.inverse} == CURRENCIES - USD_PER_UNIT
    assert {r.units for r in recorded} == {"1"}
    assert "USD" not in {r.currency for r in recorded}


def test_na_cells_are_missing_days(recorded):
    australian = {r.rate_date for r in recorded if r.currency == "AUD"}
    assert "2026-03-09" not in australian
    assert len(australian) == 21
    omani = [r.rate_date for r in recorded if r.currency == "OMR" and r.rate_date >= "2026-03-17"]
    assert omani == ["2026-03-31"]


def test_unknown_names_and_zero_rates_are_kept_for_silver_to_check():
    body = (
        b"Representative Exchange Rates for Selected Currencies for May 2026\r\n"
        b"Currency\tMay 01, 2026\tMay 04, 2026\r\n"
        b"Japanese yen\t157.0\t0.000000\r\n"
        b"Atlantean drachma\t2.5\tNA\r\n"
        b"Euro(2)\t1e400\t\r\n"
    )
    assert helpers.parse(body, "x") == [
        ("2026-05-01", "JPY", "157.0", "1", True),
        ("2026-05-04", "JPY", "0.000000", "1", True),
        ("2026-05-01", "Atlantean drachma", "2.5", "1", True),
        ("2026-05-01", "Euro(2)", "1e400", "1", True),
    ]


def test_zero_negative_rates_and_a_lowercase_name_are_kept_for_silver_to_check(recorded):
    body = (
        FIXTURE.read_bytes()
        .replace(b"Euro(1)\t1.169800\t", b"Euro(1)\t0\t")
        .replace(b"\t156.400000\t", b"\t-1.5\t")
        .replace(b"Chinese yuan\t6.882900\t", b"chinese yuan\t6.882900\t")
        .replace(b"\t157.410000\t", b"\tNA\t")
    )
    rates = {(r.rate_date, r.currency): r.rate for r in helpers.parse(body, RECORDED_URL)}
    assert rates["2026-03-02", "EUR"] == "0"
    assert rates["2026-03-02", "JPY"] == "-1.5"
    assert rates["2026-03-02", "chinese yuan"] == "6.882900"
    assert ("2026-03-02", "CNY") not in rates
    assert ("2026-03-03", "JPY") not in rates
    assert len(rates) == len(recorded) - 1


def test_a_short_range_is_one_request_naming_the_months_last_day():
    assert helpers.requests(date(2026, 3, 10), date(2026, 3, 12)) == [
        "/external/np/fin/data/rms_mth.aspx?SelectDate=2026-03-31&reportType=REP&tsvflag=Y"
    ]


def test_month_ends_split_the_range_leap_years_included():
    paths = helpers.requests(date(2024, 1, 31), date(2024, 3, 1))
    assert [parse_qs(urlsplit(p).query)["SelectDate"] for p in paths] == [
        ["2024-01-31"],
        ["2024-02-29"],
        ["2024-03-31"],
    ]


def test_a_backfill_from_1999_asks_once_a_month():
    paths = helpers.requests(date(1999, 1, 4), date(2026, 3, 31))
    assert len(paths) == 27 * 12 + 3
    assert "SelectDate=1999-01-31&" in paths[0]
    assert "SelectDate=2026-03-31&" in paths[-1]
    assert len(set(paths)) == len(paths)


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 3, 1), date(2026, 3, 31)),
        (date(2026, 3, 10), date(2026, 3, 12)),
        (date(2026, 4, 1), date(2026, 4, 30)),  # an unrecorded month: an empty document
        (date(2026, 1, 15), date(2026, 5, 15)),
        (date(1999, 1, 4), date(2026, 12, 31)),
    ],
)
def test_the_mirror_answers_the_recorded_month_and_empty_others(recorded, first, last):
    paths = helpers.requests(first, last)
    fetched = [r for path in paths for r in _fetch(path)]
    months = {parse_qs(urlsplit(path).query)["SelectDate"][0][:7] for path in paths}
    assert fetched == [r for r in recorded if r.rate_date[:7] in months]  # whole months
    inside = [r for r in recorded if first.isoformat() <= r.rate_date <= last.isoformat()]
    assert [r for r in fetched if first.isoformat() <= r.rate_date <= last.isoformat()] == inside


def test_the_mirror_serves_the_recording_byte_for_byte_and_only_the_rep_report():
    query = {"SelectDate": ["2026-03-31"], "reportType": ["REP"], "tsvflag": ["Y"]}
    assert mirror.serve(helpers.PATH.split("?")[0], query) == (
        "application/vnd.ms-excel",
        FIXTURE.read_bytes(),
    )
    assert mirror.serve(helpers.PATH.split("?")[0], {**query, "reportType": ["SDRCV"]}) is None


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html>Access Denied</html>", "no representative-rates title"),
        (b"", "no representative-rates title"),
        (b"SDRs per Currency unit for March 2026\r\nCurrency\tMarch 02, 2026\r\n", "no repr"),
        (
            b"Representative Exchange Rates for Selected Currencies for March 2026\r\n"
            b"Euro(1)\t1.169800\r\n",
            "a row before the Currency header",
        ),
        (
            b"Representative Exchange Rates for Selected Currencies for March 2026\r\n"
            b"Currency\t2026-03-02\r\n",
            "a header cell '2026-03-02' that is not a date",
        ),
    ],
)
def test_a_document_that_is_not_the_imfs_fails_in_one_line_naming_the_setting(body, why):
    url = "http://x/external/np/fin/data/rms_mth.aspx?SelectDate=2026-03-31"
    with pytest.raises(UpstreamError) as err:
        helpers.parse(body, url)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{url} is not an IMF representative-rates document ({why}")
    assert message.endswith("); check IMF_BASE_URL")
