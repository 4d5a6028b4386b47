"""convert, history, runs and chart: the reads under them and the commands, on both stores."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal, localcontext

import pytest
from makerates_core.errors import UserError
from makerates_gold import reads


def test_history_is_one_query_projecting_rates(deployment, q1_2024, counting, exact):
    store = counting(deployment.store())
    series = reads.history(
        store, deployment.table, "USD", "JPY", date(2024, 3, 9), date(2024, 3, 17)
    )
    assert store.calls == [("query", ["rates"])]
    assert [p.rate_date for p in series.points] == [
        "2024-03-11",
        "2024-03-12",
        "2024-03-13",
        "2024-03-14",
        "2024-03-15",
    ]
    friday = q1_2024["2024-03-15"]
    assert series.points[-1].rate == exact(friday["JPY"], friday["USD"])
    assert series.before is not None and series.before.rate_date == "2024-03-08"
    calendar = series.calendar()
    assert len(calendar) == 9
    assert [(d.isoformat(), p.rate_date, c) for d, p, c in calendar][:3] == [
        ("2024-03-09", "2024-03-08", True),
        ("2024-03-10", "2024-03-08", True),
        ("2024-03-11", "2024-03-11", False),
    ]
    assert calendar[-1][1].rate_date == "2024-03-15" and calendar[-1][2] is True


def test_history_over_a_quarter_pages_and_matches_rate(deployment, q1_2024):
    store, table = deployment.store(), deployment.table
    series = reads.history(store, table, "GBP", "IDR", date(2024, 1, 1), date(2024, 3, 31))
    assert len(series.points) == len(q1_2024)
    for point in series.points[::10]:
        day = date.fromisoformat(point.rate_date)
        assert reads.rate(store, table, "GBP", "IDR", day).rate == point.rate


def test_history_errors(deployment, q1_2024):
    store, table = deployment.store(), deployment.table
    with pytest.raises(UserError, match="unknown currency 'XYZ'"):
        reads.history(store, table, "XYZ", "USD", date(2024, 3, 1), date(2024, 3, 8))
    with pytest.raises(UserError, match="after"):
        reads.history(store, table, "USD", "JPY", date(2024, 3, 8), date(2024, 3, 1))
    with pytest.raises(
        UserError,
        match=r"the hot tier has no USD/JPY rate between .*; if the sources published some, load them with `just backfill ",
    ):
        reads.history(store, table, "USD", "JPY", date(2024, 6, 1), date(2024, 6, 8))


def test_convert_command(deployment, q1_2024, exact):
    friday = q1_2024["2024-03-15"]
    done = deployment.run(
        "makerates", "convert", "250.50", "USD", "JPY", "--date", "2024-03-16", "--json"
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    with localcontext() as ctx:
        ctx.prec = 50
        expected = Decimal("250.50") * exact(friday["JPY"], friday["USD"])
    assert answer["result"] == reads.decimal_text(expected)
    assert (answer["amount"], answer["rate_date"], answer["date"]) == (
        "250.50",
        "2024-03-15",
        "2024-03-16",
    )
    assert answer["rounding"] == "none: exact decimals"
    text = deployment.run("makerates", "convert", "100", "EUR", "USD", "--date", "2024-03-15")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("100 EUR = 108.92 USD on 2024-03-15 (rate 1.0892, ")


@pytest.mark.parametrize(
    ("amount", "base", "quote", "digits"),
    [("250000", "USD", "JPY", 0), ("1234567.891", "JPY", "GBP", 2), ("0.5", "EUR", "HUF", 2)],
)
def test_convert_shows_money_as_money(deployment, q1_2024, exact, amount, base, quote, digits):
    """Rounded half-even to the quote's ISO 4217 minor unit, with thousands separators; the
    rate to six significant digits."""
    friday = q1_2024["2024-03-15"]
    done = deployment.run("makerates", "convert", amount, base, quote, "--date", "2024-03-15")
    assert done.returncode == 0, done.stderr
    with localcontext() as ctx:
        ctx.prec = 50
        rate = exact(friday[quote], friday[base]) if base != "EUR" else Decimal(friday[quote])
        result = (Decimal(amount) * rate).quantize(Decimal(1).scaleb(-digits))
    shown = done.stdout.split(" = ")[1].split(f" {quote} ")[0]
    assert shown == f"{result:,f}"
    with localcontext() as ctx:
        ctx.prec = 6
        assert f"(rate {+rate:f}, " in done.stdout


def test_history_command(deployment, q1_2024):
    done = deployment.run(
        "makerates", "history", "EUR", "USD", "--from", "2024-03-09", "--to", "2024-03-12"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["rate_date", "EUR/USD"]
    assert lines[1].split() == ["2024-03-11", q1_2024["2024-03-11"]["USD"]]
    assert lines[2].split() == ["2024-03-12", q1_2024["2024-03-12"]["USD"]]
    as_json = deployment.run(
        "makerates",
        "history",
        "EUR",
        "USD",
        "--from",
        "2024-03-09",
        "--to",
        "2024-03-12",
        "--json",
    )
    body = json.loads(as_json.stdout)
    assert body["rates"] == [
        {"rate_date": "2024-03-11", "rate": q1_2024["2024-03-11"]["USD"]},
        {"rate_date": "2024-03-12", "rate": q1_2024["2024-03-12"]["USD"]},
    ]


def test_runs_command_lists_the_sync_runs(deployment, ecb):
    deployment.publish("silver-a", ecb("2024-03-01", "2024-03-15"))
    first = deployment.run("makerates-gold", "sync", extra_env={"RUN_ID": "run-1"})
    assert first.returncode == 0, first.stderr
    deployment.publish("silver-b", ecb("2024-03-01", "2024-03-28"))
    second = deployment.run("makerates-gold", "sync", extra_env={"RUN_ID": "run-2"})
    assert second.returncode == 0, second.stderr
    done = deployment.run("makerates", "runs", "--json")
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    assert [r["run_id"] for r in runs] == ["run-2", "run-1"]
    assert [e["event"] for e in runs[0]["events"]] == ["started", "succeeded"]
    assert runs[0]["events"][-1]["counts"]["days_written"] == 9
    assert runs[1]["events"][-1]["counts"]["days_written"] == 11
    text = deployment.run("makerates", "runs")
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[0] == "run-2  gold succeeded"
    assert "days_written=9" in text.stdout
    table = deployment.run("makerates", "runs", "--csv")
    assert table.returncode == 0, table.stderr
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert [(r["run_id"], r["event"]) for r in rows] == [
        ("run-2", "started"), ("run-2", "succeeded"), ("run-1", "started"), ("run-1", "succeeded")
    ]  # fmt: skip
    assert "days_written=9" in rows[1]["counts"].split(" ")
    assert rows[1]["at"] == runs[0]["events"][-1]["at"]


def test_runs_command_on_an_empty_store(deployment):
    done = deployment.run("makerates", "runs")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no runs recorded yet"


@pytest.mark.parametrize(
    "args",
    [
        ("convert", "0", "USD", "JPY"),
        ("convert", "-5", "USD", "JPY"),
        ("convert", "ten", "USD", "JPY"),
        ("convert", "10", "USD", "XYZ"),
        ("convert", "10", "USD", "JPY", "--date", ""),
        ("rate", "USD", "JPY", "--date", ""),
        ("history", "USD", "XYZ", "--from", "2024-03-01", "--to", "2024-03-08"),
        ("history", "USD", "JPY", "--from", "1998-03-01", "--to", "2024-03-08"),
        ("history", "USD", "JPY", "--from", "2024-03-08", "--to", "2024-03-01"),
        ("chart", "USD", "XYZ", "--from", "2024-03-01", "--to", "2024-03-08", "-o", "x.png"),
        ("rate", "USD", "JPY", "--provider", "xyz"),
        ("convert", "10", "USD", "XYZ", "--provider", "ecb", "--csv"),
        ("history", "USD", "JPY", "--from", "2024-03-01", "--to", "2024-03-08", "--provider=nbp"),
        ("history", "USD", "JPY", "--from", "2024-03-08", "--to", "2024-03-01", "--group", "week"),
    ],
)
def test_command_errors_are_one_line(deployment, q1_2024, args):
    done = deployment.run("makerates", *args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error: ")
    assert done.stdout == ""


def test_providers_lists_the_registry_with_coverage(deployment, q1_2024):
    listed = json.loads(deployment.run("makerates", "providers", "--json").stdout)
    from makerates_core import providers

    keys = [p["key"] for p in listed]  # in fallback order (silver's dim_providers)
    assert sorted(keys) == sorted(providers.keys())
    assert keys[:2] == ["ecb", "frankfurter"] and keys[-1] == "exchangerate_api"
    assert {p["kind"] for p in listed} == {"official", "relay", "commercial"}
    nbp = next(p for p in listed if p["key"] == "nbp")
    assert (nbp["name"], nbp["pivot"], nbp["currencies"]) == ("Narodowy Bank Polski", "PLN", 0)
    text = deployment.run("makerates", "providers").stdout.splitlines()
    assert len(text) == len(listed) and text[0].startswith("ecb ")
    assert "nothing loaded yet" in text[0]  # the fixture's dim_providers has no coverage


def _csv(done) -> list[dict[str, str]]:
    assert done.returncode == 0, done.stderr
    return list(csv.DictReader(io.StringIO(done.stdout)))


def test_csv_parses_back_to_the_exact_values(deployment, q1_2024):
    """--csv on every table: history's rates are the JSON's exact strings, to the digit."""
    window = ("--from", "2024-03-01", "--to", "2024-03-15")
    history = _csv(deployment.run("makerates", "history", "USD", "JPY", *window, "--csv"))
    exact = json.loads(
        deployment.run("makerates", "history", "USD", "JPY", *window, "--json").stdout
    )
    assert [(r["rate_date"], r["rate"]) for r in history] == [
        (p["rate_date"], p["rate"]) for p in exact["rates"]
    ]
    assert {(r["base"], r["quote"]) for r in history} == {("USD", "JPY")}

    currencies = {r["code"]: r for r in _csv(deployment.run("makerates", "currencies", "--csv"))}
    assert (currencies["JPY"]["name"], currencies["JPY"]["minor_units"]) == ("Yen", "0")
    assert currencies["USD"]["first"] == "2024-01-02" and currencies["USD"]["source"] == ""

    listed = _csv(deployment.run("makerates", "providers", "--csv"))
    names = json.loads(deployment.run("makerates", "providers", "--json").stdout)
    assert [r["key"] for r in listed] == [p["key"] for p in names]


WEDNESDAYS = ("2024-03-06", "2024-03-13", "2024-03-20", "2024-03-27")
NBP = {"USD": "1.088123456789012345", "PLN": "4.321098765432109876"}  # per EUR, 18 places


@pytest.fixture
def with_nbp(deployment, ecb) -> dict[str, dict[str, str]]:
    """The ECB's Q1 2024 and NBP's (made-up) rates of March's Wednesdays, synced."""
    from makerates_gold.sync import sync

    days = ecb("2024-01-01", "2024-03-31")
    deployment.publish("silver-nbp", days, observations={"nbp": dict.fromkeys(WEDNESDAYS, NBP)})
    sync(deployment.settings, deployment.store())
    return days


def test_rate_and_convert_from_one_provider_and_as_csv(deployment, with_nbp, exact):
    asked = ("USD", "PLN", "--date", "2024-03-16", "--provider", "NBP")
    answer = json.loads(deployment.run("makerates", "rate", *asked, "--json").stdout)
    assert answer == {
        "base": "USD", "quote": "PLN", "date": "2024-03-16", "rate_date": "2024-03-13",
        "rate": reads.decimal_text(exact(NBP["PLN"], NBP["USD"])), "source": "nbp",
    }  # fmt: skip
    text = deployment.run("makerates", "rate", *asked).stdout
    assert text.startswith(f"1 USD = {answer['rate']} PLN on 2024-03-16 (from the nbp rates of 2024-03-13")  # fmt: skip
    assert _csv(deployment.run("makerates", "rate", *asked, "--csv")) == [answer]
    ecb = _csv(deployment.run("makerates", "rate", "USD", "PLN", "--date", "2024-03-16", "--csv"))
    friday = with_nbp["2024-03-15"]
    assert ecb == [{**answer, "rate_date": "2024-03-15", "source": "", "rate": reads.decimal_text(exact(friday["PLN"], friday["USD"]))}]  # fmt: skip
    converted = _csv(deployment.run("makerates", "convert", "100", *asked, "--csv"))
    with localcontext() as ctx:
        ctx.prec = 50
        assert Decimal(converted[0]["result"]) == 100 * Decimal(answer["rate"])
    assert converted[0]["amount"] == "100" and converted[0]["rate_date"] == "2024-03-13"
    money = deployment.run("makerates", "convert", "100", *asked).stdout
    assert money.startswith(
        "100 USD = 397.11 PLN on 2024-03-16 (rate 3.97115, nbp rates of 2024-03-13)"
    )


def test_history_of_a_provider_and_grouped(deployment, with_nbp, exact):
    window = ("--from", "2024-03-01", "--to", "2024-03-31")
    nbp = json.loads(deployment.run("makerates", "history", "EUR", "USD", *window, "--provider", "nbp", "--json").stdout)  # fmt: skip
    assert (nbp["series"], nbp["group"]) == ("nbp", "day")
    assert nbp["rates"] == [{"rate_date": d, "rate": NBP["USD"]} for d in WEDNESDAYS]
    quarter = ("--from", "2024-01-01", "--to", "2024-03-31", "--group", "month")
    months = _csv(deployment.run("makerates", "history", "USD", "JPY", *quarter, "--csv"))
    assert [m["period_start"] for m in months] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    march = [r for d, r in with_nbp.items() if d >= "2024-03-01"]
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = 60, "ROUND_DOWN"
        means = {c: (sum(Decimal(r[c]) for r in march) / len(march)).quantize(Decimal("1e-18")) for c in ("JPY", "USD")}  # fmt: skip
    assert months[2]["rate"] == reads.decimal_text(exact(str(means["JPY"]), str(means["USD"])))
    text = deployment.run("makerates", "history", "USD", "JPY", *quarter).stdout.splitlines()
    assert text[0].split() == ["period_start", "USD/JPY"] and text[3].split()[1] == months[2]["rate"]  # fmt: skip
    assert text[-1] == "3 months of series blend from 2024-01-01 to 2024-03-31"
