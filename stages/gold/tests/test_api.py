"""The Frankfurter v1 compatible API over real HTTP (uvicorn on loopback, httpx), both stores."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, localcontext

import httpx
import pytest
import uvicorn
from makerates_core.hotstore import SqliteHotStore
from makerates_gold import http_cache
from makerates_gold.api import create_app
from makerates_gold.display import display
from makerates_gold.sync import sync


@contextmanager
def served(app) -> Iterator[httpx.Client]:
    """`app` under uvicorn on a loopback port of its own, and a client of it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        yield client
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def api(deployment, q1_2024) -> Iterator[httpx.Client]:
    with served(create_app(deployment.settings)) as client:
        yield client


def exact(numerator: str, denominator: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 50
        return Decimal(numerator) / Decimal(denominator)


def test_latest_in_euro(api, q1_2024):
    response = api.get("/v1/latest")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["amount", "base", "date", "rates"]
    assert (body["amount"], body["base"], body["date"]) == (1.0, "EUR", "2024-03-28")
    assert body["rates"]["USD"] == 1.0811 == float(q1_2024["2024-03-28"]["USD"])
    assert "EUR" not in body["rates"]
    assert set(body["rates"]) == set(q1_2024["2024-03-28"])


def test_a_weekend_answers_with_friday_and_cross_rates_round_once(api, q1_2024):
    friday = q1_2024["2024-03-15"]
    body = api.get("/v1/2024-03-16", params={"from": "USD", "to": "JPY,EUR,GBP"}).json()
    assert body["date"] == "2024-03-15"
    assert body["base"] == "USD"
    assert list(body["rates"]) == ["EUR", "GBP", "JPY"]
    assert body["rates"]["JPY"] == display(exact(friday["JPY"], friday["USD"])) == 148.76
    assert body["rates"]["EUR"] == display(exact("1", friday["USD"]))
    alias = api.get("/v1/2024-03-16", params={"base": "USD", "symbols": "JPY,EUR,GBP"})
    assert alias.json() == body


def test_amount_multiplies_the_exact_rate_before_rounding(api, q1_2024):
    friday = q1_2024["2024-03-15"]
    body = api.get("/v1/2024-03-15", params={"from": "GBP", "to": "IDR", "amount": "3"}).json()
    with localcontext() as ctx:
        ctx.prec = 50
        value = Decimal(3) * exact(friday["IDR"], friday["GBP"])
    assert body["amount"] == 3.0
    assert body["rates"] == {"IDR": display(value)}
    assert isinstance(body["rates"]["IDR"], int)


def test_display_rounding_follows_frankfurter_bands():
    assert display(Decimal("16345.678")) == 16346
    assert display(Decimal("148.76055")) == 148.76
    assert display(Decimal("25.12345")) == 25.123
    assert display(Decimal("1.088888")) == 1.0889
    assert display(Decimal("0.918105")) == 0.9181
    assert display(Decimal("0.0000612345")) == 0.000061
    bounds = {"5000.5": 5000, "5000": 5000.0, "80": 80.0, "20.00051": 20.001, "20": 20.0}
    bounds |= {"1.000051": 1.0001, "1": 1.0, "0.00010001": 0.0001, "0.0001": 0.0001}
    for text, shown in bounds.items():  # each band is "above its bound"
        assert display(Decimal(text)) == shown and type(display(Decimal(text))) is type(shown)


def test_ranges(api, q1_2024):
    body = api.get("/v1/2024-03-09..2024-03-13", params={"to": "USD"}).json()
    assert list(body) == ["amount", "base", "start_date", "end_date", "rates"]
    assert (body["start_date"], body["end_date"]) == ("2024-03-11", "2024-03-13")
    assert body["rates"] == {
        d: {"USD": float(q1_2024[d]["USD"])} for d in ("2024-03-11", "2024-03-12", "2024-03-13")
    }
    open_ended = api.get("/v1/2024-03-25..", params={"from": "USD", "to": "CHF"}).json()
    assert (open_ended["start_date"], open_ended["end_date"]) == ("2024-03-25", "2024-03-28")
    assert len(open_ended["rates"]) == 4


def test_answers_kept_rendered_follow_a_republished_day(deployment, ecb):
    """A day answer is kept under its item's content hash, a range under its years' hashes:
    a sync that changes a rate changes both answers, and their ETags."""
    days = ecb("2024-03-01", "2024-03-28")
    deployment.publish("silver-1", days)
    sync(deployment.settings, deployment.store())
    asked = [("/v1/2024-03-15", "USD"), ("/v1/2024-03-11..2024-03-15", "USD"), ("/v1/latest", "")]
    with served(create_app(deployment.settings)) as api:
        before = [api.get(path, params={"to": to} if to else {}) for path, to in asked]
        assert [a.json() for a in before] == [
            api.get(path, params={"to": to} if to else {}).json() for path, to in asked
        ]
        days["2024-03-15"]["USD"] = "1.2345"
        days["2024-03-28"]["JPY"] = "111.11"
        deployment.publish("silver-2", days)
        sync(deployment.settings, deployment.store())
        after = [api.get(path, params={"to": to} if to else {}) for path, to in asked]
    assert after[0].json()["rates"] == {"USD": 1.2345}
    assert after[1].json()["rates"]["2024-03-15"] == {"USD": 1.2345}
    assert after[2].json()["rates"]["JPY"] == 111.11
    assert all(a.headers["ETag"] != b.headers["ETag"] for a, b in zip(after, before, strict=True))


def test_rendered_answers_are_bounded_by_their_bytes():
    kept = http_cache.Rendered(max_bytes=10)
    renders: list[str] = []

    def render(body: bytes):
        def rendered():
            renders.append(body.decode())
            return body, {}

        return rendered

    assert kept.get("a", render(b"aaaa")) == (b"aaaa", {})
    assert kept.get("a", render(b"other")) == (b"aaaa", {})  # kept: not rendered again
    kept.get("b", render(b"bbbb"))
    kept.get("a", render(b"aaaa"))  # a is now the most recently used
    kept.get("c", render(b"cccc"))  # 12 bytes > 10: b, the least recently used, goes
    assert kept.size == 8
    kept.get("a", render(b"aaaa"))
    kept.get("b", render(b"bbbb"))
    kept.get("huge", render(b"x" * 11))  # larger than the whole bound: answered, not kept
    kept.get("huge", render(b"x" * 11))
    assert renders == ["aaaa", "bbbb", "cccc", "bbbb", "x" * 11, "x" * 11]

    def failing():
        raise ValueError("no answer")

    with pytest.raises(ValueError):
        kept.get("d", failing)
    assert kept.get("d", render(b"dd")) == (b"dd", {})


class ThreadNoting(SqliteHotStore):
    """The SQLite store, noting the thread each query runs in."""

    def __init__(self, path: str):
        super().__init__(path)
        self.threads: list[int] = []

    def query(self, *args, **kwargs):
        self.threads.append(threading.get_ident())
        return super().query(*args, **kwargs)


def test_a_range_up_to_a_year_runs_in_the_event_loop_a_longer_one_in_the_threadpool(
    make_deployment, ecb
):
    deployment = make_deployment("sqlite")
    deployment.publish("silver-q1", ecb("2024-01-01", "2024-03-31"))
    sync(deployment.settings, deployment.store())
    store = ThreadNoting(deployment.settings.hot_store)
    with served(create_app(deployment.settings, store=store)) as api:
        for path in ("/v1/2023-04-01..2024-03-31", "/v1/2024-03-01..2024-03-08"):
            assert api.get(path, params={"to": "USD"}).status_code == 200
        short = set(store.threads)
        assert len(short) == 1  # both in the one event-loop thread
        store.threads.clear()
        assert api.get("/v1/1999-01-04..2024-03-31", params={"to": "USD"}).status_code == 200
    assert store.threads and set(store.threads).isdisjoint(short)


def test_currencies(api):
    body = api.get("/v1/currencies").json()
    assert body["EUR"] == "Euro"
    assert body["USD"] == "US Dollar"  # ISO 4217's name, from silver's seed
    assert list(body) == sorted(body)


@pytest.mark.parametrize(
    ("path", "params", "status", "named"),
    [
        ("/v1/latest", {"from": "XYZ"}, 404, "XYZ"),
        ("/v1/latest", {"to": "XYZ"}, 404, "XYZ"),
        ("/v1/latest", {"to": "USD,X1"}, 404, "X1"),
        ("/v1/1999-01-01", {}, 404, "1999-01-04"),
        ("/v1/1998-01-01..1998-02-01", {}, 404, "1998-01-01"),
        ("/v1/2024-03-20..2024-03-10", {}, 404, "after its end"),
        ("/v1/not-a-date", {}, 404, "YYYY-MM-DD"),
        ("/v1/latest", {"amount": "0"}, 422, "'0'"),
        ("/v1/latest", {"amount": "-3"}, 422, "'-3'"),
        ("/v1/latest", {"amount": "abc"}, 422, "'abc'"),
        ("/v1/latest", {"amount": "NaN"}, 422, "'NaN'"),
        ("/v1/latest", {"amount": "Infinity"}, 422, "'Infinity'"),
        ("/v1/latest", {"amount": "1e50"}, 422, "1,000,000,000,000,000"),
        ("/v1/latest", {"amount": "1e-400"}, 422, "0.0001"),
        ("/v1/latest", {"amount": "9" * 65}, 422, "64 characters"),
        ("/v1/latest", {"from": "USD", "to": "USD"}, 422, "differ"),
        ("/v1/2024-03-15", {"base": "GBP", "symbols": "GBP"}, 422, "differ"),
    ],
)
def test_errors(api, path, params, status, named):
    """Every problem is a 4xx whose message says what was wrong (Frankfurter: "not found")."""
    response = api.get(path, params=params)
    assert response.status_code == status
    message = response.json()["message"]
    assert named in message
    assert message.startswith("not found: ") == (status == 404)


def test_the_largest_amount_is_converted_exactly(api):
    """A quadrillion euros in yen: every digit of amount * rate, rounded as documented."""
    body = api.get("/v1/2024-03-15", params={"amount": "1e15", "to": "JPY"}).json()
    day = api.get("/v1/2024-03-15", params={"to": "JPY"}).json()
    assert body["rates"]["JPY"] == int(Decimal(repr(day["rates"]["JPY"])) * 10**15)


def test_cache_headers_and_conditional_get(api):
    first = api.get("/v1/2024-03-15")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=86400"
    assert api.get("/v1/latest").headers["cache-control"] == "public, max-age=300"
    again = api.get("/v1/2024-03-15", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = api.get("/v1/2024-03-15", params={"to": "USD"})
    assert other.headers["etag"] != etag


def test_openapi_document(api):
    spec = api.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {"/v1/latest", "/v1/currencies", "/v1/{spec}"} <= set(spec["paths"])
    names = {p["name"] for p in spec["paths"]["/v1/latest"]["get"]["parameters"]}
    assert {"from", "base", "to", "symbols", "amount"} <= names


@pytest.mark.parametrize("workers", ["1", "2"])
def test_makerates_serve_answers_over_http(deployment, q1_2024, workers):
    import subprocess
    import sys
    from pathlib import Path

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    program = str(Path(sys.executable).parent / "makerates")
    process = subprocess.Popen(
        [program, "serve", "--port", str(port), "--workers", workers],
        env=deployment.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/v1/latest?to=USD", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "makerates serve did not start"
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json()["rates"] == {"USD": 1.0811}
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_their_assets_from_the_api_itself(api, page):
    """No CDN: every script and stylesheet a docs page names is served by the API."""
    html = api.get(page).text
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert assets and all(a.startswith("/") for a in assets), assets
    for asset in assets:
        response = api.get(asset)
        assert response.status_code == 200 and len(response.content) > 10_000, asset


def test_the_root_names_the_versions_and_the_docs(api):
    body = api.get("/").json()
    assert body["versions"] == {"v1": "/v1/latest"}
    assert api.get(body["versions"]["v1"]).status_code == 200
    assert all(api.get(path).status_code == 200 for path in body["docs"].values())
