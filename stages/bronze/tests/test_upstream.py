"""The one fetch helper: retries with backoff on 429/5xx honouring Retry-After, not on 404;
a whole-request deadline; size limits on the wire and decoded."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fault_proxy import Fault, FaultProxy, gzip_bomb
from makerates_bronze import ecb, upstream
from makerates_core.errors import UpstreamError


def test_a_503_with_retry_after_is_waited_out_then_answered(ecb_mirror, limits):
    ecb_mirror.fail_source("frankfurter", 503, times=1, retry_after=2)
    started = time.monotonic()
    body = upstream.get(
        ecb_mirror.frankfurter_base_url + "/v1/latest", limits, "FRANKFURTER_BASE_URL"
    )
    assert time.monotonic() - started >= 2  # the server's Retry-After, not the 1 s backoff
    assert body.startswith(b'{"amount":1.0,"base":"EUR","date":"2026-10-30"')
    assert ecb_mirror.requests == ["/frankfurter/v1/latest"]


def test_a_429_is_retried_and_the_final_failure_is_one_line(ecb_mirror, limits):
    ecb_mirror.fail_source("exchangerate_api", 429, times=2)
    url = ecb_mirror.exchangerate_api_base_url + "/v6/latest/USD"
    with pytest.raises(UpstreamError) as err:
        upstream.get(url, limits, "EXCHANGERATE_API_BASE_URL", attempts=2)
    assert str(err.value).startswith(f"cannot fetch {url}: HTTP 429 Too Many Requests; ")
    assert str(err.value).endswith(
        "check EXCHANGERATE_API_BASE_URL and the network, or retry later"
    )
    assert "exchangerate_api" not in ecb_mirror.failures  # both attempts were made


def test_a_404_is_not_retried(ecb_mirror, limits):
    ecb_mirror.fail_source("frankfurter", 404, times=2)
    with pytest.raises(UpstreamError, match="404"):
        upstream.get(ecb_mirror.frankfurter_base_url + "/v1/latest", limits, "FRANKFURTER_BASE_URL")
    assert ecb_mirror.failures["frankfurter"].times == 1


def test_an_unreachable_host_is_one_line(limits):
    with pytest.raises(UpstreamError) as err:
        upstream.get("http://127.0.0.1:9/x", limits, "ECB_BASE_URL", attempts=1)
    assert str(err.value).startswith("cannot fetch http://127.0.0.1:9/x: ")
    assert "\n" not in str(err.value)


def test_json_keeps_number_literals_and_refuses_other_bodies(ecb_mirror, limits):
    ecb_mirror.fail_source("frankfurter", 200, b'{"rates":{"USD":1.0950,"JPY":163,"X":NaN}}')
    url = ecb_mirror.frankfurter_base_url + "/v1/latest"
    assert upstream.get_json(url, limits, "S") == {
        "rates": {"USD": "1.0950", "JPY": "163", "X": "NaN"}
    }
    ecb_mirror.fail_source("frankfurter", 200, b"[1]")
    with pytest.raises(UpstreamError, match="JSON that is not an object; check S"):
        upstream.get_json(url, limits, "S")
    assert [upstream.text(v) for v in ("1.5", None, True, {"a": 1})] == [
        "1.5",
        None,
        "true",
        '{"a":1}',
    ]


@pytest.fixture
def proxy(ecb_mirror) -> Iterator[FaultProxy]:
    with FaultProxy(ecb_mirror.root_url) as running:
        yield running


def test_a_server_dripping_one_byte_a_second_is_cut_at_the_deadline(proxy, ecb_mirror, limits):
    proxy.add(Fault("drip", delay=1.0))
    url = proxy.proxied(ecb_mirror.base_url + "/eurofxref-daily.xml")
    started = time.monotonic()
    with pytest.raises(UpstreamError) as err:
        upstream.get(url, replace(limits, deadline=3), "ECB_BASE_URL")
    elapsed = time.monotonic() - started
    assert 3 <= elapsed < 4.5  # no socket read ever timed out: the deadline ended it
    assert str(err.value) == (
        f"{url} did not answer in full within HTTP_DEADLINE_SECONDS=3; the source counts as "
        "down for this run; check ECB_BASE_URL and the network, or raise HTTP_DEADLINE_SECONDS"
    )


def test_a_gzip_bomb_is_refused_at_the_decoded_limit(proxy, ecb_mirror, limits):
    bomb = gzip_bomb(200_000_000)
    assert len(bomb) < limits.max_download_bytes < limits.max_document_bytes < 200_000_000
    proxy.add(Fault("status", status=200, body=bomb, headers={"Content-Encoding": "gzip"}))
    url = proxy.proxied(ecb_mirror.base_url + "/eurofxref-daily.xml")
    with pytest.raises(UpstreamError) as err:
        upstream.get(url, limits, "ECB_BASE_URL")
    assert str(err.value) == (
        f"{url} is larger than HTTP_MAX_DOCUMENT_BYTES={limits.max_document_bytes} bytes "
        "(decoded); nothing of it was loaded; check ECB_BASE_URL, or raise "
        "HTTP_MAX_DOCUMENT_BYTES if the document is genuine"
    )


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-length"])
def test_a_body_over_the_download_limit_is_refused(proxy, ecb_mirror, limits, declared):
    small = replace(limits, max_download_bytes=1_000_000)
    body = bytes(2_000_000)
    if declared:
        proxy.add(Fault("status", status=200, body=body))
    else:  # the same bytes gzipped small on the wire, so only the decoded count can say
        small = replace(small, max_document_bytes=1_500_000)
        proxy.add(
            Fault(
                "status",
                status=200,
                body=gzip_bomb(2_000_000),
                headers={"Content-Encoding": "gzip"},
            )
        )
    url = proxy.proxied(ecb_mirror.base_url + "/eurofxref-daily.xml")
    with pytest.raises(UpstreamError, match=r"is larger than HTTP_MAX_(DOWNLOAD|DOCUMENT)_BYTES"):
        upstream.get(url, small, "ECB_BASE_URL")


def test_an_ecb_zip_that_inflates_past_the_limit_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("eurofxref-hist.csv", b"Date,USD\n" + bytes(5_000_000))
    with pytest.raises(UpstreamError) as err:
        list(ecb.parse_history_zip(buffer.getvalue(), "http://x/eurofxref-hist.zip", 1_000_000))
    assert str(err.value).startswith(
        "http://x/eurofxref-hist.zip is larger than HTTP_MAX_DOCUMENT_BYTES=1000000 bytes (inflated)"
    )
