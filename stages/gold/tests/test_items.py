"""Item building: normalisation of DECIMAL(38,18) values and content hashes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from makerates_gold.items import (
    currencies_item,
    day_item,
    normalize_rate,
    rates_hash,
    year_digests,
)
from makerates_gold.reads import cross_rate, decimal_text


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("1.082300000000000000", "1.0823"),
        ("136.000000000000000000", "136"),
        ("17011.020000000000000000", "17011.02"),
        ("100.000000000000000000", "100"),
        ("0.000000000000000001", "0.000000000000000001"),
        ("12345678901234567890.123456789012345678", "12345678901234567890.123456789012345678"),
    ],
)
def test_trailing_zeros_go_without_exponent_notation(raw, text):
    value = normalize_rate(Decimal(raw))
    assert value.as_tuple().exponent <= 0  # never 1.36E+2
    assert decimal_text(value) == text
    assert value == Decimal(raw)
    if Decimal(raw) >= Decimal("0.000001"):  # str() itself uses E notation below 1e-6
        assert str(value) == text


def test_floats_are_refused():
    with pytest.raises(TypeError):
        normalize_rate(1.0823)


def test_the_hash_depends_on_values_not_on_scale_or_order():
    a = {"USD": Decimal("1.082300000000000000"), "JPY": Decimal("136.00")}
    b = {"JPY": Decimal("136"), "USD": Decimal("1.0823")}
    assert rates_hash(a) == rates_hash(b)
    assert rates_hash(a) != rates_hash({**b, "USD": Decimal("1.0824")})
    assert day_item("2024-01-02", a, "r1")["h"] == day_item("2024-01-02", b, "r2")["h"]


def test_day_items_leave_the_pivot_out():
    item = day_item("2024-01-02", {"EUR": Decimal(1), "USD": Decimal("1.0956")}, "r1")
    assert item == {
        "pk": "RATES",
        "sk": "2024-01-02",
        "rates": {"USD": Decimal("1.0956")},
        "h": rates_hash({"USD": Decimal("1.0956")}),
        "run_id": "r1",
    }


def test_currency_spans_and_year_digests():
    days = {
        "2024-01-03": {"USD": Decimal(1), "HRK": Decimal(7)},
        "2023-12-29": {"HRK": Decimal(7)},
        "2024-01-02": {"USD": Decimal(1)},
    }
    assert currencies_item(days)["currencies"] == {
        "HRK": {"first": "2023-12-29", "last": "2024-01-03"},
        "USD": {"first": "2024-01-02", "last": "2024-01-03"},
    }
    digests = year_digests({d: rates_hash(r) for d, r in days.items()})
    assert set(digests) == {"2023", "2024"}
    changed = year_digests({**{d: rates_hash(r) for d, r in days.items()}, "2024-01-02": "x"})
    assert changed["2023"] == digests["2023"] and changed["2024"] != digests["2024"]


def test_cross_rates_keep_fifty_digits_and_print_without_exponent():
    assert cross_rate(Decimal("1.36"), Decimal("136")) == 100
    assert decimal_text(cross_rate(Decimal("1.36"), Decimal("136"))) == "100"
    assert len(cross_rate(Decimal("1.0892"), Decimal("162.03")).as_tuple().digits) == 50
    assert decimal_text(cross_rate(Decimal("17011.02"), Decimal("1"))).startswith("0.0000587")
