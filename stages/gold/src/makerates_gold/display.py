"""Frankfurter's display rounding and v1's rebasing, one function each for the API (`api`) and
for the sync, which renders each day's EUR answer into its item (`items.day_answer`) so that a
long range is answered by joining those texts: both are the same code, so both the same bytes.

A cross rate is ONE Decimal division at CROSS_PRECISION digits, multiplied by the amount, and
only then rounded for display by Frankfurter's rule (its `Roundable`: decimal places by
magnitude): > 5000 → integer, > 80 → 2 places, > 20 → 3, > 1 → 4, > 0.0001 → 5, else 6;
half-even, on the exact Decimal.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

CROSS_PRECISION = 50
_INTEGER_ABOVE, _ONE = Decimal(5000), Decimal(1)
# above each bound, its quantum
_QUANTA = tuple(
    (Decimal(above), Decimal(1).scaleb(-places))
    for above, places in (("80", 2), ("20", 3), ("1", 4), ("0.0001", 5))
)
_SMALLEST = Decimal("0.000001")


def display(value: Decimal) -> int | float:
    """Frankfurter's display rounding, applied once to the exact value."""
    if value > _INTEGER_ABOVE:
        return int(value.quantize(_ONE, rounding=ROUND_HALF_EVEN))
    for above, quantum in _QUANTA:
        if value > above:
            return float(value.quantize(quantum, rounding=ROUND_HALF_EVEN))
    return float(value.quantize(_SMALLEST, rounding=ROUND_HALF_EVEN))


def rebase(
    per_pivot: Mapping[str, Decimal], base: str, quotes: tuple[str, ...] | None, amount: Decimal
) -> dict[str, int | float]:
    """`amount` BASE in each quote (every currency but the base when `quotes` is None), from
    the day's rates per pivot (the pivot's own, 1, included), rounded for display, by code."""
    out: dict[str, int | float] = {}
    with localcontext() as ctx:  # one context for every division of the answer
        ctx.prec = CROSS_PRECISION
        for code in sorted(per_pivot):
            if code == base or (quotes is not None and code not in quotes):
                continue
            out[code] = display(amount * (per_pivot[code] / per_pivot[base]))
    return out
