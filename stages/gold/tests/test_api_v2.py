"""The /v2 HTTP API over real HTTP (uvicorn on loopback, httpx), on both stores: every route,
parameter and format, the exact values, the errors and the caching."""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, localcontext

import httpx
import pytest
import uvicorn
from makerates_gold import api_v2
from makerates_gold.api import create_app
from makerates_gold.sync import sync

WEDNESDAYS = ("2024-03-06", "2024-03-13", "2024-03-20", "2024-03-27")
NBP_USD = "1.088123456789012345"  # an official provider's rate per EUR: silver's 18 places
NBP_PLN = "4.321098765432109876"


@contextmanager
def serving(app) -> Iterator[httpx.Client]:
    """`app` on a free loopback port, and a client of it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        time.sleep(0.02)
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=30
        ) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class Served:
    api: httpx.Client
    days: dict[str, dict[str, str]]  # the blend: ECB's Q1 2024, AED (exchangerate_api), HRK (Jan)
    deployment: object

    def get(self, path: str, **params) -> httpx.Response:
        return self.api.get(path, params=params)

    def rows(self, path: str, **params) -> list[dict]:
        """The JSON answer, every number as the Decimal of its digits."""
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return json.loads(response.text, parse_float=Decimal, parse_int=Decimal)

    def range(self, first: str, last: str | None = None, **params) -> list[dict]:
        """The JSON rows of /v2/rates from `first` (to `last`)."""
        return self.rows("/v2/rates", **{"from": first, **({"to": last} if last else {}), **params})


def publish(deployment, days, run_id: str) -> None:
    sources = {(d, "AED"): "exchangerate_api" for d in days if "AED" in days[d]}
    nbp = {d: {"USD": NBP_USD, "PLN": NBP_PLN, "AED": "3.99"} for d in WEDNESDAYS}
    deployment.publish(run_id, days, sources=sources, observations={"nbp": nbp})
    sync(deployment.settings, deployment.store())


def _served(deployment, ecb) -> Iterator[Served]:
    """The ECB's Q1 2024, AED from ExchangeRate-API, HRK in January only, NBP on Wednesdays."""
    days = ecb("2024-01-01", "2024-03-31")
    for day, rates in days.items():
        rates["AED"] = "4.0003" if day < "2024-03-15" else "3.9877"
        if day < "2024-02-01":
            rates["HRK"] = "7.5345"  # a currency that stops: only `scope=all` lists it
    publish(deployment, days, "silver-v2")
    with serving(create_app(deployment.settings)) as api:
        yield Served(api, days, deployment)


@pytest.fixture
def served(deployment, ecb) -> Iterator[Served]:
    """On both stores."""
    yield from _served(deployment, ecb)


@pytest.fixture
def served_sqlite(make_deployment, ecb) -> Iterator[Served]:
    """On one store, for the tests of what no store changes."""
    yield from _served(make_deployment("sqlite"), ecb)


def round10(value: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = 10, ROUND_HALF_EVEN
        return +value


def divide(numerator: str | Decimal, denominator: str | Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 50
        return Decimal(numerator) / Decimal(denominator)


def test_a_day_in_euro_is_every_published_string_to_the_digit(served):
    friday = served.days["2024-03-15"]
    rows = served.rows("/v2/rates", date="2024-03-15")
    assert [r["quote"] for r in rows] == sorted([*friday, "EUR"])  # the identity row too
    assert {r["date"] for r in rows} == {"2024-03-15"} and {r["base"] for r in rows} == {"EUR"}
    assert {r["quote"]: str(r["rate"]) for r in rows} == {**friday, "EUR": "1"}
    ecb = served.rows("/v2/rates", date="2024-03-15", providers="ECB", expand="exact")
    assert {r["quote"] for r in ecb} == {*friday, "EUR"} - {"AED", "HRK"}  # not the ECB's
    assert all(
        str(r["rate"]) == r["exact"] == friday[r["quote"]] for r in ecb if r["quote"] != "EUR"
    )


def test_every_calendar_day_of_a_month_answers_the_publication_in_force(served):
    """A day's rows are that day's block of the month item (the first and last days of the
    month, weekends and the days between): the publication in force, dated by it."""
    days = served.days
    for dd in range(1, 32):
        day = f"2024-03-{dd:02d}"
        published = max(d for d in days if d <= day)
        rows = served.rows("/v2/rates", date=day)
        assert {r["quote"]: str(r["rate"]) for r in rows} == {**days[published], "EUR": "1"}
        assert {r["date"] for r in rows} == {published}, day


def test_a_weekend_answers_friday_s_rates_with_friday_s_date(served):
    friday = served.days["2024-03-15"]
    rows = served.rows(
        "/v2/rates", date="2024-03-16", base="USD", quotes="JPY,EUR,USD", expand="exact"
    )
    jpy = divide(friday["JPY"], friday["USD"])
    assert rows == [
        {
            "date": "2024-03-15",
            "base": "USD",
            "quote": "EUR",
            "rate": round10(divide(1, friday["USD"])),
            "exact": str(divide(1, friday["USD"])),
        },
        {
            "date": "2024-03-15",
            "base": "USD",
            "quote": "JPY",
            "rate": round10(jpy),
            "exact": str(jpy),
        },
        {"date": "2024-03-15", "base": "USD", "quote": "USD", "rate": 1, "exact": "1"},
    ]
    assert len(rows[1]["exact"].replace(".", "")) == 50  # the 50-digit quotient, exact
    pair = served.rows("/v2/rate/usd/jpy", date="2024-03-16")
    assert pair == {k: v for k, v in rows[1].items() if k != "exact"}
    assert served.rows("/v2/rate/USD/USD", date="2024-03-16")["rate"] == 1


def test_the_latest(served):
    newest = served.days["2024-03-28"]
    assert served.rows("/v2/rates", quotes="USD") == [
        {"date": "2024-03-28", "base": "EUR", "quote": "USD", "rate": Decimal(newest["USD"])}
    ]
    assert served.rows("/v2/rate/GBP/EUR")["rate"] == round10(divide(1, newest["GBP"]))


def test_a_provider_s_own_series_and_the_first_listed_wins(served):
    friday = served.days["2024-03-15"]
    nbp = served.rows("/v2/rates", date="2024-03-16", providers="nbp", expand="exact")
    assert [(r["quote"], r["date"], r["exact"]) for r in nbp] == [
        ("AED", "2024-03-13", "3.99"),
        ("EUR", "2024-03-13", "1"),
        ("PLN", "2024-03-13", NBP_PLN),  # carried from Wednesday: dated Wednesday
        ("USD", "2024-03-13", NBP_USD),
    ]
    assert nbp[3]["rate"] == round10(Decimal(NBP_USD)) == Decimal("1.088123457")
    both = {r["quote"]: r for r in served.rows("/v2/rates", date="2024-03-15", providers="NBP,ECB")}
    assert (both["USD"]["date"], both["USD"]["rate"]) == ("2024-03-13", round10(Decimal(NBP_USD)))
    assert (both["JPY"]["date"], str(both["JPY"]["rate"])) == ("2024-03-15", friday["JPY"])
    other = {
        r["quote"]: r for r in served.rows("/v2/rates", date="2024-03-15", providers="ecb,nbp")
    }
    assert str(other["USD"]["rate"]) == friday["USD"] and other["PLN"]["rate"] == Decimal(
        friday["PLN"]
    )
    cross = served.rows("/v2/rate/USD/PLN", date="2024-03-15", providers="nbp", expand="exact")
    assert cross["exact"] == str(divide(NBP_PLN, NBP_USD))


def test_expand_providers_gives_each_provider_s_own_rate_of_the_pair(served):
    friday = served.days["2024-03-15"]
    rows = served.rows(
        "/v2/rates", date="2024-03-15", base="USD", quotes="PLN,AED,USD", expand="providers"
    )
    by_quote = {r["quote"]: r for r in rows}
    assert by_quote["PLN"]["providers"] == [
        {
            "key": "ECB",
            "date": "2024-03-15",
            "rate": round10(divide(friday["PLN"], friday["USD"])),
        },
        {"key": "NBP", "date": "2024-03-13", "rate": round10(divide(NBP_PLN, NBP_USD))},
    ]
    assert [p["key"] for p in by_quote["AED"]["providers"]] == ["NBP"]  # ExchangeRate-API: no USD
    assert "providers" not in by_quote["USD"]  # the identity row lists none
    only = served.rows(
        "/v2/rates", date="2024-03-15", quotes="USD", providers="nbp", expand="providers"
    )
    assert only[0]["providers"] == [{"key": "NBP", "date": "2024-03-13", "rate": only[0]["rate"]}]


def test_a_daily_range_snaps_back_then_lists_each_publication(served):
    days = served.days
    rows = served.range("2024-03-09", "2024-03-13", quotes="USD")
    assert [(r["date"], str(r["rate"])) for r in rows] == [
        (d, days[d]["USD"]) for d in ("2024-03-08", "2024-03-11", "2024-03-12", "2024-03-13")
    ]
    every = served.range("2024-03-09", "2024-03-13")
    keys = [(r["quote"], r["date"]) for r in every]
    assert len(keys) == len(set(keys)) == 4 * len(days["2024-03-08"]) + 4  # + the identities
    assert [r["date"] for r in every] == sorted(r["date"] for r in every)
    nbp = served.range("2024-03-01", "2024-03-31", providers="nbp", quotes="USD")
    assert [r["date"] for r in nbp] == list(WEDNESDAYS)  # weekly publications, not carried days


def test_a_cross_rate_range_is_the_exact_division_each_day(served):
    days = served.days
    rows = served.range("2024-02-01", "2024-03-31", base="GBP", quotes="IDR", expand="exact")
    assert [r["date"] for r in rows] == [d for d in sorted(days) if d >= "2024-02-01"]
    for row in rows:
        expected = divide(days[row["date"]]["IDR"], days[row["date"]]["GBP"])
        assert (row["exact"], row["rate"]) == (str(expected), round10(expected))


def _as_text(row: dict) -> dict[str, str]:
    """A JSON row as the CSV writes it."""
    text = {k: str(v) for k, v in row.items() if k != "providers"}
    listed = row.get("providers")
    return {**text, "providers": "|".join(f"{p['key']}:{p['rate']}" for p in listed or ())}


@pytest.mark.parametrize(
    "params", [{"date": "2024-03-16"}, {"from": "2024-02-20", "to": "2024-03-15"}]
)
def test_csv_and_ndjson_parse_back_to_the_json_rows(served, params):
    params = {**params, "base": "GBP", "expand": "providers,exact"}
    rows = served.rows("/v2/rates", **params)
    csv_rows = []
    for response in (
        served.get("/v2/rates.csv", **params),
        served.api.get("/v2/rates", params=params, headers={"Accept": "text/csv"}),
    ):
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.text.splitlines()[0] == "date,base,quote,rate,providers,exact"
        csv_rows.append(list(csv.DictReader(io.StringIO(response.text))))
    assert csv_rows[0] == csv_rows[1] == [_as_text(r) for r in rows]
    ndjson = served.api.get("/v2/rates", params=params, headers={"Accept": "application/x-ndjson"})
    assert ndjson.headers["content-type"] == "application/x-ndjson"
    lines = ndjson.text.splitlines()
    assert [json.loads(line, parse_float=Decimal, parse_int=Decimal) for line in lines] == rows
    friday = served.days["2024-03-15"]
    header, line = served.get("/v2/rate/GBP/JPY.csv", date="2024-03-15").text.splitlines()
    assert (header, line.rsplit(",", 1)[0]) == ("date,base,quote,rate", "2024-03-15,GBP,JPY")
    assert Decimal(line.rsplit(",", 1)[1]) == round10(divide(friday["JPY"], friday["GBP"]))


def _mean(values: list[str]) -> Decimal:
    """Silver's mean: exact sum over count, truncated at 18 places."""
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = 60, ROUND_DOWN
        return (
            (sum(Decimal(v) for v in values) / len(values)).quantize(Decimal("1e-18")).normalize()
        )


def test_grouped_ranges_are_the_exact_means_of_the_published_strings(served):
    days = served.days
    months = served.range(
        "2024-01-01", "2024-03-31", group="month", quotes="USD,JPY", expand="exact"
    )
    assert [(r["date"], r["quote"]) for r in months] == [
        (f"2024-0{m}-01", q) for m in (1, 2, 3) for q in ("JPY", "USD")
    ]
    for row in months:
        mean = _mean([r[row["quote"]] for d, r in days.items() if d[:7] == row["date"][:7]])
        assert Decimal(row["exact"]) == mean and row["rate"] == round10(mean)
    week_of = {"group": "WEEK", "base": "USD", "quotes": "JPY"}
    weeks = served.range("2024-03-13", "2024-03-20", **week_of, expand="exact")
    assert [r["date"] for r in weeks] == ["2024-03-11", "2024-03-18"]  # Mondays
    monday = date(2024, 3, 11)
    week = [r for d, r in days.items() if monday <= date.fromisoformat(d) < monday + timedelta(7)]
    mean_jpy, mean_usd = _mean([r["JPY"] for r in week]), _mean([r["USD"] for r in week])
    assert weeks[0]["exact"] == str(divide(mean_jpy, mean_usd))  # the means' quotient
    csv_text = served.get(
        "/v2/rates.csv", **{"from": "2024-03-13", "to": "2024-03-20"}, **week_of
    ).text
    assert csv_text.splitlines()[1] == f"2024-03-11,USD,JPY,{weeks[0]['rate']}"


def test_currencies_currency_and_providers(served):
    active = served.rows("/v2/currencies")
    codes = [c["iso_code"] for c in active]
    assert "HRK" not in codes and {"EUR", "USD", "AED"} <= set(codes) and codes == sorted(codes)
    usd = next(c for c in active if c["iso_code"] == "USD")
    assert usd == {
        "iso_code": "USD",
        "iso_numeric": None,
        "name": "US Dollar",
        "symbol": None,
        "minor_units": 2,
        "start_date": "2024-01-02",
        "end_date": "2024-03-28",
    }
    everything = [c["iso_code"] for c in served.rows("/v2/currencies", scope="all")]
    assert "HRK" in everything and set(everything) == {*codes, "HRK"}
    nbp = [c["iso_code"] for c in served.rows("/v2/currencies", providers="NBP")]
    assert nbp == ["AED", "EUR", "PLN", "USD"]
    assert served.rows("/v2/currency/usd")["providers"] == ["ECB", "NBP"]
    assert served.rows("/v2/currency/AED")["providers"] == ["EXCHANGERATE_API", "NBP"]
    euro = served.rows("/v2/currency/EUR")
    assert (euro["name"], euro["providers"]) == ("Euro", ["ECB", "EXCHANGERATE_API", "NBP"])
    listed = served.rows("/v2/providers")
    assert [p["key"] for p in listed] == ["ECB", "EXCHANGERATE_API", "NBP"]  # those with data
    assert listed[2] == {
        "key": "NBP",
        "name": "Narodowy Bank Polski",
        "country_code": None,
        "rate_type": "official",
        "pivot_currency": "PLN",
        "data_url": None,
        "terms_url": None,
        "start_date": "2024-03-06",
        "end_date": "2024-03-27",
        "publish_cadence": None,
        "publishes_missed": None,
        "calendar": "Polish business days (table A); Wednesdays (table B)",
        "publishes_at": "12:00 Europe/Warsaw",
        "currencies": ["AED", "PLN", "USD"],
    }


ERRORS = [
    ("/v2/rates", {"amount": "10"}, 422, "unknown parameter: amount"),
    ("/v2/rates", {"symbols": "USD"}, 422, "unknown parameter: symbols"),
    ("/v2/rates", {"date": "2024-3-15"}, 422, "'2024-3-15' is not a date"),
    ("/v2/rates", {"date": "yesterday"}, 422, "YYYY-MM-DD"),
    ("/v2/rates", {"date": ""}, 422, "is not a date"),
    ("/v2/rates", {"date": "2024-03-15", "to": "2024-03-20"}, 422, "date cannot be combined"),
    ("/v2/rates", {"group": "month"}, 422, "group needs a range"),
    ("/v2/rates", {"from": "2024-03-01", "group": "year"}, 422, "invalid group: 'year'"),
    ("/v2/rates", {"expand": "providers,rates"}, 422, "invalid expand: rates"),
    ("/v2/rates", {"base": "US"}, 422, "'US' is not a currency code"),
    ("/v2/rates", {"quotes": "USD,,JPY"}, 422, "none empty"),
    ("/v2/rates", {"quotes": "USD,1.5"}, 422, "'1.5' is not a currency code"),
    (
        "/v2/rates",
        {"from": "2024-03-20", "to": "2024-03-10"},
        422,
        "from 2024-03-20 is after to 2024-03-10",
    ),
    ("/v2/rates", {"to": "2024-03-10"}, 422, "to needs from"),
    ("/v2/rates", {"from": "2000-01-01", "to": "2024-03-10"}, 422, "longer than 5 years"),
    ("/v2/rate/USD/JPY", {"from": "2024-03-01"}, 422, "unknown parameter: from"),
    ("/v2/rate/USD/JPY", {"amount": "1e9"}, 422, "unknown parameter: amount"),
    ("/v2/rate/USD/JPY,GBP", {}, 422, "'JPY,GBP' is not a currency code"),
    ("/v2/currencies", {"scope": "every"}, 422, "invalid scope"),
    ("/v2/currency/US1", {}, 422, "not a currency code"),
    ("/v2/providers", {"key": "ecb"}, 422, "unknown parameter: key"),
    ("/v2/rates", {"base": "XYZ"}, 404, "currency 'XYZ'"),
    ("/v2/rates", {"quotes": "USD,XYZ", "from": "2024-03-01"}, 404, "currency 'XYZ'"),
    ("/v2/rates", {"providers": "nbp,XYZ"}, 404, "provider 'XYZ'"),
    ("/v2/rates", {"date": "1998-12-31"}, 404, "rates on 1998-12-31: the first day is 1999-01-04"),
    ("/v2/rates", {"date": "2024-06-14"}, 404, "on 2024-06-14"),
    (
        "/v2/rates",
        {"from": "2024-06-01", "to": "2024-06-30"},
        404,
        "from 2024-06-01 to 2024-06-30",
    ),
    ("/v2/rates", {"base": "JPY", "providers": "nbp", "date": "2024-03-15"}, 404, "series nbp"),
    ("/v2/rate/USD/XYZ", {}, 404, "currency 'XYZ'"),
    ("/v2/currency/XYZ", {}, 404, "currency 'XYZ'"),
    ("/v2/currencies", {"providers": "boc,xyz"}, 404, "provider 'xyz'"),
    ("/v2/nothing/here", {}, 404, "/v2/nothing/here"),
]


def test_errors_say_what_was_wrong(served):
    """Every problem is a 4xx whose message names it, never a 5xx."""
    failures = []
    for path, params, status, fragment in ERRORS:
        response = served.get(path, **params)
        body = response.json()
        ok = response.status_code == status and list(body) == ["message"]
        ok = (
            ok
            and fragment in body["message"]
            and body["message"].startswith("not found: ") == (status == 404)
        )
        if not ok:
            failures.append((path, params, response.status_code, body))
    twice = served.api.get("/v2/rates?base=USD&base=GBP")
    assert (twice.status_code, twice.json()["message"]) == (
        422,
        "parameter base is given more than once",
    )
    assert failures == []


def test_etags_and_conditional_gets(served):
    day = served.get("/v2/rates", date="2024-03-15")
    assert day.headers["cache-control"] == "public, max-age=86400"
    assert day.headers["vary"] == "Accept"
    again = served.api.get(
        "/v2/rates", params={"date": "2024-03-15"}, headers={"If-None-Match": day.headers["etag"]}
    )
    assert (again.status_code, again.content, again.headers["etag"]) == (
        304,
        b"",
        day.headers["etag"],
    )
    as_csv = served.get("/v2/rates.csv", date="2024-03-15")
    assert as_csv.headers["etag"] != day.headers["etag"]
    assert served.get("/v2/rates").headers["cache-control"] == "public, max-age=300"
    window = {"from": "2024-03-01", "to": "2024-03-15"}
    first = served.get("/v2/rates", **window)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=86400"
    assert served.get("/v2/rates", **window).headers["etag"] == etag
    cached = served.api.get("/v2/rates", params=window, headers={"If-None-Match": f'"x", {etag}'})
    assert cached.status_code == 304
    assert (
        served.get("/v2/rates", **{"from": "2024-03-01"}).headers["cache-control"]
        == "public, max-age=300"
    )
    changed = {d: dict(r) for d, r in served.days.items()}
    changed["2024-03-14"]["USD"] = "1.0999"
    publish(served.deployment, changed, "silver-v2-fix")  # one day of the range changes
    after = served.api.get("/v2/rates", params=window, headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    assert {(r["date"], r["quote"]): r["rate"] for r in after.json()}[
        ("2024-03-14", "USD")
    ] == 1.0999


def test_the_openapi_document_describes_v2(served):
    spec = served.get("/openapi.json").json()
    paths = spec["paths"]
    assert {
        "/v2/rates",
        "/v2/rates.csv",
        "/v2/rate/{base}/{quote}",
        "/v2/currencies",
        "/v2/currency/{code}",
        "/v2/providers",
    } <= set(paths)
    rates = paths["/v2/rates"]["get"]
    assert {p["name"] for p in rates["parameters"]} == api_v2.RATES_PARAMS
    assert set(rates["responses"]["200"]["content"]) == {
        "application/json",
        "text/csv",
        "application/x-ndjson",
    }
    assert {"404", "422", "503"} <= set(rates["responses"])
    assert served.get("/").json()["v2"]["rates"] == "/v2/rates"
    assert served.get("/v2").json()["version"] == "v2"


def test_a_long_daily_range_with_a_few_quotes_is_served(served):
    rows = served.range("2000-01-01", "2024-03-31", quotes="USD")
    assert len(rows) == len(served.days)
    weekly = served.range("2000-01-01", group="week", quotes="USD")
    assert weekly[0]["date"] == "2024-01-01"


def _clock(step: float):
    """A clock that moves `step` seconds on each reading."""
    readings = iter(range(0, 10**6))
    return lambda: next(readings) * step


def test_past_the_deadline_a_range_is_a_503_or_cut_short(served_sqlite, monkeypatch, caplog):
    window = {"from": "2024-01-01", "to": "2024-03-31"}
    monkeypatch.setattr(api_v2, "_now", _clock(11))  # past the deadline at the first month
    early = served_sqlite.get("/v2/rates", **window)
    assert early.status_code == 503
    assert "more than 10 s (REQUEST_DEADLINE_SECONDS)" in early.json()["message"]
    monkeypatch.setattr(api_v2, "_now", _clock(6))  # past it at the second month
    with pytest.raises(httpx.RemoteProtocolError):  # not a short body that looks whole
        served_sqlite.get("/v2/rates", **window)
    assert "stopped at REQUEST_DEADLINE_SECONDS" in caplog.text


def test_an_unreachable_hot_tier_is_a_503(served_sqlite, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    env = {k: v for k, v in served_sqlite.deployment.env.items() if k != "HOT_STORE"}
    env["DYNAMODB_ENDPOINT_URL"] = f"http://127.0.0.1:{closed}"
    for key in [k for k in env if k.startswith("AWS_")]:
        monkeypatch.setenv(key, env[key])  # boto3 reads its credentials from the process
    settings = type(served_sqlite.deployment.settings).from_env(env)
    with serving(create_app(settings)) as api:
        for path in ("/v2/rates?from=2024-03-01", "/v2/currencies"):  # each ~3 s of retries
            response = api.get(path)
            assert response.status_code == 503, path
            assert "cannot reach DynamoDB" in response.json()["message"]


def test_schemathesis_finds_no_server_error_and_no_schema_violation(served_sqlite):
    """Property-based requests from our own /openapi.json (the v2 operations), each answer
    checked against the schema: status codes, content types, bodies, headers."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        response_headers_conformance,
    ]
    base_url = str(served_sqlite.api.base_url)
    spec = served_sqlite.get("/openapi.json").json()
    ours = "^/v2/(rates|rate/|currenc|providers)"  # /v2/audit is not this module's
    schema = schemathesis.openapi.from_dict(spec).include(method="GET", path_regex=ours)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6
    for operation in operations:

        @settings(
            max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(base_url=base_url, checks=checks)

        check()
