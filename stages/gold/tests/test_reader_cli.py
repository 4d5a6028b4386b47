"""convert, history, runs and chart: the reads under them and the commands, on both stores."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import pytest
from makerates_gold import reads, series


def _json(done) -> dict:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_history_is_the_blend_series_rate_in_force_then_each_change(deployment, q1_2024, exact):
    window = ("--from", "2024-03-09", "--to", "2024-03-17", "--json")
    done = deployment.run("makerates", "history", "USD", "JPY", *window)
    body = _json(done)
    assert (body["series"], body["group"], body["missing"]) == ("blend", "day", [])
    # a Saturday start: Friday's rate is the one in force (dated where it was published)
    assert [p["rate_date"] for p in body["rates"]] == [
        "2024-03-08", "2024-03-11", "2024-03-12", "2024-03-13", "2024-03-14", "2024-03-15"
    ]  # fmt: skip
    friday = q1_2024["2024-03-15"]
    assert body["rates"][-1]["rate"] == str(exact(friday["JPY"], friday["USD"]))
    assert done.stderr == ""


def test_history_matches_the_point_read_on_every_day(deployment, q1_2024):
    window = ("--from", "2024-01-01", "--to", "2024-03-31", "--json")
    body = _json(deployment.run("makerates", "history", "GBP", "IDR", *window))
    assert len(body["rates"]) == len(q1_2024)
    store, table = deployment.store(), deployment.table
    for point in body["rates"][::10]:
        day = date.fromisoformat(point["rate_date"])
        assert (
            reads.decimal_text(series.point(store, table, "GBP", "IDR", day).rate) == point["rate"]
        )


def test_history_over_unloaded_spans_names_them_and_the_command_that_loads_them(
    deployment, q1_2024
):
    """The store holds 2024-01-02..2024-03-28, in force until 2024-04-11 (14 days carried)."""
    window = ("--from", "2023-12-01", "--to", "2024-06-30")
    done = deployment.run("makerates", "history", "USD", "JPY", *window, "--json")
    body = _json(done)
    assert body["missing"] == [
        {"from": "2023-12-01", "to": "2024-01-01", "days": 32,
         "load": "just backfill 2023-11-17 2024-01-01"},
        {"from": "2024-04-12", "to": "2024-06-30", "days": 80,
         "load": "just backfill 2024-03-29 2024-06-30"},
    ]  # fmt: skip
    assert done.stderr.splitlines() == [
        "warning: no USD/JPY rate in force from 2023-12-01 to 2024-01-01 (32 days): not "
        "loaded, or not published; `just backfill 2023-11-17 2024-01-01` loads what the "
        "sources published",
        "warning: no USD/JPY rate in force from 2024-04-12 to 2024-06-30 (80 days): not "
        "loaded, or not published; `just backfill 2024-03-29 2024-06-30` loads what the "
        "sources published",
    ]
    assert len(body["rates"]) == len(q1_2024)
    table = deployment.run("makerates", "history", "USD", "JPY", *window)
    assert table.returncode == 0 and len(table.stderr.splitlines()) == 2
    assert table.stdout.splitlines()[-1].endswith("; 2 spans with no rate (above)")


def test_grouped_history_over_unloaded_spans_names_the_periods_with_no_mean(deployment, q1_2024):
    window = ("--from", "2023-12-01", "--to", "2024-06-30", "--group", "month", "--json")
    body = _json(deployment.run("makerates", "history", "USD", "JPY", *window))
    assert [p["period_start"] for p in body["rates"]] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert [(m["from"], m["to"]) for m in body["missing"]] == [
        ("2023-12-01", "2023-12-31"), ("2024-04-01", "2024-06-30")
    ]  # fmt: skip
    weeks = ("--from", "2024-03-18", "--to", "2024-04-14", "--group", "week", "--json")
    body = _json(deployment.run("makerates", "history", "USD", "JPY", *weeks))
    assert [p["period_start"] for p in body["rates"]] == ["2024-03-18", "2024-03-25"]
    assert [(m["from"], m["to"]) for m in body["missing"]] == [("2024-04-01", "2024-04-14")]


def test_history_errors(deployment, q1_2024):
    def error(*args: str) -> str:
        done = deployment.run("makerates", "history", *args)
        assert done.returncode == 2 and done.stdout == ""
        return done.stderr

    unknown = error("XYZ", "USD", "--from", "2024-03-01", "--to", "2024-03-08")
    assert unknown.startswith("error: unknown currency 'XYZ'; `makerates currencies`")
    assert "after" in error("USD", "JPY", "--from", "2024-03-08", "--to", "2024-03-01")
    assert error("USD", "JPY", "--from", "2024-06-01", "--to", "2024-06-08") == (
        "error: the hot tier has no USD/JPY rate between 2024-06-01 and 2024-06-08 in series "
        "blend; if the sources published some, load them with "
        "`just backfill 2024-05-18 2024-06-08`\n"
    )


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


GULF = {"KWD": "0.33451", "BHD": "0.41052"}  # per EUR; minor unit 3 (ISO 4217)


@pytest.fixture
def gulf(deployment, ecb) -> dict[str, dict[str, str]]:
    """The ECB's Q1 2024 and, on each of its days, KWD and BHD (ExchangeRate-API's), synced."""
    from makerates_gold.sync import sync

    days = {d: {**rates, **GULF} for d, rates in ecb("2024-01-01", "2024-03-31").items()}
    sources = {(d, code): "exchangerate_api" for d in days for code in GULF}
    deployment.publish("silver-gulf", days, sources)
    sync(deployment.settings, deployment.store())
    return days


def shown_rate(rate: Decimal) -> str:
    """The documented rule, spelled out: 10 significant digits, half-even, no trailing zeros."""
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = 10, ROUND_HALF_EVEN
        text = f"{+rate:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@pytest.mark.parametrize(
    ("amount", "base", "quote", "digits"),
    [
        ("250000", "USD", "JPY", 0),
        ("1234567.891", "JPY", "GBP", 2),
        ("0.5", "EUR", "HUF", 2),
        ("1000", "USD", "KWD", 3),
        ("2500.75", "EUR", "BHD", 3),
        ("123456789", "JPY", "KWD", 3),
        ("10", "KWD", "JPY", 0),
    ],
)
def test_convert_shows_money_as_money(deployment, gulf, exact, amount, base, quote, digits):
    """Rounded half-even to the quote's ISO 4217 minor unit, with thousands separators; the
    rate by the one display rule."""
    friday = gulf["2024-03-15"]
    done = deployment.run("makerates", "convert", amount, base, quote, "--date", "2024-03-15")
    assert done.returncode == 0, done.stderr
    with localcontext() as ctx:
        ctx.prec = 50
        rate = exact(friday[quote], friday[base]) if base != "EUR" else Decimal(friday[quote])
        result = (Decimal(amount) * rate).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_EVEN)
    shown = done.stdout.split(" = ")[1].split(f" {quote} ")[0]
    assert shown == f"{result:,f}"
    assert len(shown.rpartition(".")[2]) == digits if digits else "." not in shown
    assert f"(rate {shown_rate(rate)}, " in done.stdout


def test_the_readme_s_conversion_is_money(deployment, q1_2024):
    done = deployment.run("makerates", "convert", "250", "USD", "JPY", "--date", "2024-03-15")
    assert done.stdout.startswith("250 USD = 37,190 JPY on 2024-03-15 (rate 148.7605582, ")


@pytest.mark.parametrize(
    ("base", "quote", "day"),
    [("USD", "JPY", "2024-03-15"), ("KWD", "BHD", "2024-03-16"), ("EUR", "JPY", "2024-03-15"),
     ("JPY", "KWD", "2024-02-29"), ("BHD", "EUR", "2024-03-31")],
)  # fmt: skip
def test_the_cli_and_v2_show_the_same_rate(deployment, gulf, base, quote, day):
    from fastapi.testclient import TestClient
    from makerates_gold.api import create_app

    text = deployment.run("makerates", "rate", base, quote, "--date", day).stdout
    cli = text.split(" = ")[1].split(" ")[0]
    client = TestClient(create_app(deployment.settings, deployment.store()))
    answer = client.get(f"/v2/rate/{base}/{quote}", params={"date": day})
    assert answer.status_code == 200, answer.text
    v2 = re.search(r'"rate":([0-9.]+)', answer.text).group(1)
    exact = json.loads(
        deployment.run("makerates", "rate", base, quote, "--date", day, "--json").stdout
    )
    assert cli == v2 == shown_rate(Decimal(exact["rate"]))


def test_history_command(deployment, q1_2024):
    done = deployment.run(
        "makerates", "history", "EUR", "USD", "--from", "2024-03-09", "--to", "2024-03-12"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["rate_date", "EUR/USD"]
    assert lines[1].split() == ["2024-03-08", q1_2024["2024-03-08"]["USD"]]  # in force on 9th
    assert lines[2].split() == ["2024-03-11", q1_2024["2024-03-11"]["USD"]]
    assert lines[-1] == "3 rates of series blend from 2024-03-09 to 2024-03-12"
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
        {"rate_date": "2024-03-08", "rate": q1_2024["2024-03-08"]["USD"]},
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
        "days_carried": 3, "rate": reads.decimal_text(exact(NBP["PLN"], NBP["USD"])),
        "source": "nbp",
    }  # fmt: skip
    text = deployment.run("makerates", "rate", *asked).stdout
    shown = reads.rate_text(Decimal(answer["rate"]))
    assert text.startswith(f"1 USD = {shown} PLN on 2024-03-16 (from the nbp rates of 2024-03-13, carried 3 days)")  # fmt: skip
    as_csv = {**answer, "days_carried": "3"}
    assert _csv(deployment.run("makerates", "rate", *asked, "--csv")) == [as_csv]
    ecb = _csv(deployment.run("makerates", "rate", "USD", "PLN", "--date", "2024-03-16", "--csv"))
    friday = with_nbp["2024-03-15"]
    assert ecb == [{**as_csv, "rate_date": "2024-03-15", "days_carried": "1", "source": "", "rate": reads.decimal_text(exact(friday["PLN"], friday["USD"]))}]  # fmt: skip
    converted = _csv(deployment.run("makerates", "convert", "100", *asked, "--csv"))
    with localcontext() as ctx:
        ctx.prec = 50
        assert Decimal(converted[0]["result"]) == 100 * Decimal(answer["rate"])
    assert converted[0]["amount"] == "100" and converted[0]["rate_date"] == "2024-03-13"
    money = deployment.run("makerates", "convert", "100", *asked).stdout
    assert money.startswith(
        "100 USD = 397.11 PLN on 2024-03-16 (rate 3.971147519, nbp rates of 2024-03-13)"
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
    assert text[0].split() == ["period_start", "USD/JPY"]
    assert text[3].split()[1] == reads.rate_text(Decimal(months[2]["rate"]))
    assert text[-1] == "3 months of series blend from 2024-01-01 to 2024-03-31"
