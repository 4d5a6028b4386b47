"""Rates from several sources (issue 3): silver's fct_rates with the ECB's real March 2024,
a day and a rate the ECB document missed filled by Frankfurter, and currencies only
ExchangeRate-API publishes, dated by its daily snapshots (weekends included); on both stores."""

from __future__ import annotations

import json
import logging
from datetime import date

import pytest
from fastapi.testclient import TestClient
from makerates_gold import series
from makerates_gold.api import create_app, eur_range
from makerates_gold.sync import sync

INDEPENDENT = {"AED": "4.0003", "ARS": "935.12"}  # per 1 EUR, from a USD-based snapshot
SNAPSHOTS = ["2024-03-11", "2024-03-12", "2024-03-13", "2024-03-14", "2024-03-15",
             "2024-03-16", "2024-03-17"]  # fmt: skip


@pytest.fixture
def mixed(deployment, ecb) -> dict:
    """Silver with mixed sources published and synced: the days and the sources map."""
    days = ecb("2024-03-01", "2024-03-28")
    sources = {("2024-03-15", code): "frankfurter" for code in days["2024-03-15"]}
    sources[("2024-03-14", "USD")] = "frankfurter"
    for day in SNAPSHOTS:
        days.setdefault(day, {}).update(INDEPENDENT)
        sources.update({(day, code): "exchangerate_api" for code in INDEPENDENT})
    deployment.publish("silver-mixed", days, sources)
    return {"days": days, "sources": sources}


def test_only_ecb_calendar_days_are_served_with_their_sources(deployment, mixed, caplog):
    with caplog.at_level(logging.INFO, logger="makerates"):
        result = sync(deployment.settings, deployment.store())
    assert result.rows_not_served == 4  # AED and ARS of Saturday and Sunday
    assert "4 rows on 2 days without ECB rates" in caplog.text

    items = {i["sk"]: i for i in deployment.store().query(deployment.table, "RATES")}
    assert "2024-03-16" not in items and "2024-03-17" not in items
    assert len(items) == result.days_published == 20  # March 1..28: 20 working days
    assert "src" not in items["2024-03-08"]
    assert items["2024-03-13"]["src"] == {"AED": "exchangerate_api", "ARS": "exchangerate_api"}
    assert items["2024-03-14"]["src"] == {
        "AED": "exchangerate_api",
        "ARS": "exchangerate_api",
        "USD": "frankfurter",
    }
    friday = items["2024-03-15"]
    assert set(friday["src"].values()) == {"frankfurter", "exchangerate_api"}
    assert {c: str(v) for c, v in friday["rates"].items()} == mixed["days"]["2024-03-15"]

    spans = deployment.store().get_item(deployment.table, "META", "CURRENCIES")["currencies"]
    assert spans["AED"] == {
        "first": "2024-03-11",
        "last": "2024-03-15",
        "name": "UAE Dirham",  # from silver's ISO 4217 seed
        "minor_units": 2,
        "source": "exchangerate_api",
    }
    assert spans["USD"] == {
        "first": "2024-03-01",
        "last": "2024-03-28",
        "name": "US Dollar",
        "minor_units": 2,
    }

    again = sync(deployment.settings, deployment.store())
    assert again.items_written == 0


def test_a_changed_source_rewrites_that_day_only(deployment, mixed):
    sync(deployment.settings, deployment.store())
    sources = {**mixed["sources"], ("2024-03-20", "JPY"): "frankfurter"}  # same value
    deployment.publish("silver-next", mixed["days"], sources)
    result = sync(deployment.settings, deployment.store())
    assert result.days_written == 1
    item = deployment.store().get_item(deployment.table, "RATES", "2024-03-20")
    assert item["src"] == {"JPY": "frankfurter"} and item["run_id"] == "silver-next"


def test_readers_say_which_rate_is_not_the_ecbs(deployment, mixed, exact):
    sync(deployment.settings, deployment.store())
    store, table = deployment.store(), deployment.table
    usd_jpy = series.point(store, table, "USD", "JPY", date(2024, 3, 13))
    assert usd_jpy.sources == {} and "source" not in usd_jpy.as_json()
    aed_usd = series.point(store, table, "AED", "USD", date(2024, 3, 14))
    assert aed_usd.sources == {"AED": "exchangerate_api", "USD": "frankfurter"}
    assert aed_usd.as_json()["source"] == "exchangerate_api+frankfurter"
    assert aed_usd.rate == exact(mixed["days"]["2024-03-14"]["USD"], "4.0003")
    saturday = series.point(store, table, "EUR", "AED", date(2024, 3, 16))  # silver's snapshot
    assert (saturday.rate_date, saturday.as_json()["source"]) == ("2024-03-16", "exchangerate_api")

    done = deployment.run("makerates", "rate", "EUR", "AED", "--date", "2024-03-13", "--json")
    assert json.loads(done.stdout)["source"] == "exchangerate_api", done.stderr
    text = deployment.run("makerates", "rate", "EUR", "AED", "--date", "2024-03-13")
    assert text.stdout.strip() == (
        "1 EUR = 4.0003 AED on 2024-03-13 (rates of 2024-03-13, AED from exchangerate_api)"
    )
    ecb_only = deployment.run("makerates", "convert", "10", "EUR", "USD", "--date", "2024-03-13")
    assert ecb_only.stdout.strip().endswith("ECB rates of 2024-03-13)")
    listing = deployment.run("makerates", "currencies")
    assert "2024-03-11 .. 2024-03-15  (exchangerate_api)" in listing.stdout
    assert json.loads(deployment.run("makerates", "currencies", "--json").stdout)["AED"] == {
        "name": "UAE Dirham",
        "minor_units": 2,
        "first": "2024-03-11",
        "last": "2024-03-15",
        "source": "exchangerate_api",
    }


def test_the_api_keeps_frankfurters_shape_and_names_sources_in_a_header(deployment, mixed):
    sync(deployment.settings, deployment.store())
    client = TestClient(create_app(deployment.settings, deployment.store()))

    day = client.get("/v1/2024-03-13", params={"to": "AED,USD"})
    assert day.status_code == 200
    assert day.json() == {"amount": 1.0, "base": "EUR", "date": "2024-03-13",
                          "rates": {"AED": 4.0003, "USD": 1.0939}}  # fmt: skip
    assert day.headers["X-Rate-Sources"] == "AED=exchangerate_api"

    ecb_only = client.get("/v1/2024-03-13", params={"to": "USD"})
    assert "X-Rate-Sources" not in ecb_only.headers

    weekend = client.get("/v1/2024-03-14..2024-03-17", params={"from": "USD", "to": "JPY"})
    assert list(weekend.json()["rates"]) == ["2024-03-14", "2024-03-15"]
    assert weekend.headers["X-Rate-Sources"] == "JPY=frankfurter,USD=frankfurter"


def test_a_range_in_euro_of_every_currency_joins_the_days_rendered_answers(deployment, mixed):
    """/v1/START..END in EUR, amount 1, every currency joins the day items' `v1eur` texts
    (items.day_answer): the very bytes, sources and ETag of the general path, which a `to`
    listing every currency takes. A day item without `v1eur` (older gold wrote it) sends the
    range down the general path."""
    sync(deployment.settings, deployment.store())
    store = deployment.store()
    client = TestClient(create_app(deployment.settings, store))
    every = ",".join(code for code in client.get("/v1/currencies").json() if code != "EUR")
    path = "/v1/2024-03-01..2024-03-31"
    joined, general = client.get(path), client.get(path, params={"to": every})
    assert joined.status_code == general.status_code == 200
    assert joined.content == general.content
    assert joined.headers["ETag"] == general.headers["ETag"]
    assert joined.headers["X-Rate-Sources"] == general.headers["X-Rate-Sources"]
    assert "AED=exchangerate_api" in joined.headers["X-Rate-Sources"]
    start, end = date(2024, 3, 1), date(2024, 3, 31)
    assert eur_range(store, deployment.table, start, end)[0] == general.content

    older = store.get_item(deployment.table, "RATES", "2024-03-13")
    del older["v1eur"]
    store.put_items(deployment.table, [older])
    assert eur_range(store, deployment.table, start, end) is None
    fresh = TestClient(create_app(deployment.settings, store))  # nothing kept rendered
    assert fresh.get(path).content == general.content
