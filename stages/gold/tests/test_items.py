"""Items and hashes, and how the loader turns DECIMAL(38,18) into exact, normalised Decimals."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from makerates_core.duck import connect
from makerates_core.errors import UpstreamError
from makerates_core.settings import Settings
from makerates_gold.items import currencies_item, day_item, rates_hash
from makerates_gold.published import Published, SilverTable
from makerates_gold.reads import cross_rate, decimal_text

RAW = [
    ("1.082300000000000000", "1.0823"),
    ("136.000000000000000000", "136"),
    ("17011.020000000000000000", "17011.02"),
    ("100.000000000000000000", "100"),
    ("0.000000000000000001", "0.000000000000000001"),
    ("12345678901234567890.123456789012345678", "12345678901234567890.123456789012345678"),
]


def silver_table(tmp_path, select: str) -> SilverTable:
    path = tmp_path / "fct_rates.parquet"
    settings = Settings.from_env({"LAKE_URL": str(tmp_path)})
    con = connect(settings)
    con.execute(f"copy ({select}) to '{path}' (format parquet)")
    con.close()
    published = Published(run_id="r", uris={"fct_rates": [str(path)]})
    return SilverTable(settings, published)


def test_trailing_zeros_go_without_exponent_notation(tmp_path):
    values = ", ".join(f"({i}, '{raw}')" for i, (raw, _) in enumerate(RAW))
    select = (
        "select date '2024-01-01' + cast(i as integer) as rate_date, 'C' || i as currency, "
        "cast(raw as decimal(38, 18)) as rate, 'ecb' as source "
        f"from (values {values}) v(i, raw)"
    )
    with silver_table(tmp_path, select) as silver:
        days = silver.days(["2024"])
    loaded = [days[f"2024-01-{i + 1:02d}"].rates[f"C{i}"] for i in range(len(RAW))]
    for value, (raw, text) in zip(loaded, RAW, strict=True):
        assert value.as_tuple().exponent <= 0  # never 1.36E+2
        assert decimal_text(value) == text
        assert value == Decimal(raw)


def test_a_table_without_decimal_rates_or_sources_is_refused(tmp_path):
    with pytest.raises(UpstreamError, match="DECIMAL"):
        silver_table(
            tmp_path, "select date '2024-01-02' as rate_date, 'USD' as currency, 1.1::double as "
            "rate, 'ecb' as source"
        )  # fmt: skip


def test_an_ecb_only_day_hashes_without_a_sources_part():
    rates = {"USD": Decimal("1.0823"), "JPY": Decimal("136")}
    v1 = hashlib.sha256(b"v2|JPY=136;USD=1.0823").hexdigest()[:20]
    assert rates_hash(rates) == rates_hash(dict(reversed(rates.items()))) == v1
    assert rates_hash(rates, {}) == v1
    assert rates_hash(rates, {"USD": "frankfurter"}) != v1
    assert rates_hash(rates, {"USD": "frankfurter"}) != rates_hash(rates, {"JPY": "frankfurter"})
    assert rates_hash({**rates, "USD": Decimal("1.0824")}) != v1


def test_day_items_name_only_the_sources_that_are_not_the_ecb():
    rates = {"USD": Decimal("1.0956"), "AED": Decimal("4.0236")}
    assert day_item("2024-01-02", rates, "r1") == {
        "pk": "RATES",
        "sk": "2024-01-02",
        "rates": rates,
        "v1eur": '{"AED":4.0236,"USD":1.0956}',
        "h": rates_hash(rates),
        "run_id": "r1",
    }
    item = day_item("2024-01-02", rates, "r1", {"AED": "exchangerate_api"})
    assert item["src"] == {"AED": "exchangerate_api"}
    assert item["h"] == rates_hash(rates, {"AED": "exchangerate_api"})


def test_the_currencies_hash_covers_sources_names_and_the_pivot():
    euro = {"code": "EUR", "name": "Euro", "minor_units": 2}
    spans = {"USD": {"first": "2024-01-02", "last": "2024-01-03", "name": "US Dollar"}}
    aed = {"first": "2024-01-02", "last": "2024-01-03", "name": "UAE Dirham", "source": "nbp"}
    item = currencies_item({**spans, "AED": aed}, euro)
    assert list(item["currencies"]) == ["AED", "USD"] and item["pivot"] == euro
    assert item["h"] != currencies_item({**spans, "AED": {**aed, "source": "cnb"}}, euro)["h"]
    assert item["h"] != currencies_item({**spans, "AED": {**aed, "name": "AED"}}, euro)["h"]
    assert item["h"] != currencies_item({**spans, "AED": aed}, {**euro, "name": "E"})["h"]
    assert item["h"] == currencies_item({"AED": aed, **spans}, euro)["h"]  # order-free


def test_cross_rates_keep_fifty_digits_and_print_without_exponent():
    assert cross_rate(Decimal("1.36"), Decimal("136")) == 100
    assert decimal_text(cross_rate(Decimal("1.36"), Decimal("136"))) == "100"
    assert len(cross_rate(Decimal("1.0892"), Decimal("162.03")).as_tuple().digits) == 50
    assert decimal_text(cross_rate(Decimal("17011.02"), Decimal("1"))).startswith("0.0000587")
