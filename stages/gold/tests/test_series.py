"""The v2 reads (`series.py`): parsing the series items, snapshots, ranges and their requests,
and the API's display and request parsing; the reads run on both stores."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from types import SimpleNamespace

import pytest
from makerates_gold import api_v2, series
from makerates_gold.reads import cross_rate, rate_text
from makerates_gold.series import Ask, Emitter, Invalid, Missing

MARCH = date(2024, 3, 1).toordinal() - 1  # + day of the month = that day's ordinal


def d(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def test_a_day_item_says_each_rate_s_observation_date():
    rows = "15 JPY 162.03 0\n15 USD 1.0892 0\n16 JPY 162.03 1\n16 USD 1.0892 1\n17 USD 1.0892 2"
    parsed = series.parse_rows("2024-03", rows, carried=True)
    assert sorted(parsed) == [MARCH + 15, MARCH + 16, MARCH + 17]
    assert parsed[MARCH + 16] == {"JPY": ("162.03", MARCH + 15), "USD": ("1.0892", MARCH + 15)}
    assert parsed[MARCH + 17] == {"USD": ("1.0892", MARCH + 15)}
    only = series.parse_rows("2024-03", rows, carried=True, codes=frozenset({"USD"}))
    assert set(only[MARCH + 16]) == {"USD"}


def test_a_period_item_is_dated_by_the_period_start():
    parsed = series.parse_rows("2024-03", "04 USD 1.0875 5\n11 USD 1.09196 5\n", carried=False)
    assert parsed == {
        MARCH + 4: {"USD": ("1.0875", MARCH + 4)},
        MARCH + 11: {"USD": ("1.09196", MARCH + 11)},
    }


def test_the_first_listed_series_wins_each_currency():
    ecb = {"USD": ("1.0892", 1), "JPY": ("162.03", 1)}
    nbp = {"USD": ("1.09", 2), "PLN": ("4.3", 2)}
    assert series.merged([nbp, ecb]) == {
        "USD": ("1.09", 2),
        "JPY": ("162.03", 1),
        "PLN": ("4.3", 2),
    }
    assert series.merged([ecb, nbp])["USD"] == ("1.0892", 1)


def test_a_snapshot_has_every_pair_the_identity_and_exact_cross_rates():
    friday = MARCH + 15
    snapshot = {"USD": ("1.0892", friday), "JPY": ("162.03", friday - 1)}
    rows = Emitter(Ask(base="USD"), dedupe=False).rows(snapshot)
    assert [(r.quote, r.date) for r in rows] == [
        ("EUR", d(friday)),
        ("JPY", d(friday)),  # the newer of the two observation dates
        ("USD", d(friday)),
    ]  # by quote
    by_quote = {r.quote: r.rate for r in rows}
    assert by_quote["JPY"] == cross_rate(Decimal("1.0892"), Decimal("162.03"))
    assert by_quote["EUR"] == cross_rate(Decimal("1.0892"), Decimal(1))
    assert by_quote["USD"] == 1
    euro = Emitter(Ask(quotes=("JPY", "EUR")), dedupe=False).rows(snapshot)
    assert [(r.quote, r.date, r.rate) for r in euro] == [
        ("EUR", d(friday - 1), 1),  # the identity: dated by the newest row shown
        ("JPY", d(friday - 1), Decimal("162.03")),  # the stored string, no division
    ]
    assert Emitter(Ask(base="GBP"), dedupe=False).rows(snapshot) == []  # GBP not in force


def test_a_range_repeats_a_pair_only_when_its_date_changes():
    """Snap-back on the first day, then a row when the quote or the base is published."""
    emitter = Emitter(Ask(base="USD", quotes=("JPY", "GBP")), dedupe=True)
    thu, fri, sat, mon = MARCH + 14, MARCH + 15, MARCH + 16, MARCH + 18
    days = [
        {"USD": ("1.09", thu), "JPY": ("160", thu), "GBP": ("0.85", thu)},  # snap-back
        {"USD": ("1.09", thu), "JPY": ("161", fri), "GBP": ("0.85", thu)},  # JPY published
        {"USD": ("1.09", thu), "JPY": ("161", fri), "GBP": ("0.85", thu)},  # nothing new
        {"USD": ("1.08", mon), "JPY": ("161", fri), "GBP": ("0.85", thu)},  # the base: all
    ]
    seen = [[(r.date, r.quote) for r in emitter.rows(day)] for day in days]
    assert seen == [
        [(d(thu), "GBP"), (d(thu), "JPY")],
        [(d(fri), "JPY")],
        [],
        [(d(mon), "GBP"), (d(mon), "JPY")],
    ]
    del sat


def test_expand_providers_lists_each_series_own_rate():
    snapshot = {"USD": ("1.0892", 5), "PLN": ("4.3", 5)}
    details = {"ecb": {"USD": ("1.0892", 5)}, "nbp": {"USD": ("1.09", 3), "PLN": ("4.3", 3)}}
    rows = Emitter(Ask(quotes=("USD", "PLN"), detail=("ecb", "nbp")), dedupe=False).rows(
        snapshot, details
    )
    listed = {r.quote: [(p.key, p.date, p.rate) for p in r.providers] for r in rows}
    assert listed == {
        "USD": [("ECB", d(5), Decimal("1.0892")), ("NBP", d(3), Decimal("1.09"))],
        "PLN": [("NBP", d(3), Decimal("4.3"))],
    }


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("1.0811", "1.0811"),  # a published string is never changed
        ("136", "136"),
        ("0.000061", "0.000061"),
        ("17011.02", "17011.02"),
        ("4.312345678901234567", "4.312345679"),
        ("1.0000000005", "1"),  # half-even, trailing zeros dropped
        ("1.0000000015", "1.000000002"),
        ("148.76055820785897906720528828497980168931325743665", "148.7605582"),
        ("12345678901234.5", "12345678900000"),  # never exponent notation
        ("0.00000000012345678915", "0.0000000001234567892"),
    ],
)
def test_display_rounds_to_ten_significant_digits_without_floats(value, shown):
    """The one display rule of the CLI and /v2 (`reads.rate_text`)."""
    assert rate_text(Decimal(value)) == shown
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = 10, ROUND_HALF_EVEN
        assert Decimal(shown) == +Decimal(value)


@pytest.mark.parametrize(
    ("accept", "kind"),
    [
        ("", "json"),
        ("*/*", "json"),
        ("text/csv", "csv"),
        ("application/x-ndjson", "ndjson"),
        ("text/csv, application/json", "csv"),
        ("application/json;q=1, text/csv", "json"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "json"),
    ],
)
def test_the_format_is_the_first_the_accept_header_names(accept, kind):
    asked = SimpleNamespace(headers={"accept": accept})
    assert api_v2._kind(asked, csv=False) == kind  # type: ignore[arg-type]
    assert api_v2._kind(asked, csv=True) == "csv"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("params", "error", "fragment"),
    [
        ({"date": "2024-03-15", "from": "2024-03-01"}, Invalid, "combined"),
        ({"to": "2024-03-15"}, Invalid, "to needs from"),
        ({"group": "week"}, Invalid, "group needs a range"),
        ({"from": "2024-03-15", "to": "2024-03-01"}, Invalid, "after"),
        ({"from": "2024-3-1"}, Invalid, "YYYY-MM-DD"),
        ({"from": "20240301"}, Invalid, "YYYY-MM-DD"),
        ({"from": "2024-02-30"}, Invalid, "YYYY-MM-DD"),
        ({"from": "2000-01-01", "to": "1998-01-01"}, Missing, "1999-01-04"),
    ],
)
def test_range_parameters(params, error, fragment):
    with pytest.raises(error, match=fragment):
        api_v2._span(params)


def test_a_range_from_before_the_first_day_starts_on_it_and_to_defaults_to_today():
    span = api_v2._span({"from": "1990-01-01"})
    assert span is not None and span.first == series.FIRST_DAY
    assert span.last == series.today() and not span.closed
    assert api_v2._span({"from": "2024-03-01", "to": "2024-03-31"}).closed  # type: ignore[union-attr]
    assert api_v2._span({"date": "2024-03-01"}) is None


@pytest.mark.parametrize("text", ["US", "USDX", "U$D", "12", "", "ÜSD"])
def test_a_currency_code_is_three_ascii_letters(text):
    with pytest.raises(Invalid, match="not a currency code"):
        series.parse_currency(text)


def test_providers_are_registry_keys_in_any_case():
    assert series.parse_series("ECB") == "ecb"
    assert series.parse_series(" Nbp ") == "nbp"
    with pytest.raises(Missing, match="not found: provider 'XYZ'; known: ecb, frankfurter"):
        series.parse_series("XYZ")


# --- the reads on both stores -------------------------------------------------------------


def test_a_day_is_one_batch_get_and_the_latest_a_query_and_one_more(
    deployment, q1_2024, counting, exact
):
    store = counting(deployment.store())
    ask = Ask(base="USD", quotes=("JPY",), detail=("ecb",))
    saturday = series.on_day(store, deployment.table, ask, date(2024, 3, 16))
    assert store.operations == ["batch_get"]  # DAY#blend, DAY#ecb and META/CURRENCIES
    friday = q1_2024["2024-03-15"]
    assert [(r.date, r.rate) for r in saturday] == [
        ("2024-03-15", exact(friday["JPY"], friday["USD"]))
    ]
    assert saturday[0].providers == (("ECB", "2024-03-15", saturday[0].rate),)
    store.calls.clear()
    newest = series.latest(store, deployment.table, Ask(quotes=("USD",)))
    assert store.operations == ["query", "batch_get"]
    assert [(r.date, str(r.rate)) for r in newest] == [("2024-03-28", q1_2024["2024-03-28"]["USD"])]
    store.calls.clear()
    assert series.latest(store, deployment.table, Ask())[-1].quote == "ZAR"
    assert store.operations == ["query"]  # one series, no named currency: nothing else


def test_reads_name_what_is_missing(deployment, q1_2024):
    store, table = deployment.store(), deployment.table
    with pytest.raises(Missing, match="not found: currency 'XYZ'"):
        series.on_day(store, table, Ask(quotes=("XYZ",)), date(2024, 3, 15))
    with pytest.raises(Missing, match="no EUR rate to USD on 2024-06-14 in series blend"):
        series.on_day(store, table, Ask(quotes=("USD",)), date(2024, 6, 14))
    with pytest.raises(Missing, match="rates of series nbp"):
        series.latest(store, table, Ask(series=("nbp",)))


def test_a_range_reads_month_by_month_in_chunked_queries(
    deployment, q1_2024, counting, monkeypatch
):
    monkeypatch.setattr(series, "CHUNK_MONTHS", 2)
    store = counting(deployment.store())
    checks: list[int] = []
    rows = series.daily(
        store,
        deployment.table,
        Ask(quotes=("USD",)),
        (date(2024, 1, 1), date(2024, 3, 31)),
        check=lambda: checks.append(len(store.calls)),
    )
    first = next(rows)
    assert (first.date, str(first.rate)) == ("2024-01-02", q1_2024["2024-01-02"]["USD"])
    assert store.calls == [("query", ["rows"])]  # January and February; nothing more yet
    rest = list(rows)
    assert store.calls == [("query", ["rows"]), ("query", ["rows"])]  # then March
    assert checks == [1, 1, 2]  # before each month's rows
    assert [r.date for r in [first, *rest]] == sorted(q1_2024)  # one row a publication day


def test_a_range_snaps_back_to_the_rate_in_force_on_its_first_day(deployment, q1_2024):
    rows = list(
        series.daily(
            deployment.store(),
            deployment.table,
            Ask(base="GBP", quotes=("USD", "GBP")),
            (date(2024, 3, 9), date(2024, 3, 12)),
        )
    )
    assert [(r.date, r.quote) for r in rows] == [
        ("2024-03-08", "GBP"),
        ("2024-03-08", "USD"),
        ("2024-03-11", "GBP"),
        ("2024-03-11", "USD"),
        ("2024-03-12", "GBP"),
        ("2024-03-12", "USD"),
    ]


def test_grouped_periods_overlap_the_range(deployment, q1_2024):
    store, table = deployment.store(), deployment.table
    months = series.grouped(
        store, table, Ask(quotes=("USD",)), (date(2024, 1, 15), date(2024, 2, 1)), "month"
    )
    assert [r.date for r in months] == ["2024-01-01", "2024-02-01"]
    weeks = series.grouped(
        store, table, Ask(quotes=("USD",)), (date(2024, 3, 13), date(2024, 3, 20)), "week"
    )
    assert [r.date for r in weeks] == ["2024-03-11", "2024-03-18"]
    hashes = series.fingerprint(store, table, Ask(), (date(2024, 1, 15), date(2024, 2, 1)), "week")
    assert [(pk, month) for pk, month, _ in hashes] == [
        ("WEEK#blend", "2024-01"),
        ("WEEK#blend", "2024-02"),
    ]
    assert all(h for _, _, h in hashes)  # each item's content hash, whatever its form
