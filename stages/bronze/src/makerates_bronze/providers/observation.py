"""What an official provider's document says: one published rate, exactly as published."""

from __future__ import annotations

from typing import NamedTuple


class Observation(NamedTuple):
    """One published quote of `currency` against the provider's pivot (the registry's `pivot`).

    `rate` is the document's own string ("1.3512", never a float). By default it is the
    pivot's units for `units` units of `currency` (CAD per 1 USD; CZK per 100 JPY, units
    "100"); `inverse` marks a provider that publishes the other way round (units of `currency`
    per 1 pivot, as the RBA does). Silver converts with one exact division.
    """

    rate_date: str  # "YYYY-MM-DD"
    currency: str  # the code as published ("USD"); silver checks it is ISO 4217
    rate: str  # the published string
    units: str = "1"  # the published scale, as a string ("1", "100", "10000")
    inverse: bool = False  # True: `rate` is currency units per 1 pivot
