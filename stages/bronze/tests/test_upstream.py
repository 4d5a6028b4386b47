"""The one fetch helper: retries with backoff on 429/5xx honouring Retry-After, not on 404."""

from __future__ import annotations

import time

import pytest
from makerates_bronze import upstream
from makerates_core.errors import UpstreamError


def test_a_503_with_retry_after_is_waited_out_then_answered(ecb_mirror):
    ecb_mirror.fail_source("frankfurter", 503, times=1, retry_after=2)
    started = time.monotonic()
    body = upstream.get(ecb_mirror.frankfurter_base_url + "/v1/latest", 5, "FRANKFURTER_BASE_URL")
    assert time.monotonic() - started >= 2  # the server's Retry-After, not the 1 s backoff
    assert body.startswith(b'{"amount":1.0,"base":"EUR","date":"2026-10-30"')
    assert ecb_mirror.requests == ["/frankfurter/v1/latest"]


def test_a_429_is_retried_and_the_final_failure_is_one_line(ecb_mirror):
    ecb_mirror.fail_source("exchangerate_api", 429, times=2)
    url = ecb_mirror.exchangerate_api_base_url + "/v6/latest/USD"
    with pytest.raises(UpstreamError) as err:
        upstream.get(url, 5, "EXCHANGERATE_API_BASE_URL", attempts=2)
    assert str(err.value).startswith(f"cannot fetch {url}: HTTP 429 Too Many Requests; ")
    assert str(err.value).endswith(
        "check EXCHANGERATE_API_BASE_URL and the network, or retry later"
    )
    assert "exchangerate_api" not in ecb_mirror.failures  # both attempts were made


def test_a_404_is_not_retried(ecb_mirror):
    ecb_mirror.fail_source("frankfurter", 404, times=2)
    with pytest.raises(UpstreamError, match="404"):
        upstream.get(ecb_mirror.frankfurter_base_url + "/v1/latest", 5, "FRANKFURTER_BASE_URL")
    assert ecb_mirror.failures["frankfurter"].times == 1


def test_an_unreachable_host_is_one_line():
    with pytest.raises(UpstreamError) as err:
        upstream.get("http://127.0.0.1:9/x", 1, "ECB_BASE_URL", attempts=1)
    assert str(err.value).startswith("cannot fetch http://127.0.0.1:9/x: ")
    assert "\n" not in str(err.value)


def test_json_keeps_number_literals_and_refuses_other_bodies(ecb_mirror):
    ecb_mirror.fail_source("frankfurter", 200, b'{"rates":{"USD":1.0950,"JPY":163,"X":NaN}}')
    url = ecb_mirror.frankfurter_base_url + "/v1/latest"
    assert upstream.get_json(url, 5, "S") == {"rates": {"USD": "1.0950", "JPY": "163", "X": "NaN"}}
    ecb_mirror.fail_source("frankfurter", 200, b"[1]")
    with pytest.raises(UpstreamError, match="JSON that is not an object; check S"):
        upstream.get_json(url, 5, "S")
    assert [upstream.text(v) for v in ("1.5", None, True, {"a": 1})] == [
        "1.5",
        None,
        "true",
        '{"a":1}',
    ]
