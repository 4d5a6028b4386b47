"""The Bank of Israel's SDMX EXR CSV: parsed from the recording, requested by year, mirrored."""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from makerates_bronze.providers.boi import helpers
from makerates_bronze.providers.observation import Observation
from makerates_core.errors import UpstreamError

TOOLS = Path(__file__).resolve().parents[4] / "tools"
FIXTURE = TOOLS / "fixtures" / "providers" / "boi" / "exr_of00.csv"
HEADER = (
    "SERIES_CODE,FREQ,BASE_CURRENCY,COUNTER_CURRENCY,UNIT_MEASURE,DATA_TYPE,DATA_SOURCE,"
    "TIME_COLLECT,CONF_STATUS,PUB_WEBSITE,UNIT_MULT,COMMENTS,TIME_PERIOD,OBS_VALUE,RELEASE_STATUS\n"
)
ALL_DAYS = "EGP EUR GBP JOD JPY LBP USD"  # the recording has these on its three days
FIRST_DAY_ONLY = "AUD CAD CHF DKK NOK SEK ZAR"  # and these on 2026-03-02 only
DAYS = ["2026-03-02", "2026-03-05", "2026-03-06"]


mirror = importlib.import_module("provider_mirror.boi")  # tools/ is on sys.path (conftest)


def _fetch(path: str) -> list[Observation]:
    parts = urlsplit(path)
    answer = mirror.serve(parts.path, parse_qs(parts.query))
    assert answer is not None, path
    content_type, body = answer
    assert content_type.startswith("text/csv")
    return helpers.parse(body, f"http://mirror/boi{path}")


def _line(base: str = "USD", mult: str = "0", value: str = "3.073", **fields: str) -> str:
    """One EXR line like the recording's, with some fields changed."""
    line = {"FREQ": "D", "COUNTER_CURRENCY": "ILS", "TIME_PERIOD": "2026-03-02", **fields}
    return (
        f"RER_{base}_ILS,{line['FREQ']},{base},{line['COUNTER_CURRENCY']},ILS,OF00,BOI_MRKT,V,F,Y,"
        f"{mult},,{line['TIME_PERIOD']},{value},YP\n"
    )


def _body(*lines: str) -> bytes:
    return (HEADER + "".join(lines)).encode()


@pytest.fixture(scope="module")
def recorded() -> list[Observation]:
    return helpers.parse(FIXTURE.read_bytes(), str(FIXTURE))


@pytest.fixture(scope="module")
def rates(recorded) -> dict[tuple[str, str], tuple[str, str]]:
    return {(r.rate_date, r.currency): (r.rate, r.units) for r in recorded}


def test_the_recording_gives_every_recorded_quote_as_published(recorded, rates):
    assert len(recorded) == len(rates) == 7 * 3 + 7
    assert sorted({r.rate_date for r in recorded}) == DAYS
    by_day = {day: " ".join(sorted(c for d, c in rates if d == day)) for day in DAYS}
    assert by_day == {
        "2026-03-02": " ".join(sorted(f"{ALL_DAYS} {FIRST_DAY_ONLY}".split())),
        "2026-03-05": ALL_DAYS,
        "2026-03-06": ALL_DAYS,
    }
    assert rates["2026-03-02", "USD"] == ("3.073", "1")
    assert rates["2026-03-05", "EUR"] == ("3.544", "1")
    assert rates["2026-03-02", "SEK"] == ("0.3303", "1")


def test_unit_mult_is_the_published_scale(rates):
    assert rates["2026-03-06", "JPY"] == ("1.966", "100")  # UNIT_MULT 2: ILS per 100 yen
    assert rates["2026-03-05", "LBP"] == ("0.0003", "10")  # UNIT_MULT 1: ILS per 10 pounds
    assert {units for (_, currency), (_, units) in rates.items() if currency == "USD"} == {"1"}


def test_quotes_are_ils_per_units_and_the_pivot_is_not_listed(recorded):
    assert {r.inverse for r in recorded} == {False}
    assert "ILS" not in {r.currency for r in recorded}


@pytest.mark.parametrize(
    "line",
    [
        _line(value=""),
        _line(base="ILS"),
        _line(COUNTER_CURRENCY="USD"),
        _line(FREQ="M", TIME_PERIOD="2026-03"),
    ],
)
def test_an_empty_value_the_pivot_and_other_series_give_nothing(line):
    assert helpers.parse(_body(line), "x") == []


@pytest.mark.parametrize(
    ("base", "value"),
    [("USD", "0"), ("USD", "N/A"), ("USD", "1e400"), ("NEER", "3.073"), ("usd", "3.073")],
)
def test_every_other_daily_line_is_kept_as_published_for_silver_to_check(base, value):
    assert helpers.parse(_body(_line(base=base, value=value)), "x") == [
        ("2026-03-02", base, value, "1", False)
    ]


def test_zero_negative_rates_and_a_lowercase_code_are_kept_for_silver_to_check(recorded):
    body = (
        FIXTURE.read_bytes()
        .replace(b"2026-03-02,3.073,", b"2026-03-02,0,")  # USD
        .replace(b"2026-03-05,3.544,", b"2026-03-05,-1.5,")  # EUR
        .replace(b",JPY,ILS,", b",jpy,ILS,")
        .replace(b"2026-03-02,0.3303,", b"2026-03-02,,")  # SEK: no rate
    )
    rates = {(r.rate_date, r.currency): (r.rate, r.units) for r in helpers.parse(body, "x")}
    assert rates["2026-03-02", "USD"] == ("0", "1")
    assert rates["2026-03-05", "EUR"] == ("-1.5", "1")
    assert rates["2026-03-06", "jpy"] == ("1.966", "100")
    assert "JPY" not in {currency for _, currency in rates}
    assert ("2026-03-02", "SEK") not in rates
    assert len(rates) == len(recorded) - 1


def test_a_valid_line_and_a_header_alone():
    assert helpers.parse(_body(_line(mult="2", base="JPY", value="1.971")), "x") == [
        ("2026-03-02", "JPY", "1.971", "100", False)
    ]
    assert helpers.parse(_body(), "x") == []


def test_a_short_range_is_one_request():
    assert helpers.requests(date(2026, 3, 1), date(2026, 3, 20)) == [
        "/FusionEdgeServer/sdmx/v2/data/dataflow/BOI.STATISTICS/EXR/1.0/"
        "?c%5BDATA_TYPE%5D=OF00&startperiod=2026-03-01&endperiod=2026-03-20&format=csv"
    ]


def test_a_year_boundary_splits_the_range():
    paths = helpers.requests(date(2025, 12, 29), date(2026, 1, 5))
    queries = [parse_qs(urlsplit(p).query) for p in paths]
    assert [(q["startperiod"], q["endperiod"]) for q in queries] == [
        (["2025-12-29"], ["2025-12-31"]),
        (["2026-01-01"], ["2026-01-05"]),
    ]
    assert {(q["c[DATA_TYPE]"][0], q["format"][0]) for q in queries} == {("OF00", "csv")}


def test_a_backfill_from_1999_asks_once_a_year_and_gets_the_recording(recorded):
    paths = helpers.requests(date(1999, 1, 4), date(2026, 3, 20))
    assert len(paths) == 28
    assert "startperiod=1999-01-04&endperiod=1999-12-31" in paths[0]
    assert "startperiod=2013-01-01&endperiod=2013-12-31" in paths[14]
    assert "startperiod=2026-01-01&endperiod=2026-03-20" in paths[-1]
    assert [r for path in paths for r in _fetch(path)] == recorded


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 3, 1), date(2026, 3, 20)),
        (date(2026, 3, 2), date(2026, 3, 2)),
        (date(2026, 3, 3), date(2026, 3, 5)),
        (date(2026, 3, 6), date(2026, 12, 31)),
        (date(2025, 12, 1), date(2026, 3, 1)),  # before the recording: the header alone
    ],
)
def test_the_mirror_answers_exactly_the_recorded_days_in_the_range(recorded, first, last):
    fetched = [r for path in helpers.requests(first, last) for r in _fetch(path)]
    inside = [r for r in recorded if first.isoformat() <= r.rate_date <= last.isoformat()]
    assert fetched == inside


def test_the_mirror_renders_the_recorded_layout():
    query = {"startperiod": ["2026-03-01"], "endperiod": ["2026-03-20"], "format": ["csv"]}
    assert mirror.serve(helpers.PATH, query) == ("text/csv; charset=utf-8", FIXTURE.read_bytes())
    assert mirror.serve(helpers.PATH, {**query, "c[DATA_TYPE]": ["OF01"]})[1] == HEADER.encode()


def test_the_mirror_does_not_serve_other_paths_or_formats():
    assert (
        mirror.serve("/FusionEdgeServer/sdmx/v2/data/dataflow/BOI.STATISTICS/OTHER/1.0/", {})
        is None
    )
    assert mirror.serve(helpers.PATH, {"format": ["sdmx-json"]}) is None


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html><body>Service unavailable</body></html>", "no FREQ, BASE_CURRENCY"),
        (b'{"data": {"dataSets": []}}', "no FREQ, BASE_CURRENCY"),
        (b"", "no FREQ, BASE_CURRENCY"),
        (b"\xff\xfe\x00", "not CSV"),
        (_body(_line(mult="")), "UNIT_MULT '' is not a power of ten"),
        (_body(_line(TIME_PERIOD="02/03/2026")), "TIME_PERIOD '02/03/2026' is not a day"),
        (_body("RER_USD_ILS,D,USD,ILS\n"), "a line shorter than the header"),
    ],
)
def test_a_document_that_is_not_bois_fails_in_one_line_naming_the_setting(body, why):
    url = "http://x/FusionEdgeServer/sdmx/v2/data/dataflow/BOI.STATISTICS/EXR/1.0/?format=csv"
    with pytest.raises(UpstreamError) as err:
        helpers.parse(body, url)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{url} is not a Bank of Israel SDMX EXR CSV document")
    assert why in message
    assert message.endswith("; check BOI_BASE_URL")
