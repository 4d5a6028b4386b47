"""Several sources through silver: fallback, consensus, the currency reference, the calendar,
the cross-rate matrix and the gates, on the ECB's real history."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal, localcontext
from pathlib import Path

import duckdb
import pytest
from makerates_silver import cli
from makerates_silver.runner import parquet

NOW = datetime.now(UTC).replace(microsecond=0)
NOT_ECB = {"AED": "3.6725", "ARS": "1043.5", "NGN": "1538.2", "FOK": "6.8571"}


def published(lake: Path) -> dict:
    return json.loads((lake / "silver" / "published.json").read_text())


def mart(lake: Path, name: str, where: str = "true") -> list[dict]:
    files = [str(lake / key) for key in published(lake)["tables"][name]]
    relation = duckdb.sql(f"select * from {parquet(files)} where {where}")
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def run(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`makerates-silver run`: its exit code, and stderr with its Kestra outputs line appended."""
    code = cli.main(["run"])
    out, err = capsys.readouterr()
    return code, err + "".join(line for line in out.splitlines() if '"outputs"' in line)


def error_line(err: str) -> str:
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    return line


def test_frankfurter_fills_a_day_the_ecb_document_missed(silver_env, bronze, capsys):
    missing = "2024-03-13"
    ecb = [r for r in bronze.rows("2024-03-11", "2024-03-15", NOW) if r["rate_date"] != missing]
    bronze.load(ecb)
    bronze.load(bronze.frankfurter_rows("2024-03-11", "2024-03-15", NOW), table="frankfurter_rates")

    code, err = run(capsys)
    assert code == 0, err
    absent = json.loads(err.split('"missing_sources":', 1)[1].split("]", 1)[0] + "]")
    assert "exchangerate_api" in absent and not {"ecb", "frankfurter"} & set(absent)

    rows = mart(silver_env, "fct_rates")
    sources = {(r["rate_date"].isoformat(), r["source"]) for r in rows}
    assert {day for day, source in sources if source == "frankfurter"} == {missing}
    history = bronze.history()
    assert {(r["rate_date"].isoformat(), r["currency"]): r["rate"] for r in rows} == {
        (day, currency): Decimal(rate)
        for day in ("2024-03-11", "2024-03-12", missing, "2024-03-14", "2024-03-15")
        for currency, rate in history[day].items()
    }


def test_independent_source_adds_currencies_and_a_skewed_rate_is_flagged_not_dropped(
    silver_env, bronze, capsys
):
    day = "2024-03-15"
    bronze.load(bronze.rows(day, day, NOW))
    snapshot = bronze.exchangerate_api_rows(day, NOW, NOT_ECB, skew={"JPY": Decimal("1.02")})
    bronze.load(snapshot, table="exchangerate_api_rates")

    code, err = run(capsys)
    assert code == 0, err

    rows = {r["currency"]: r for r in mart(silver_env, "fct_rates")}
    ecb = bronze.history()[day]
    # ECB currencies stay the ECB's, digit for digit; the independent quotes are only compared
    assert {c: r["rate"] for c, r in rows.items() if r["source"] == "ecb"} == {
        c: Decimal(v) for c, v in ecb.items()
    }
    # currencies the ECB lacks come from the independent source, re-based exactly to EUR
    usd_per_eur = Decimal(next(r["rate"] for r in snapshot if r["currency"] == "EUR"))
    for code_ in ("AED", "ARS", "NGN"):
        assert rows[code_]["source"] == "exchangerate_api"
        with localcontext() as ctx:
            ctx.prec = 60
            want = (Decimal(NOT_ECB[code_]) / usd_per_eur).quantize(Decimal("1e-18"), ROUND_DOWN)
        assert rows[code_]["rate"] == want
    assert "FOK" not in rows  # not ISO 4217: reported by a warning test, not published
    assert "exchangerate_api_currency_is_iso_4217" in err

    # the skewed JPY: flagged, kept at the ECB's value, listed with both values
    jpy = rows["JPY"]
    assert jpy["is_flagged"] and jpy["rate"] == Decimal(ecb["JPY"])
    assert Decimal("0.019") < jpy["deviation"] < Decimal("0.021")
    assert [r["currency"] for r in rows.values() if r["is_flagged"]] == ["JPY"]
    (flag,) = mart(silver_env, "fct_rate_flags")
    assert (flag["currency"], flag["rate"], flag["check_source"]) == (
        "JPY",
        jpy["rate"],
        "exchangerate_api",
    )
    assert flag["check_rate"] == jpy["check_rate"] and flag["threshold"] == Decimal("0.005")


def test_an_unknown_currency_code_fails_the_build_naming_it_and_nothing_is_published(
    silver_env, bronze, capsys
):
    bronze.load(bronze.rows("2024-03-14", "2024-03-14", NOW))
    assert run(capsys)[0] == 0
    before = (silver_env / "silver" / "published.json").read_bytes()

    rows = bronze.rows("2024-03-15", "2024-03-15", NOW)
    rows[0] = {**rows[0], "currency": "XYZ"}
    bronze.load(rows)
    code, err = run(capsys)

    assert code == 1
    assert error_line(err).startswith(
        "error: silver tests failed: currency_is_iso_4217_fct_rates (1 failure: XYZ)"
    ), err
    assert (silver_env / "silver" / "published.json").read_bytes() == before


@pytest.mark.parametrize(
    ("change", "failing_test"),
    [
        (
            {"rate_date": (date.today() + timedelta(days=3)).isoformat()},
            "assert_no_future_rate_dates",
        ),
        ("x100", "assert_no_implausible_day_over_day_moves"),
    ],
)
def test_gates_stop_a_future_date_and_an_absurd_move(
    silver_env, bronze, capsys, change, failing_test
):
    bronze.load(bronze.rows("2024-03-14", "2024-03-14", NOW))
    assert run(capsys)[0] == 0
    before = (silver_env / "silver" / "published.json").read_bytes()

    rows = bronze.rows("2024-03-15", "2024-03-15", NOW)
    usd = next(i for i, r in enumerate(rows) if r["currency"] == "USD")
    if change == "x100":
        rows[usd] = {**rows[usd], "rate": str(Decimal(rows[usd]["rate"]) * 100)}
    else:
        rows[usd] = {**rows[usd], **change}
    bronze.load(rows)
    code, err = run(capsys)

    assert code == 1
    assert error_line(err).startswith(f"error: silver tests failed: {failing_test} (1 failure: "), (
        err
    )
    assert "USD" in error_line(err)
    assert (silver_env / "silver" / "published.json").read_bytes() == before


def test_calendar_carries_rates_forward_up_to_fourteen_days(silver_env, bronze, capsys):
    bronze.load(bronze.rows("2024-03-01", "2024-03-15", NOW))
    assert run(capsys)[0] == 0

    usd = {
        r["calendar_date"].isoformat(): r
        for r in mart(silver_env, "fct_rates_calendar", "currency = 'USD'")
    }
    saturday, sunday = usd["2024-03-16"], usd["2024-03-17"]
    assert (saturday["rate_date"].isoformat(), saturday["days_carried"]) == ("2024-03-15", 1)
    assert (sunday["rate_date"].isoformat(), sunday["days_carried"]) == ("2024-03-15", 2)
    assert saturday["rate"] == Decimal(bronze.history()["2024-03-15"]["USD"])
    assert usd["2024-03-29"]["days_carried"] == 14
    assert "2024-03-30" not in usd  # past the carry-forward limit: no rate
    assert usd["2024-03-15"]["days_carried"] == 0


def test_cross_rate_matrix_is_one_exact_division_and_triangulates(silver_env, bronze, capsys):
    day = "2024-03-15"
    bronze.load(bronze.rows("2024-03-11", day, NOW))
    bronze.load(bronze.exchangerate_api_rows(day, NOW, NOT_ECB), table="exchangerate_api_rates")
    assert run(capsys)[0] == 0

    per_eur = {
        r["currency"]: r["rate"] for r in mart(silver_env, "fct_rates", f"rate_date = '{day}'")
    }
    per_eur["EUR"] = Decimal(1)
    matrix = {
        (r["base"], r["quote"]): r["rate"] for r in mart(silver_env, "fct_cross_rates_latest")
    }
    assert set(matrix) == {(b, q) for b in per_eur for q in per_eur}
    with localcontext() as ctx:
        ctx.prec = 80
        for (base, quote), rate in matrix.items():
            assert rate == (per_eur[quote] / per_eur[base]).quantize(Decimal("1e-28"), ROUND_DOWN)
        worst = max(
            abs(matrix[a, b] * matrix[b, c] / matrix[a, c] - 1)
            for a in per_eur
            for b in per_eur
            for c in per_eur
        )
    assert worst <= Decimal("1e-12")


@pytest.mark.parametrize(
    ("days_ago", "code", "says"),
    [(8, 0, "bronze is getting stale: ecb_rates"), (20, 1, "error: bronze is stale: ecb_rates")],
)
def test_source_freshness_warns_then_stops_the_run(
    silver_env, bronze, capsys, days_ago, code, says
):
    bronze.load(
        bronze.rows("2024-03-14", "2024-03-15", NOW), loaded_at=NOW - timedelta(days=days_ago)
    )

    got, err = run(capsys)

    assert got == code, err
    assert says in err
    assert (silver_env / "silver" / "published.json").exists() == (code == 0)


def test_a_second_run_on_the_same_lake_refuses_clearly_while_the_first_holds_it(
    silver_env, bronze, capsys
):
    import fcntl

    from makerates_core.settings import Settings
    from makerates_silver.runner import default_work_dir

    bronze.load(bronze.rows("2024-03-15", "2024-03-15", NOW))
    folder = default_work_dir(Settings.from_env())
    folder.mkdir(parents=True)
    with open(folder / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        code, err = run(capsys)
    assert code == 2
    assert error_line(err).startswith(f"error: another silver run is using {folder}"), err
    assert not (silver_env / "silver" / "published.json").exists()
    assert run(capsys)[0] == 0  # once the first is done, the next one runs


def test_a_daily_run_reads_only_new_loads_and_equals_a_full_refresh(silver_env, bronze, capsys):
    bronze.load(bronze.rows("2024-01-02", "2024-03-14", NOW - timedelta(hours=2)))
    bronze.load(bronze.frankfurter_rows("2024-03-01", "2024-03-14", NOW), table="frankfurter_rates")
    assert run(capsys)[0] == 0

    corrected = bronze.rows("2024-03-14", "2024-03-15", NOW)  # a late correction of the 14th
    usd = next(i for i, r in enumerate(corrected) if r["currency"] == "USD")
    corrected[usd] = {**corrected[usd], "rate": "1.2345"}
    bronze.load(corrected)
    code, err = run(capsys)
    assert code == 0, err
    assert '"bronze_loads_read":1,' in err and '"full_refresh":false' in err
    daily = {(r["rate_date"], r["currency"]): r for r in mart(silver_env, "fct_rates")}
    assert daily[date(2024, 3, 14), "USD"]["rate"] == Decimal("1.2345")
    assert daily[date(2024, 3, 15), "USD"]["source"] == "ecb"

    assert cli.main(["run", "--full-refresh"]) == 0
    assert '"full_refresh":true' in capsys.readouterr().out
    rebuilt = {(r["rate_date"], r["currency"]): r for r in mart(silver_env, "fct_rates")}
    assert rebuilt == daily
