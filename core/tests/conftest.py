"""Both hot stores for the contract tests: SQLite, and DynamoDB served by moto on loopback."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from makerates_core.hotstore import DynamoHotStore, SqliteHotStore
from makerates_core.settings import Settings

DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "makerates-test",
    "AWS_SECRET_ACCESS_KEY": "makerates-test-secret",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    saved = dict(os.environ)
    os.environ.update(DUMMY_AWS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        os.environ.clear()
        os.environ.update(saved)


def dynamo_settings(endpoint: str) -> Settings:
    return Settings(hot_store="dynamodb", dynamodb_endpoint_url=endpoint)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return SqliteHotStore(str(tmp_path / "hot.sqlite3"))
    return DynamoHotStore(dynamo_settings(request.getfixturevalue("moto_endpoint")))


@pytest.fixture
def table(store) -> str:
    name = f"t{uuid.uuid4().hex[:10]}_rates"
    store.ensure_table(name)
    return name
