"""The Bank of Canada's Valet document: parsed from the recording, requested by year, mirrored."""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from makerates_bronze.providers.boc import helpers
from makerates_bronze.providers.observation import Observation
from makerates_core.errors import UpstreamError

TOOLS = Path(__file__).resolve().parents[4] / "tools"
FIXTURE = TOOLS / "fixtures" / "providers" / "boc" / "FX_RATES_DAILY.json"
CURRENCIES = (
    "AUD BRL CHF CNY EUR GBP HKD IDR INR JPY KRW MXN NOK NZD PEN RUB SAR SEK SGD TRY TWD USD ZAR"
)
DAYS = ["2026-03-12", "2026-03-13", "2026-03-16", "2026-03-17", "2026-03-18"]


mirror = importlib.import_module("provider_mirror.boc")  # tools/ is on sys.path (conftest)


def _fetch(path: str) -> list[Observation]:
    parts = urlsplit(path)
    answer = mirror.serve(parts.path, parse_qs(parts.query))
    assert answer is not None, path
    content_type, body = answer
    assert content_type.startswith("application/json")
    return helpers.parse(body, f"http://mirror/boc{path}")


@pytest.fixture(scope="module")
def recorded() -> list[Observation]:
    return helpers.parse(FIXTURE.read_bytes(), str(FIXTURE))


def test_the_recording_gives_every_currency_every_day_as_published(recorded):
    assert len(recorded) == len(set(recorded)) == 23 * 5
    assert sorted({r.rate_date for r in recorded}) == DAYS
    assert " ".join(sorted({r.currency for r in recorded})) == CURRENCIES
    rates = {(r.rate_date, r.currency): r.rate for r in recorded}
    assert rates["2026-03-12", "USD"] == "1.3617"
    assert rates["2026-03-13", "EUR"] == "1.5709"
    assert rates["2026-03-12", "IDR"] == "0.000081"
    assert rates["2026-03-13", "JPY"] == "0.008600"  # trailing zeros kept


def test_quotes_are_cad_per_one_unit_and_discontinued_series_give_nothing(recorded):
    assert {(r.units, r.inverse) for r in recorded} == {("1", False)}
    assert all(isinstance(r.rate, str) for r in recorded)
    # MYR, THB and VND are still described in seriesDetail but have no values.
    assert not {"CAD", "MYR", "THB", "VND"} & {r.currency for r in recorded}


def test_only_absent_null_and_empty_values_are_missing_days():
    body = (
        b'{"observations": [{"d": "2026-03-12", "FXUSDCAD": {"v": "1.3617"},'
        b' "FXEURCAD": {"v": ""}, "FXGBPCAD": {"v": "N/A"}, "FXJPYCAD": {}, "FXCHFCAD": null,'
        b' "FXNOKCAD": {"v": null}, "FXSEKCAD": {"v": "abc"}, "FXXXCAD": {"v": 1e400}}]}'
    )
    assert helpers.parse(body, "x") == [
        ("2026-03-12", "USD", "1.3617", "1", False),
        ("2026-03-12", "GBP", "N/A", "1", False),
        ("2026-03-12", "SEK", "abc", "1", False),
        ("2026-03-12", "XX", "1e400", "1", False),
    ]
    assert helpers.parse(b'{"observations": []}', "x") == []


def test_zero_negative_rates_and_a_lowercase_code_are_kept_for_silver_to_check():
    body = (
        FIXTURE.read_bytes()
        .replace(b'"1.3617"', b'"0"')  # USD, 2026-03-12
        .replace(b'"1.5709"', b'"-1.5"')  # EUR, 2026-03-13
        .replace(b'"FXJPYCAD"', b'"FXjpyCAD"')
        .replace(b'"0.9661"', b'""')  # AUD, 2026-03-12: no value
    )
    rates = {(r.rate_date, r.currency): r.rate for r in helpers.parse(body, "x")}
    assert rates["2026-03-12", "USD"] == "0"
    assert rates["2026-03-13", "EUR"] == "-1.5"
    assert rates["2026-03-13", "jpy"] == "0.008600"
    assert "JPY" not in {currency for _, currency in rates}
    assert ("2026-03-12", "AUD") not in rates
    assert len(rates) == 23 * 5 - 1


def test_a_short_range_is_one_request():
    assert helpers.requests(date(2026, 3, 12), date(2026, 3, 18)) == [
        "/valet/observations/group/FX_RATES_DAILY/json?start_date=2026-03-12&end_date=2026-03-18"
    ]


def test_a_year_boundary_splits_the_range():
    paths = helpers.requests(date(2025, 12, 29), date(2026, 1, 5))
    assert [parse_qs(urlsplit(p).query) for p in paths] == [
        {"start_date": ["2025-12-29"], "end_date": ["2025-12-31"]},
        {"start_date": ["2026-01-01"], "end_date": ["2026-01-05"]},
    ]


def test_a_backfill_from_1999_starts_with_the_series_and_asks_once_a_year(recorded):
    paths = helpers.requests(date(1999, 1, 4), date(2026, 3, 18))
    assert len(paths) == 10
    assert "start_date=2017-01-03&end_date=2017-12-31" in paths[0]
    assert "start_date=2026-01-01&end_date=2026-03-18" in paths[-1]
    assert [r for path in paths for r in _fetch(path)] == recorded


def test_a_range_before_the_series_is_asked_as_is_and_answered_empty():
    paths = helpers.requests(date(2010, 1, 1), date(2010, 12, 31))
    assert len(paths) == 1
    assert _fetch(paths[0]) == []


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 3, 12), date(2026, 3, 18)),
        (date(2026, 3, 13), date(2026, 3, 16)),
        (date(2026, 3, 14), date(2026, 3, 15)),  # a weekend: an empty observations list
        (date(2025, 12, 1), date(2026, 3, 31)),
    ],
)
def test_the_mirror_answers_exactly_the_recorded_days_in_the_range(recorded, first, last):
    fetched = [r for path in helpers.requests(first, last) for r in _fetch(path)]
    inside = [r for r in recorded if first.isoformat() <= r.rate_date <= last.isoformat()]
    assert fetched == inside


def test_the_mirror_renders_the_recorded_layout():
    answer = mirror.serve(helpers.PATH, {"start_date": ["2026-03-12"]})
    assert answer == ("application/json; charset=utf-8", FIXTURE.read_bytes())


def test_the_mirror_does_not_serve_other_paths():
    assert mirror.serve("/valet/observations/group/OTHER/json", {}) is None


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html>oops</html>", "not JSON"),
        (b'{"message": "Bad request"}', "no observations"),
        (b"[1, 2]", "no observations"),
        (b'{"observations": {}}', "observations is not a list"),
        (b'{"observations": [{"FXUSDCAD": {"v": "1.3617"}}]}', "an observation without a date"),
        (
            b'{"observations": [{"d": "2026-03-12", "FXUSDCAD": "1.3617"}]}',
            "FXUSDCAD of 2026-03-12",
        ),
        (
            b'{"observations": [{"d": "2026-03-12", "FXUSDCAD": {"v": []}}]}',
            "FXUSDCAD of 2026-03-12",
        ),
    ],
)
def test_a_document_that_is_not_valets_fails_in_one_line_naming_the_setting(body, why):
    url = "http://x/valet/observations/group/FX_RATES_DAILY/json"
    with pytest.raises(UpstreamError) as err:
        helpers.parse(body, url)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{url} is not a Bank of Canada Valet")
    assert f"({why}" in message
    assert message.endswith("); check BOC_BASE_URL")
