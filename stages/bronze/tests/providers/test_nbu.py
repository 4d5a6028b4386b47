"""The NBU's exchange_site JSON: parsed from the recording, requested by month, mirrored."""

from __future__ import annotations

import importlib
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from makerates_bronze.providers.nbu import helpers
from makerates_bronze.providers.observation import Observation
from makerates_core.errors import UpstreamError

TOOLS = Path(__file__).resolve().parents[4] / "tools"
FIXTURE = TOOLS / "fixtures" / "providers" / "nbu" / "exchange_site.json"
CURRENCIES = (  # the 45 entries a day less the four metals
    "AED AUD AZN BDT CAD CHF CNY CZK DKK DZD EGP EUR GBP GEL HKD HUF IDR ILS INR JPY KRW"
    " KZT LBP MDL MXN MYR NOK NZD PLN RON RSD SAR SEK SGD THB TND TRY USD VND XDR ZAR"
)
DAYS = [f"2026-03-{day:02}" for day in range(1, 11)]  # every calendar day, weekends too
ENTRY = (
    '{"exchangedate":"05.03.2026","r030":840,"cc":"%s","txt":"x","enname":"US Dollar",'
    '"rate":%s,"units":%s,"rate_per_unit":43.717,"group":"1","calcdate":"04.03.2026"}'
)


mirror = importlib.import_module("provider_mirror.nbu")  # tools/ is on sys.path (conftest)


def _fetch(path: str) -> list[Observation]:
    parts = urlsplit(path)
    answer = mirror.serve(parts.path, parse_qs(parts.query))
    assert answer is not None, path
    content_type, body = answer
    assert content_type.startswith("application/json")
    return helpers.parse(body, f"http://mirror/nbu{path}")


def _body(rate: str, units: str = "1", code: str = "USD") -> bytes:
    return f"[{ENTRY % (code, rate, units)}]".encode()


@pytest.fixture(scope="module")
def recorded() -> list[Observation]:
    return helpers.parse(FIXTURE.read_bytes(), str(FIXTURE))


@pytest.fixture(scope="module")
def rates(recorded) -> dict[tuple[str, str], tuple[str, str]]:
    return {(r.rate_date, r.currency): (r.rate, r.units) for r in recorded}


def test_the_recording_gives_every_currency_every_day_as_published(recorded, rates):
    assert len(recorded) == len(rates) == 41 * 10
    assert sorted({r.rate_date for r in recorded}) == DAYS
    assert " ".join(sorted({r.currency for r in recorded})) == CURRENCIES
    assert rates["2026-03-01", "USD"] == ("43.2081", "1")
    assert rates["2026-03-05", "EUR"] == ("50.8341", "1")
    assert rates["2026-03-05", "XDR"] == ("59.7033", "1")


def test_small_currencies_keep_their_published_scale(rates):
    assert rates["2026-03-01", "THB"] == ("13.9116", "10")
    assert rates["2026-03-06", "JPY"] == ("2.7825", "10")
    assert rates["2026-03-05", "KRW"] == ("2.9762", "100")
    assert rates["2026-03-06", "IDR"] == ("2.5918", "1000")


def test_quotes_are_uah_per_units_and_the_metals_and_the_pivot_are_left_out(recorded):
    assert {r.inverse for r in recorded} == {False}
    assert all(isinstance(r.rate, str) for r in recorded)
    assert b'"cc":"XAU"' in FIXTURE.read_bytes()
    assert not {"UAH", "XAU", "XAG", "XPT", "XPD"} & {r.currency for r in recorded}


def test_a_weekend_repeats_fridays_rate(rates):
    friday = {currency: rate for (day, currency), rate in rates.items() if day == "2026-03-06"}
    for day in ("2026-03-07", "2026-03-08"):
        assert {currency: rate for (d, currency), rate in rates.items() if d == day} == friday


@pytest.mark.parametrize("rate", ["null", '""'])
def test_an_unpublished_rate_gives_nothing(rate):
    assert helpers.parse(_body(rate), "x") == []


@pytest.mark.parametrize("code", ["UAH", "XAU", "XAG", "XPT", "XPD"])
def test_the_pivot_and_the_metals_give_nothing(code):
    assert helpers.parse(_body("43.717", code=code), "x") == []


@pytest.mark.parametrize(
    ("rate", "units", "code"),
    [
        ("0", "1", "USD"),
        ('"N/A"', "1", "USD"),
        ('"abc"', "1", "USD"),
        ("1e400", "1", "USD"),
        ("43.7", "0", "USD"),
        ("43.7", '"ten"', "USD"),
        ("43.717", "1", ""),
        ("43.717", "1", "usd"),
        ("43.717", "1", "Gold"),
    ],
)
def test_every_other_value_is_kept_as_published_for_silver_to_check(rate, units, code):
    assert helpers.parse(_body(rate, units, code), "x") == [
        ("2026-03-05", code, rate.strip('"'), units.strip('"'), False)
    ]


def test_zero_negative_rates_and_a_lowercase_code_are_kept_for_silver_to_check(recorded):
    body = (
        FIXTURE.read_bytes()
        .replace(b'"cc":"TND"', b'"cc":"tnd"', 1)  # the first entry: 2026-03-01
        .replace(b'"rate":15.093,', b'"rate":-1.5,')  # that TND rate
        .replace(b'"rate":13.9116,', b'"rate":0,')  # THB, 2026-03-01
    )
    rates = {(r.rate_date, r.currency): (r.rate, r.units) for r in helpers.parse(body, "x")}
    assert rates["2026-03-01", "THB"] == ("0", "10")
    assert rates["2026-03-01", "tnd"] == ("-1.5", "1")
    assert ("2026-03-01", "TND") not in rates
    assert len(rates) == len(recorded)
    unpublished = FIXTURE.read_bytes().replace(b'"rate":13.9116,', b'"rate":null,')
    assert len(helpers.parse(unpublished, "x")) == len(recorded) - 1


def test_a_valid_entry_and_an_empty_answer():
    assert helpers.parse(_body("43.717", "1"), "x") == [("2026-03-05", "USD", "43.717", "1", False)]
    assert helpers.parse(b"[\r\n]\r\n", "x") == []


def test_a_short_range_is_one_request():
    assert helpers.requests(date(2026, 3, 1), date(2026, 3, 10)) == [
        "/NBU_Exchange/exchange_site?start=20260301&end=20260310&sort=exchangedate&order=asc&json"
    ]


def test_a_year_boundary_splits_the_range_by_month():
    paths = helpers.requests(date(2025, 12, 20), date(2026, 2, 3))
    assert [parse_qs(urlsplit(p).query, keep_blank_values=True) for p in paths] == [
        _query("20251220", "20251231"),
        _query("20260101", "20260131"),
        _query("20260201", "20260203"),
    ]


def _query(start: str, end: str) -> dict[str, list[str]]:
    return {
        "start": [start],
        "end": [end],
        "sort": ["exchangedate"],
        "order": ["asc"],
        "json": [""],
    }


def test_a_backfill_from_1999_asks_once_a_month_and_gets_the_recording(recorded):
    paths = helpers.requests(date(1999, 1, 1), date(2026, 12, 31))
    assert len(paths) == 28 * 12
    assert "start=19990101&end=19990131" in paths[0]
    assert "start=20240201&end=20240229" in paths[-35]  # a leap February
    spans = [parse_qs(urlsplit(p).query) for p in paths]
    for before, after in pairwise(spans):  # no gap, no overlap
        ended = datetime.strptime(before["end"][0], "%Y%m%d").date()
        assert datetime.strptime(after["start"][0], "%Y%m%d").date() == ended + timedelta(days=1)
    assert [r for path in paths for r in _fetch(path)] == recorded


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 3, 1), date(2026, 3, 10)),
        (date(2026, 3, 5), date(2026, 3, 5)),
        (date(2026, 3, 7), date(2026, 3, 8)),
        (date(2026, 2, 20), date(2026, 3, 2)),
        (date(2026, 3, 11), date(2026, 4, 30)),  # after the recording: empty lists
    ],
)
def test_the_mirror_answers_exactly_the_recorded_days_in_the_range(recorded, first, last):
    fetched = [r for path in helpers.requests(first, last) for r in _fetch(path)]
    inside = [r for r in recorded if first.isoformat() <= r.rate_date <= last.isoformat()]
    assert fetched == inside


def test_the_mirror_renders_the_recorded_layout():
    answer = mirror.serve(helpers.PATH, {"start": ["20260301"], "end": ["20260310"]})
    assert answer == ("application/json; charset=utf-8", FIXTURE.read_bytes())


def test_the_mirror_does_not_serve_other_paths():
    assert (
        mirror.serve("/NBU_Exchange/exchange", {"start": ["20260301"], "end": ["20260310"]}) is None
    )


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html>oops</html>", "not JSON"),
        (b'{"message": "Bad request"}', "not a list"),
        (b'[{"cc": "USD", "rate": 43.717}]', "an entry without exchangedate, cc, rate, units"),
        (b"[1]", "an entry without exchangedate, cc, rate, units"),
        (_body("43.717").replace(b"05.03.2026", b"2026-03-05"), "exchangedate '2026-03-05'"),
        (_body("43.717", units="null"), "an entry whose cc, rate or units is not text"),
        (_body("[43.717]"), "an entry whose cc, rate or units is not text"),
    ],
)
def test_a_document_that_is_not_nbus_fails_in_one_line_naming_the_setting(body, why):
    url = "http://x/NBU_Exchange/exchange_site?start=20260301"
    with pytest.raises(UpstreamError) as err:
        helpers.parse(body, url)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{url} is not a National Bank of Ukraine exchange_site")
    assert why in message
    assert message.endswith("; check NBU_BASE_URL")
