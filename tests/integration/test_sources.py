"""Three sources through the whole pipeline: the backup fills a day the ECB missed, the
independent source adds currencies and is cross-checked, and every answer says its source."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ecb_mirror import History

HISTORY = History.shipped().by_day()
MISSED = "2026-10-28"  # a Wednesday the ECB's documents leave out in this test


def test_backup_fills_a_missed_day_and_a_skewed_independent_rate_is_flagged(deployment, ecb_mirror):
    ecb_mirror.set_as_of(date(2026, 10, 30))
    ecb_mirror.drop_ecb_day(MISSED)
    ecb_mirror.skew_erapi("JPY", "1.02")

    results = deployment.pipeline()

    bronze = results["bronze"].outputs
    assert bronze["missing_sources"] == []
    silver = results["silver"].outputs
    assert silver["rows_frankfurter"] == len(HISTORY[MISSED])
    assert silver["rows_flagged"] == 1  # JPY, 2% off the ECB on 2026-10-30: flagged, kept
    assert silver["rows_exchangerate_api"] > 100

    filled = deployment.rate("EUR", "USD", MISSED)
    assert (filled["rate"], filled["rate_date"], filled["source"]) == (
        HISTORY[MISSED]["USD"],
        MISSED,
        "frankfurter",
    )
    jpy = deployment.rate("EUR", "JPY", "2026-10-30")
    assert jpy["rate"] == HISTORY["2026-10-30"]["JPY"] and "source" not in jpy
    aed = deployment.rate("EUR", "AED", "2026-10-30")
    assert aed["source"] == "exchangerate_api"
    aed_per_usd = Decimal(aed["rate"]) / Decimal(HISTORY["2026-10-30"]["USD"])
    assert abs(aed_per_usd / Decimal("3.6725") - 1) < Decimal("0.0001")  # the provider's quote


def test_one_source_down_leaves_the_others_published_and_says_which(deployment, ecb_mirror):
    ecb_mirror.set_as_of(date(2026, 10, 30))
    ecb_mirror.fail_source("exchangerate_api", 503)

    results = deployment.pipeline()

    assert results["bronze"].returncode == 0
    assert results["bronze"].outputs["missing_sources"] == ["exchangerate_api"]  # it failed
    assert "sources failed: exchangerate_api" in results["bronze"].stderr
    assert deployment.rate("EUR", "USD")["rate"] == HISTORY["2026-10-30"]["USD"]
    missing = results["silver"].outputs["missing_sources"]  # sources bronze has no file of
    assert "exchangerate_api" in missing and not {"ecb", "frankfurter"} & set(missing)
