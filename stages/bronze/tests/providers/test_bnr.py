"""BNR: the recorded yearly archive read to the digit, its requests, its offline mirror."""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from makerates_bronze.providers.bnr import helpers
from makerates_bronze.providers.observation import Observation
from makerates_core.errors import UpstreamError

ROOT = Path(__file__).resolve().parents[4]
RECORDED = (ROOT / "tools/fixtures/providers/bnr/nbrfxrates2026.xml").read_bytes()
URL = "https://curs.bnr.ro/files/xml/years/nbrfxrates2026.xml"
SCALED = {"HUF", "IDR", "ISK", "JPY", "KRW"}
CURRENCIES = {"AED", "AUD", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EGP", "EUR", "GBP", "HKD"}
CURRENCIES |= {"ILS", "INR", "MDL", "MXN", "MYR", "NOK", "NZD", "PHP", "PLN", "RSD", "RUB"}
CURRENCIES |= {"SEK", "SGD", "THB", "TRY", "UAH", "USD", "XDR", "ZAR"} | SCALED

mirror = importlib.import_module("provider_mirror.bnr")  # tools/ is on sys.path (conftest)


def answer(path: str) -> tuple[str, bytes] | None:
    parts = urlsplit(path)
    return mirror.serve(parts.path, parse_qs(parts.query))


def test_the_recorded_archive_has_36_currencies_on_36_days():
    observations = helpers.parse(RECORDED, URL)
    assert len(observations) == 36 * 36
    assert {o.currency for o in observations} == CURRENCIES
    assert not {"RON", "XAU"} & {o.currency for o in observations}
    days = sorted({o.rate_date for o in observations})
    assert (len(days), days[0], days[-1]) == (36, "2026-07-01", "2026-08-19")


def test_rates_are_the_published_strings():
    observations = set(helpers.parse(RECORDED, URL))
    assert Observation("2026-08-19", "EUR", "5.2452") in observations
    assert Observation("2026-07-01", "USD", "4.6023") in observations
    assert Observation("2026-08-19", "HUF", "1.4375", "100") in observations
    assert Observation("2026-07-01", "IDR", "0.0256", "100") in observations


def test_units_are_the_published_multipliers():
    units = {(o.currency, o.units, o.inverse) for o in helpers.parse(RECORDED, URL)}
    assert units == {(code, "100" if code in SCALED else "1", False) for code in CURRENCIES}


def test_the_old_namespace_spacing_and_every_published_rate_are_read_as_published():
    body = b"""<?xml version="1.0" encoding="utf-8"?>
    <DataSet xmlns="http://www.bnr.ro/xsd"><Header/><Body><OrigCurrency>RON</OrigCurrency>
      <Cube date="2005-01-03">
        <Rate currency="RON">1.0000</Rate><Rate currency="XAU">95.1234</Rate>
        <Rate currency="USD">-</Rate><Rate currency="GBP"></Rate><Rate currency="CHF">0.0000</Rate>
        <Rate currency="JPY" multiplier="N/A">2.8000</Rate>
        <Rate currency="EUR"> 3.9170 </Rate><Rate currency="HUF" multiplier="100">1.5870</Rate>
      </Cube>
    </Body></DataSet>"""
    assert helpers.parse(body, URL) == [
        Observation("2005-01-03", "USD", "-"),
        Observation("2005-01-03", "CHF", "0.0000"),
        Observation("2005-01-03", "JPY", "2.8000", "N/A"),
        Observation("2005-01-03", "EUR", "3.9170"),
        Observation("2005-01-03", "HUF", "1.5870", "100"),
    ]


def test_zero_negative_rates_and_a_lowercase_code_are_kept_for_silver_to_check():
    body = (
        RECORDED.replace(b'<Rate currency="EUR">5.2452<', b'<Rate currency="EUR">0<')
        .replace(b'<Rate currency="USD">4.6023<', b'<Rate currency="USD">-1.5<')
        .replace(
            b'<Rate currency="HUF" multiplier="100">1.4375<',
            b'<Rate currency="huf" multiplier="100">1.4375<',
        )
        .replace(b'<Rate currency="AED">1.2531<', b'<Rate currency="AED"><')
    )
    observations = helpers.parse(body, URL)
    assert Observation("2026-08-19", "EUR", "0") in observations
    assert Observation("2026-07-01", "USD", "-1.5") in observations
    assert Observation("2026-08-19", "huf", "1.4375", "100") in observations
    assert ("2026-08-19", "HUF") not in {(o.rate_date, o.currency) for o in observations}
    assert ("2026-07-01", "AED") not in {(o.rate_date, o.currency) for o in observations}
    assert len(observations) == 36 * 36 - 1


def test_an_archive_without_a_day_is_empty():
    assert helpers.parse(mirror.without_days(RECORDED), URL) == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"rates":[]}',
        b"<html><body>Banca Nationala a Romaniei</body></html>",
        b"<DataSet><Header/></DataSet>",
        b'<DataSet><Body><Cube date="19.08.2026"><Rate currency="EUR">5.2</Rate></Cube></Body>'
        b"</DataSet>",
        b'<DataSet><Body><Cube date="2026-08-19"><Rate>5.2452</Rate></Cube></Body></DataSet>',
    ],
)
def test_a_body_that_is_not_an_archive_is_refused_in_one_line(body):
    with pytest.raises(UpstreamError) as raised:
        helpers.parse(body, URL)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{URL} is not a BNR nbrfxrates document (")
    assert message.endswith("; check BNR_BASE_URL")


def test_a_range_within_one_year_is_one_request():
    assert helpers.requests(date(2026, 7, 1), date(2026, 8, 19)) == [
        "/files/xml/years/nbrfxrates2026.xml"
    ]


def test_a_range_across_new_year_asks_for_both_years():
    assert helpers.requests(date(2025, 12, 30), date(2026, 1, 5)) == [
        "/files/xml/years/nbrfxrates2025.xml",
        "/files/xml/years/nbrfxrates2026.xml",
    ]


def test_a_backfill_from_1999_starts_at_the_first_archive_all_served_by_the_mirror():
    paths = helpers.requests(date(1999, 1, 4), date(2026, 8, 19))
    assert (len(paths), paths[0]) == (22, "/files/xml/years/nbrfxrates2005.xml")
    assert answer("/files/xml/years/nbrfxrates2004.xml") is None  # the real site has no 2004
    answers = {path: answer(path) for path in paths}
    assert None not in answers.values()
    counts = [len(helpers.parse(body, path)) for path, (_, body) in answers.items()]
    assert counts == [0] * 21 + [36 * 36]


def test_the_mirror_answers_the_recorded_observations():
    content_type, body = answer("/files/xml/years/nbrfxrates2026.xml")
    assert content_type == "text/xml"
    assert helpers.parse(body, URL) == helpers.parse(RECORDED, URL)


def test_the_mirror_refuses_other_paths():
    assert answer("/files/xml/nbrfxrates.xml") is None
    assert answer("/files/xml/years/nbrfxrates26.xml") is None
