"""Parsing the ECB's documents: every value equals the published string; N/A is no record."""

from __future__ import annotations

import pytest
from bronze_helpers import published
from makerates_bronze import ecb
from makerates_core.errors import UpstreamError


def test_history_zip_gives_every_published_rate_as_its_string(ecb_history):
    rates = list(ecb.parse_history_zip(ecb_history.raw_zip, "hist.zip", 10**8))
    assert set(rates) == published(ecb_history, "1999-01-04", "2026-10-30")
    assert len(rates) == len(set(rates)) > 190_000
    assert all(isinstance(r.rate, str) for r in rates)
    first_day = {r.currency: r.rate for r in rates if r.rate_date == "1999-01-04"}
    assert first_day["USD"] == "1.1789"
    assert first_day["TRL"] == "372274"
    assert "BGN" not in first_day  # published as N/A that day: not a record
    assert not [r for r in rates if r.rate in ("N/A", "")]


def test_trailing_zeros_and_spaces_are_kept_as_published():
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "eurofxref-hist.csv", "Date,USD,JPY,BGN,\n2024-01-02,1.0950, 120.10,N/A,\n"
        )
    rates = list(ecb.parse_history_zip(buffer.getvalue(), "x", 10**8))
    assert rates == [("2024-01-02", "USD", "1.0950"), ("2024-01-02", "JPY", " 120.10")]


def test_daily_and_90_day_xml_equal_the_history(ecb_mirror, ecb_history, limits):
    ecb_mirror.set_as_of("2024-03-28")
    daily = ecb.parse_xml(ecb.fetch(ecb_mirror.base_url, ecb.DAILY, limits), "daily")
    assert set(daily) == published(ecb_history, "2024-03-28", "2024-03-28")
    assert ("2024-03-28", "USD", "1.0811") in daily

    ninety = ecb.parse_xml(ecb.fetch(ecb_mirror.base_url, ecb.NINETY_DAYS, limits), "90d")
    assert ecb.days(ninety)[0] == "2024-01-02"
    assert ecb.days(ninety)[-1] == "2024-03-28"
    assert set(ninety) == published(ecb_history, "2023-12-30", "2024-03-28")


def test_a_document_that_is_not_the_ecbs_fails_in_one_line():
    with pytest.raises(UpstreamError, match="is not XML") as err:
        ecb.parse_xml(b"<html", "http://x/eurofxref-daily.xml")
    assert "\n" not in str(err.value)
    with pytest.raises(UpstreamError, match="not an ECB rates document"):
        ecb.parse_xml(b"<html><body/></html>", "http://x/eurofxref-daily.xml")
    with pytest.raises(UpstreamError, match="not the ECB history zip"):
        list(ecb.parse_history_zip(b"PK nonsense", "http://x/eurofxref-hist.zip", 10**8))


def test_an_unreachable_or_wrong_url_names_the_url_and_what_to_do(ecb_mirror, limits):
    wrong = ecb_mirror.base_url.replace("/stats/", "/nowhere/")
    with pytest.raises(UpstreamError) as err:
        ecb.fetch(wrong, ecb.DAILY, limits)
    message = str(err.value)
    assert f"{wrong}/eurofxref-daily.xml" in message
    assert "404" in message and "ECB_BASE_URL" in message
    assert "\n" not in message


def test_server_errors_are_retried_then_reported(ecb_mirror, limits):
    ecb_mirror.fail_with = 503
    with pytest.raises(UpstreamError, match="503"):
        ecb.fetch(ecb_mirror.base_url, ecb.DAILY, limits, attempts=2)
