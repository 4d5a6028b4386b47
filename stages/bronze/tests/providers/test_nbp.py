"""NBP's tables A and B: parsed from the recording, requested in 93-day spans, mirrored."""

from __future__ import annotations

import importlib
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from makerates_bronze.providers.nbp import helpers
from makerates_bronze.providers.observation import Observation
from makerates_core.errors import UpstreamError

TOOLS = Path(__file__).resolve().parents[4] / "tools"
FIXTURES = TOOLS / "fixtures" / "providers" / "nbp"
RECORDED_URL = "https://api.nbp.pl/api/exchangerates/tables/{}/2026-03-01/2026-03-05/?format=json"
TABLE_A_DAYS = ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
TABLE_B_DAY = "2026-03-04"  # a Wednesday


mirror = importlib.import_module("provider_mirror.nbp")  # tools/ is on sys.path (conftest)


def _recorded(table: str) -> list[Observation]:
    body = (FIXTURES / f"tables_{table}_2026-03-01_2026-03-05.json").read_bytes()
    return helpers.parse(body, RECORDED_URL.format(table))


def _fetch(path: str) -> list[Observation]:
    parts = urlsplit(path)
    answer = mirror.serve(parts.path, parse_qs(parts.query))
    return [] if answer is None else helpers.parse(answer[1], path)


def _span(path: str) -> int:
    *_, start, end, _query = path.split("/")
    return (date.fromisoformat(end) - date.fromisoformat(start)).days + 1


@pytest.fixture(scope="module")
def table_a() -> list[Observation]:
    return _recorded("A")


@pytest.fixture(scope="module")
def table_b() -> list[Observation]:
    return _recorded("B")


def test_table_a_is_32_currencies_on_each_of_4_business_days(table_a):
    assert sorted({r.rate_date for r in table_a}) == TABLE_A_DAYS
    assert len(table_a) == 32 * 4
    for day in TABLE_A_DAYS:
        assert len({r.currency for r in table_a if r.rate_date == day}) == 32
    assert {"EUR", "USD", "JPY", "XDR"} <= {r.currency for r in table_a}


def test_table_b_is_weekly_116_other_currencies_on_wednesday(table_a, table_b):
    assert {r.rate_date for r in table_b} == {TABLE_B_DAY}
    assert len({r.currency for r in table_b}) == len(table_b) == 116
    assert not {r.currency for r in table_a} & {r.currency for r in table_b}


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("A", Observation("2026-03-02", "EUR", "4.2304")),
        ("A", Observation("2026-03-03", "USD", "3.6820")),  # trailing zero kept
        ("A", Observation("2026-03-03", "JPY", "0.023353")),
        ("B", Observation("2026-03-04", "PAB", "3.6770")),  # the trailing zero is kept
        ("B", Observation("2026-03-04", "IRR", "0.0000028")),
    ],
)
def test_rates_are_the_published_strings_in_pln_per_one_unit(table, expected):
    assert expected in _recorded(table)


def test_every_quote_is_per_one_unit_never_inverse_and_pln_is_not_a_currency(table_a, table_b):
    rows = table_a + table_b
    assert {(r.units, r.inverse) for r in rows} == {("1", False)}
    assert "PLN" not in {r.currency for r in rows}


def test_only_a_null_mid_and_the_pivot_are_skipped():
    body = (
        b'[{"table":"A","effectiveDate":"2026-03-02","rates":[{"code":"USD","mid":3.6056},'
        b'{"code":"EUR","mid":null},{"code":"CHF","mid":0.0},{"code":"PLN","mid":1},'
        b'{"code":"gold","mid":595.71},{"code":"XX","mid":"abc"},{"code":"GBP","mid":1e400}]}]'
    )
    assert helpers.parse(body, "x") == [
        ("2026-03-02", "USD", "3.6056", "1", False),
        ("2026-03-02", "CHF", "0.0", "1", False),
        ("2026-03-02", "gold", "595.71", "1", False),
        ("2026-03-02", "XX", "abc", "1", False),
        ("2026-03-02", "GBP", "1e400", "1", False),
    ]
    assert helpers.parse(b"[]", "x") == []


def test_zero_negative_rates_and_a_lowercase_code_are_kept_for_silver_to_check(table_a):
    body = (
        (FIXTURES / "tables_A_2026-03-01_2026-03-05.json")
        .read_bytes()
        .replace(b'"code":"EUR","mid":4.2304', b'"code":"EUR","mid":0')
        .replace(b'"code":"AUD","mid":2.5522', b'"code":"AUD","mid":-1.5')
        .replace(b'"code":"JPY","mid":0.023353', b'"code":"jpy","mid":0.023353')
        .replace(b'"code":"BRL","mid":0.6969', b'"code":"BRL","mid":null')
    )
    rates = helpers.parse(body, RECORDED_URL.format("A"))
    assert Observation("2026-03-02", "EUR", "0") in rates
    assert Observation("2026-03-02", "AUD", "-1.5") in rates
    assert Observation("2026-03-03", "jpy", "0.023353") in rates
    assert ("2026-03-03", "JPY") not in {(r.rate_date, r.currency) for r in rates}
    assert "BRL" not in {r.currency for r in rates if r.rate_date == "2026-03-04"}
    assert len(rates) == len(table_a) - 1


def test_a_short_range_is_one_request_per_table():
    assert helpers.requests(date(2026, 3, 1), date(2026, 3, 31)) == [
        "/api/exchangerates/tables/A/2026-03-01/2026-03-31/?format=json",
        "/api/exchangerates/tables/B/2026-03-01/2026-03-31/?format=json",
    ]


def test_93_days_are_one_span_and_94_are_two():
    first = date(2026, 1, 1)
    assert len(helpers.requests(first, first + timedelta(days=92))) == 2
    paths = helpers.requests(first, first + timedelta(days=93))
    assert [_span(p) for p in paths] == [93, 93, 1, 1]
    assert paths[2] == "/api/exchangerates/tables/A/2026-04-04/2026-04-04/?format=json"


def test_a_backfill_from_1999_starts_with_the_api_in_few_requests_covering_every_day():
    paths = helpers.requests(date(1999, 1, 4), date(2026, 3, 31))
    assert len(paths) == 2 * 96
    assert all(_span(p) <= 93 for p in paths)
    assert paths[0] == "/api/exchangerates/tables/A/2002-01-02/2002-04-04/?format=json"
    days = (date(2026, 3, 31) - date(2002, 1, 2)).days + 1
    assert sum(_span(p) for p in paths if "/tables/A/" in p) == days


def test_a_range_before_the_api_is_one_day_per_table_answered_404():
    paths = helpers.requests(date(2000, 1, 1), date(2000, 12, 31))
    assert paths == [
        "/api/exchangerates/tables/A/2000-12-31/2000-12-31/?format=json",
        "/api/exchangerates/tables/B/2000-12-31/2000-12-31/?format=json",
    ]
    assert [mirror.serve(urlsplit(p).path, {"format": ["json"]}) for p in paths] == [None, None]


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 3, 1), date(2026, 3, 5)),
        (date(2026, 3, 3), date(2026, 3, 4)),
        (date(2026, 3, 5), date(2026, 3, 5)),  # table A only, no table B: a 404 for B
        (date(2026, 3, 6), date(2026, 3, 8)),  # nothing recorded: two 404s
        (date(2025, 12, 1), date(2026, 6, 30)),  # three spans
    ],
)
def test_the_mirror_answers_exactly_the_recorded_tables_in_the_range(table_a, table_b, first, last):
    fetched = [r for path in helpers.requests(first, last) for r in _fetch(path)]
    inside = [r for r in table_a + table_b if first.isoformat() <= r.rate_date <= last.isoformat()]
    assert sorted(fetched) == sorted(inside)


def test_the_mirror_renders_the_recorded_layout_byte_for_byte():
    for table in helpers.TABLES:
        path = f"/api/exchangerates/tables/{table}/2026-03-01/2026-03-05/"
        recorded = (FIXTURES / f"tables_{table}_2026-03-01_2026-03-05.json").read_bytes()
        assert mirror.serve(path, {"format": ["json"]}) == (
            "application/json; charset=utf-8",
            recorded,
        )


def test_the_mirror_refuses_more_than_93_days_as_the_api_does():
    path = "/api/exchangerates/tables/A/2026-01-01/2026-04-04/"
    _, body = mirror.serve(path, {"format": ["json"]})
    with pytest.raises(UpstreamError, match="check NBP_BASE_URL"):
        helpers.parse(body, path)
    assert mirror.serve("/api/cenyzlota/2026-03-01/2026-03-05/", {"format": ["json"]}) is None


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html>oops</html>", "not JSON"),
        (b"404 NotFound - Brak danych", "not JSON"),
        (b'{"table": "A"}', "not a list of tables with rates"),
        (b'[{"effectiveDate": "2026-03-02"}]', "not a list of tables with rates"),
        (b'[{"rates": [{"code": "USD", "mid": 3.6}]}]', "a table without an effectiveDate"),
        (b'[{"effectiveDate": "02.03.2026", "rates": []}]', "a table without an effectiveDate"),
        (
            b'[{"effectiveDate": "2026-03-02", "rates": [{"mid": 3.6}]}]',
            "a rate of 2026-03-02 without a code and a mid",
        ),
        (
            b'[{"effectiveDate": "2026-03-02", "rates": [{"code": "USD"}]}]',
            "a rate of 2026-03-02 without a code and a mid",
        ),
    ],
)
def test_a_document_that_is_not_nbps_fails_in_one_line_naming_the_setting(body, why):
    url = "http://x/api/exchangerates/tables/A/2026-03-01/2026-03-05/?format=json"
    with pytest.raises(UpstreamError) as err:
        helpers.parse(body, url)
    message = str(err.value)
    assert "\n" not in message
    assert (
        message == f"{url} is not an NBP exchange-rate tables document ({why}); check NBP_BASE_URL"
    )
