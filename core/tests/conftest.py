"""Both hot stores for the contract tests: SQLite, and DynamoDB served by moto on loopback."""

from __future__ import annotations

import uuid

import pytest
from makerates_core.hotstore import DynamoHotStore, SqliteHotStore
from makerates_core.settings import Settings


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
