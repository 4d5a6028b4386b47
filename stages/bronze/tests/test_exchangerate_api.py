"""ExchangeRate-API's open access: the snapshot as published, appended once per update."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import date
from decimal import Decimal

import pytest
from bronze_helpers import completed_rows
from makerates_bronze import exchangerate_api
from makerates_bronze.pipeline import load
from makerates_core.errors import UpstreamError

D = date.fromisoformat
TABLE = "exchangerate_api_rates"
NON_ECB = ("AED", "ARS", "EGP", "NGN", "SAR", "VND", "FOK", "GGP", "IMP", "JEP", "KID", "TVD")


def body(mirror) -> bytes:
    with urllib.request.urlopen(mirror.exchangerate_api_base_url + exchangerate_api.PATH) as r:
        return r.read()


def literals(raw: bytes) -> dict[str, str]:
    """{currency: the number exactly as written in the body}."""
    rates = raw.decode().split('"rates":{', 1)[1].rstrip("}")
    return dict(re.findall(r'"([A-Z]{3})":([^,]+)', rates))


def test_a_snapshot_gives_its_rates_as_written_and_its_utc_day():
    snapshot = exchangerate_api.parse(
        json.loads(
            '{"result":"success","time_last_update_unix":1711584151,"base_code":"USD",'
            '"rates":{"USD":1,"EUR":0.924984,"AED":3.6725}}',
            parse_float=str,
            parse_int=str,
        ),
        "u",
    )
    assert snapshot.base == "USD"
    assert snapshot.published_at == "2024-03-28T00:02:31+00:00"
    assert snapshot.rates == [
        ("2024-03-28", "USD", "1"),
        ("2024-03-28", "EUR", "0.924984"),
        ("2024-03-28", "AED", "3.6725"),
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"result": "error", "error-type": "unsupported-code"},
            "http://x/v6/latest/USD answered result='error' (unsupported-code); "
            "check EXCHANGERATE_API_BASE_URL, or retry later",
        ),
        ({"result": "success"}, "answered JSON without `rates`"),
        ({"result": "success", "rates": {}}, "has no valid time_last_update_unix"),
        (
            {"result": "success", "rates": {}, "time_last_update_unix": "soon"},
            "has no valid time_last_update_unix",
        ),
    ],
)
def test_an_error_or_another_shape_is_one_line(document, message):
    with pytest.raises(UpstreamError, match=re.escape(message)) as err:
        exchangerate_api.parse(document, "http://x/v6/latest/USD")
    assert "\n" not in str(err.value)


def test_the_mirror_serves_the_recorded_shape_with_the_ecbs_rates_of_the_day(
    ecb_mirror, ecb_history
):
    ecb_mirror.set_as_of("2024-03-30")  # a Saturday: the ECB's newest day is Thursday
    raw = body(ecb_mirror)
    payload = json.loads(raw)
    assert list(payload)[:4] == ["result", "provider", "documentation", "terms_of_use"]
    assert payload["time_last_update_utc"] == "Sat, 30 Mar 2024 00:02:31 +0000"
    assert payload["time_eol_unix"] == 0 and payload["base_code"] == "USD"
    rates = literals(raw)
    assert len(rates) == len(payload["rates"]) == 162
    assert set(NON_ECB) <= set(rates)
    ecb = ecb_history.by_day()["2024-03-28"]
    usd = Decimal(ecb["USD"])
    assert rates["USD"] == "1"
    for currency in set(ecb) & set(rates) - {"USD"}:
        assert Decimal(rates[currency]) == pytest.approx(
            Decimal(ecb[currency]) / usd, rel=Decimal("1e-5")
        )
    assert Decimal(rates["EUR"]) == pytest.approx(1 / usd, rel=Decimal("1e-6"))

    ecb_mirror.skew_erapi("JPY", "1.02")
    skewed = literals(body(ecb_mirror))
    assert Decimal(skewed["JPY"]) / Decimal(rates["JPY"]) == pytest.approx(Decimal("1.02"))
    assert {c: v for c, v in skewed.items() if c != "JPY"} == {
        c: v for c, v in rates.items() if c != "JPY"
    }


def test_run_appends_each_snapshot_once(settings, lake, ecb_mirror, tmp_path):
    ecb_mirror.set_as_of("2024-03-28")
    first = load(settings, "exchangerate_api", pipelines_dir=tmp_path / "dlt")
    rows = completed_rows(lake, TABLE)
    expected = literals(body(ecb_mirror))
    assert {r["currency"]: r["rate"] for r in rows} == expected  # the literal text, never a float
    assert first.rows_loaded == len(rows) == 162
    assert first.document == "/v6/latest/USD"
    assert first.max_rate_date == "2024-03-28"
    assert {(r["rate_date"], r["base"], r["published_at"]) for r in rows} == {
        ("2024-03-28", "USD", "2024-03-28T00:02:31+00:00")
    }
    columns = {"rate_date", "currency", "rate", "base", "published_at", "extracted_at"}
    assert {frozenset(r) for r in rows} == {frozenset({*columns, "_dlt_load_id", "_dlt_id"})}

    again = load(settings, "exchangerate_api", pipelines_dir=tmp_path / "fresh")  # from the lake
    assert again.rows_loaded == 0

    ecb_mirror.set_as_of("2024-03-29")  # Good Friday: no ECB rates, but the provider updates
    new = load(settings, "exchangerate_api", pipelines_dir=tmp_path / "dlt")
    new_rows = [r for r in completed_rows(lake, TABLE) if r["_dlt_load_id"] == new.load_id]
    assert new.rows_loaded == len(new_rows) == 162
    assert {r["rate_date"] for r in new_rows} == {"2024-03-29"}
