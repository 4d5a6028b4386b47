"""CNB: the recorded daily-year document read to the digit, its requests, its offline mirror."""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from makerates_bronze.providers.cnb import helpers
from makerates_bronze.providers.observation import Observation
from makerates_core.errors import UpstreamError

ROOT = Path(__file__).resolve().parents[4]
RECORDED = (ROOT / "tools/fixtures/providers/cnb/daily-year-2026.json").read_bytes()
URL = "https://api.cnb.cz/cnbapi/exrates/daily-year?year=2026&lang=EN"
SCALED = {"HUF": "100", "IDR": "1000", "INR": "100", "ISK": "100", "JPY": "100", "KRW": "100"}
SCALED |= {"PHP": "100", "THB": "100", "TRY": "100"}
CURRENCIES = {"AUD", "BRL", "CAD", "CHF", "CNY", "DKK", "EUR", "GBP", "HKD", "ILS", "MXN", "MYR"}
CURRENCIES |= {"NOK", "NZD", "PLN", "RON", "SEK", "SGD", "USD", "XDR", "ZAR"} | SCALED.keys()

mirror = importlib.import_module("provider_mirror.cnb")  # tools/ is on sys.path (conftest)


def answer(path: str) -> tuple[str, bytes] | None:
    parts = urlsplit(path)
    return mirror.serve(parts.path, parse_qs(parts.query))


def test_the_recorded_document_has_30_currencies_on_24_days():
    observations = helpers.parse(RECORDED, URL)
    assert len(observations) == 30 * 24
    assert {o.currency for o in observations} == CURRENCIES
    assert "CZK" not in {o.currency for o in observations}
    days = sorted({o.rate_date for o in observations})
    assert (len(days), days[0], days[-1]) == (24, "2026-03-02", "2026-04-02")


def test_rates_are_the_published_strings():
    observations = set(helpers.parse(RECORDED, URL))
    assert Observation("2026-04-02", "EUR", "24.540") in observations  # the trailing zero kept
    assert Observation("2026-03-02", "USD", "20.737") in observations
    assert Observation("2026-03-02", "JPY", "13.173", "100") in observations
    assert Observation("2026-04-02", "IDR", "1.253", "1000") in observations


def test_units_are_the_published_amounts():
    units = {(o.currency, o.units, o.inverse) for o in helpers.parse(RECORDED, URL)}
    assert units == {(code, SCALED.get(code, "1"), False) for code in CURRENCIES}


def test_only_the_pivot_gold_and_unpublished_rates_are_skipped():
    entry = '{{"currencyCode":"{}","amount":{},"validFor":"2026-03-02","rate":{}}}'
    rows = [("CZK", 1, 1), ("XAU", 1, "1.5"), ("USD", 1, '"N/A"'), ("GBP", 1, '""')]
    rows += [("CHF", 1, "null"), ("NOK", 1, "0.000"), ("xx", 1, "2.0"), ("SEK", 1, "2.180")]
    rows += [("PLN", '"N/A"', "5.6"), ("DKK", 0, '"abc"'), ("HUF", 100, "1e400")]
    body = '{"rates":[' + ",".join(entry.format(*row) for row in rows) + "]}"
    assert helpers.parse(body.encode(), URL) == [
        Observation("2026-03-02", "USD", "N/A"),
        Observation("2026-03-02", "NOK", "0.000"),
        Observation("2026-03-02", "xx", "2.0"),
        Observation("2026-03-02", "SEK", "2.180"),
        Observation("2026-03-02", "PLN", "5.6", "N/A"),
        Observation("2026-03-02", "DKK", "abc", "0"),
        Observation("2026-03-02", "HUF", "1e400", "100"),
    ]


def test_zero_negative_rates_and_a_lowercase_code_are_kept_for_silver_to_check():
    body = (
        RECORDED.replace(
            b'"validFor":"2026-04-02","rate":24.540', b'"validFor":"2026-04-02","rate":0'
        )
        .replace(b'"validFor":"2026-03-02","rate":20.737', b'"validFor":"2026-03-02","rate":-1.5')
        .replace(
            b'"currencyCode":"JPY","amount":100,"validFor":"2026-03-02"',
            b'"currencyCode":"jpy","amount":100,"validFor":"2026-03-02"',
        )
        .replace(b'"validFor":"2026-04-02","rate":1.253', b'"validFor":"2026-04-02","rate":null')
    )
    observations = helpers.parse(body, URL)
    assert Observation("2026-04-02", "EUR", "0") in observations
    assert Observation("2026-03-02", "USD", "-1.5") in observations
    assert Observation("2026-03-02", "jpy", "13.173", "100") in observations
    assert ("2026-04-02", "IDR") not in {(o.rate_date, o.currency) for o in observations}
    assert len(observations) == 30 * 24 - 1


def test_a_year_without_a_fixing_is_empty():
    assert helpers.parse(b'{"rates":[]}', URL) == []


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Service unavailable</body></html>",
        b'{"error":"not found"}',
        b'{"rates":{}}',
        b"[]",
        b'{"rates":[{"currencyCode":"USD","amount":1,"validFor":"2026-03-02"}]}',
        b'{"rates":[{"currencyCode":"USD","amount":1,"validFor":"02.03.2026","rate":20.7}]}',
        b'{"rates":[{"currencyCode":"USD","amount":null,"validFor":"2026-03-02","rate":20.7}]}',
    ],
)
def test_a_body_that_is_not_a_daily_year_document_is_refused_in_one_line(body):
    with pytest.raises(UpstreamError) as raised:
        helpers.parse(body, URL)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{URL} is not a CNB daily-year document (")
    assert message.endswith("; check CNB_BASE_URL")


def test_a_range_within_one_year_is_one_request():
    assert helpers.requests(date(2026, 3, 2), date(2026, 3, 20)) == [
        "/cnbapi/exrates/daily-year?year=2026&lang=EN"
    ]


def test_a_range_across_new_year_asks_for_both_years():
    assert helpers.requests(date(2025, 12, 30), date(2026, 1, 5)) == [
        "/cnbapi/exrates/daily-year?year=2025&lang=EN",
        "/cnbapi/exrates/daily-year?year=2026&lang=EN",
    ]


def test_a_backfill_from_1999_is_one_request_per_year_all_served_by_the_mirror():
    paths = helpers.requests(date(1999, 1, 4), date(2026, 4, 2))
    assert len(paths) == 28
    assert paths[0].endswith("year=1999&lang=EN") and paths[-1].endswith("year=2026&lang=EN")
    answers = {path: answer(path) for path in paths}
    assert None not in answers.values()
    counts = [len(helpers.parse(body, path)) for path, (_, body) in answers.items()]
    assert counts == [0] * 27 + [720]


def test_no_year_before_the_archive_is_asked_for():
    assert helpers.requests(date(1985, 1, 1), date(1991, 6, 30)) == [
        "/cnbapi/exrates/daily-year?year=1991&lang=EN"
    ]


def test_the_mirror_answers_the_recorded_observations():
    content_type, body = answer("/cnbapi/exrates/daily-year?year=2026&lang=EN")
    assert content_type == "application/json"
    assert helpers.parse(body, URL) == helpers.parse(RECORDED, URL)


def test_the_mirror_refuses_other_paths():
    assert answer("/cnbapi/exrates/daily-year?lang=EN") is None
    assert answer("/cnbapi/exrates/daily?date=2026-03-02") is None
