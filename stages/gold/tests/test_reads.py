"""The CLI's point reads (`series.point` over the blend series) and the shared input rules:
cross rates, weekends, EUR, gaps, errors; v1's `rates_on`; on both stores."""

from __future__ import annotations

import json
import socket
from datetime import date, timedelta
from decimal import Decimal

import pytest
from makerates_core.errors import UserError
from makerates_gold import reads, series
from makerates_gold.sync import sync


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_usd_jpy_is_one_division_to_the_last_digit(deployment, q1_2024, counting, exact):
    friday = q1_2024["2024-03-15"]
    store = counting(deployment.store())
    answer = series.point(store, deployment.table, "USD", "JPY", date(2024, 3, 15))
    # the month's DAY#blend item with META/CURRENCIES, then the RATES item of the day observed
    assert store.operations == ["batch_get", "batch_get"]
    assert answer.rate == exact(friday["JPY"], friday["USD"])
    assert str(answer.rate) == str(exact(friday["JPY"], friday["USD"]))
    assert len(answer.rate.as_tuple().digits) == 50
    assert (answer.date, answer.rate_date) == ("2024-03-15", "2024-03-15")


def test_a_saturday_answers_with_friday_and_says_so(deployment, q1_2024):
    friday = series.point(deployment.store(), deployment.table, "USD", "JPY", date(2024, 3, 15))
    saturday = series.point(deployment.store(), deployment.table, "usd", "jpy", date(2024, 3, 16))
    assert saturday.as_json() == {
        "base": "USD",
        "quote": "JPY",
        "date": "2024-03-16",
        "rate_date": "2024-03-15",
        "days_carried": 1,
        "rate": reads.decimal_text(friday.rate),
    }


def test_eur_is_valid_on_either_side(deployment, q1_2024, exact):
    friday = q1_2024["2024-03-15"]
    store, table = deployment.store(), deployment.table
    assert series.point(store, table, "EUR", "USD", date(2024, 3, 17)).as_json()["rate"] == "1.0892"
    assert friday["USD"] == "1.0892"
    assert series.point(store, table, "USD", "EUR", date(2024, 3, 15)).rate == exact("1", "1.0892")
    assert series.point(store, table, "EUR", "EUR", date(2024, 3, 15)).rate == 1
    assert series.point(store, table, "EUR", "JPY", date(2024, 3, 15)).as_json()["rate"] == "162.03"


def test_without_a_date_the_latest_publication_answers(deployment, q1_2024, counting):
    counted = counting(deployment.store())
    answer = series.point(counted, deployment.table, "EUR", "USD", None)
    assert counted.operations == ["query", "batch_get"]  # the newest DAY#blend month, then META
    assert (answer.date, answer.rate_date) == ("2024-03-28", "2024-03-28")
    assert reads.decimal_text(answer.rate) == q1_2024["2024-03-28"]["USD"]
    latest = reads.latest_rates(deployment.store(), deployment.table)
    assert latest.day == "2024-03-28"
    assert latest.rates == {c: Decimal(v) for c, v in q1_2024["2024-03-28"].items()}


def test_v1_rates_on_a_holiday_come_from_the_day_before(deployment, q1_2024):
    easter_monday = reads.rates_on(deployment.store(), deployment.table, date(2024, 4, 1))
    assert easter_monday.day == "2024-03-28"


def test_more_than_fourteen_days_without_a_publication_is_an_error(deployment, q1_2024, counting):
    store, table = deployment.store(), deployment.table
    # 2024-04-11 still reaches back to 2024-03-28 (14 days); 2024-04-12 does not.
    assert series.point(store, table, "USD", "JPY", date(2024, 4, 11)).rate_date == "2024-03-28"
    counted = counting(store)
    with pytest.raises(UserError) as err:
        series.point(counted, table, "USD", "JPY", date(2024, 4, 12))
    assert str(err.value) == (
        "the hot tier has no USD/JPY rate in the 14 days up to 2024-04-12 (it holds USD "
        "2024-01-02..2024-03-28, JPY 2024-01-02..2024-03-28); if the sources published one, "
        "load it with `just backfill 2024-03-29 2024-04-12`, or ask for another day"
    )
    assert counted.operations == ["batch_get"]  # META/CURRENCIES came with the month


def test_unknown_and_invalid_inputs_are_user_errors(deployment, q1_2024):
    store, table = deployment.store(), deployment.table
    with pytest.raises(UserError, match="unknown currency 'XYZ'; `makerates currencies`"):
        series.point(store, table, "USD", "XYZ", date(2024, 3, 15))
    with pytest.raises(UserError, match="before 1999-01-04"):
        series.point(store, table, "USD", "JPY", date(1998, 12, 31))
    with pytest.raises(UserError, match="in the future"):
        series.point(store, table, "USD", "JPY", reads.today() + timedelta(days=1))
    with pytest.raises(UserError, match="not a currency code"):
        series.point(store, table, "US", "JPY", date(2024, 3, 15))
    with pytest.raises(UserError, match="not a date"):
        reads.parse_day("2024-02-30")


def test_an_empty_hot_tier_says_to_run_the_pipeline_first(deployment):
    with pytest.raises(UserError, match="run `just pipeline` first"):
        series.point(deployment.store(), deployment.table, "USD", "JPY", date(2024, 3, 15))


def test_both_stores_hold_and_answer_identically(make_deployment, ecb):
    days = ecb("2024-02-01", "2024-03-31")
    items, answers = {}, {}
    for kind in ("sqlite", "dynamodb"):
        deployment = make_deployment(kind)
        deployment.publish("silver-same", days)
        sync(deployment.settings, deployment.store())
        items[kind] = deployment.items()
        answers[kind] = [
            series.point(deployment.store(), deployment.table, b, q, date(2024, 3, d)).as_json()
            for b, q in (("USD", "JPY"), ("GBP", "IDR"), ("ISK", "EUR"))
            for d in (1, 16, 31)
        ]
    assert items["sqlite"] == items["dynamodb"]
    assert answers["sqlite"] == answers["dynamodb"]


def test_an_unreachable_dynamodb_is_one_line(make_deployment):
    deployment = make_deployment("sqlite")
    env = {"DYNAMODB_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}", "HOT_STORE": ""}
    done = deployment.run("makerates", "rate", "USD", "JPY", extra_env=env)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: cannot reach DynamoDB at {env['DYNAMODB_ENDPOINT_URL']}; "
        "start it or fix DYNAMODB_ENDPOINT_URL"
    ]
    sync_run = deployment.run("makerates-gold", "sync", extra_env=env)
    assert sync_run.returncode != 0
    assert "Traceback" not in sync_run.stderr


def test_rate_command_json_is_one_object(deployment, q1_2024, exact):
    done = deployment.run("makerates", "rate", "USD", "JPY", "--date", "2024-03-16", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert list(answer) == ["base", "quote", "date", "rate_date", "days_carried", "rate"]
    assert answer["days_carried"] == 1  # all ECB: no source
    friday = q1_2024["2024-03-15"]
    assert answer["rate_date"] == "2024-03-15"
    assert answer["rate"] == str(exact(friday["JPY"], friday["USD"]))
    assert done.stdout.count("\n") == 1

    text = deployment.run("makerates", "rate", "EUR", "USD", "--date", "2024-03-16")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("1 EUR = 1.0892 USD on 2024-03-16")
    assert "2024-03-15" in text.stdout and "stale" not in text.stdout  # a day asked for

    latest = deployment.run("makerates", "rate", "EUR", "USD")  # the store ends 2024-03-28
    age = (reads.today() - date(2024, 3, 28)).days
    assert latest.stdout.rstrip().endswith(
        f"; stale: the newest rate is {age} days old, run `just pipeline` to load newer ones"
    )

    listing = deployment.run("makerates", "currencies", "--json")
    assert json.loads(listing.stdout)["JPY"] == {  # named by silver's ISO 4217 seed
        "name": "Yen",
        "minor_units": 0,
        "first": "2024-01-02",
        "last": "2024-03-28",
    }
    text_listing = deployment.run("makerates", "currencies")
    assert text_listing.returncode == 0, text_listing.stderr
    assert text_listing.stdout.splitlines()[0].split()[:2] == ["EUR", "Euro"]
    assert any(
        line.split() == ["USD", "US", "Dollar", "2024-01-02", "..", "2024-03-28"]
        for line in text_listing.stdout.splitlines()
    )


@pytest.mark.parametrize(
    "args",
    [
        ("rate", "USD", "XYZ"),
        ("rate", "USD", "JPY", "--date", "1998-12-31"),
        ("rate", "USD", "JPY", "--date", "2999-01-01"),
        ("rate", "USD", "JPY", "--date", "2024-04-20"),
        ("rate", "USD", "JPY", "--date", "yesterday"),
    ],
)
def test_rate_command_errors_are_one_line(deployment, q1_2024, args):
    done = deployment.run("makerates", *args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error: ")
    assert done.stdout == ""
