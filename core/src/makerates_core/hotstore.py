"""The hot tier: DynamoDB, or a local SQLite file that behaves the same for our access patterns.

Every table has a string partition key `pk` and a string sort key `sk`. Items are plain dicts
whose numbers are `Decimal` (a float is refused, as DynamoDB's own serializer refuses it). The
file-backed store keeps items in DynamoDB's JSON form, so both stores round-trip the same values.
"""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import wraps
from pathlib import Path
from typing import Any, Protocol, TypeVar

import boto3
from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from makerates_core.errors import UpstreamError
from makerates_core.settings import Settings

Item = dict[str, Any]
T = TypeVar("T")
BATCH_SIZE = 25
MAX_ITEM_BYTES = 400 * 1024
MISSING = "ResourceNotFoundException"
THROTTLING = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
}

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _wire_value(value: Any) -> dict[str, Any]:
    """One value in DynamoDB's JSON form: strings, finite numbers and maps directly (the hot
    path of a sync: ~30 rates an item), the rest through boto3's TypeSerializer, which also
    refuses floats. Numbers pass DynamoDB's own context (38 digits, never rounded), as there."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int or (kind is Decimal and value.is_finite()):
        return {"N": str(DYNAMODB_CONTEXT.create_decimal(value))}
    if kind is dict:
        return {"M": {key: _wire_value(inner) for key, inner in value.items()}}
    return _serializer.serialize(value)


def to_wire(item: Item) -> dict[str, Any]:
    try:
        return {key: _wire_value(value) for key, value in item.items()}
    except TypeError as exc:
        raise TypeError(
            f"item {item.get('pk')}/{item.get('sk')} cannot be stored: {exc} "
            "(numbers must be Decimal or int, never float)"
        ) from exc


def _plain_value(wire: dict[str, Any]) -> Any:
    """One value from DynamoDB's JSON form: strings, numbers and maps directly (a read's hot
    path: thousands of rates a range), the rest through boto3's TypeDeserializer. A stored
    number has at most DynamoDB's 38 digits, so `Decimal(text)` is exactly what the
    deserializer's context would make of it."""
    if "N" in wire:
        return Decimal(wire["N"])
    if "S" in wire:
        return wire["S"]
    if "M" in wire:
        return {key: _plain_value(inner) for key, inner in wire["M"].items()}
    return _deserializer.deserialize(wire)


def from_wire(wire: dict[str, Any]) -> Item:
    return {key: _plain_value(value) for key, value in wire.items()}


def unique_by_key(items: Iterable[Item]) -> list[Item]:
    """Collapse items with the same (pk, sk), the last one winning, as sequential puts would.

    DynamoDB rejects a BatchWriteItem that names one key twice; some emulators accept it.
    """
    by_key: dict[tuple[str, str], Item] = {}
    for item in items:
        by_key[(item["pk"], item["sk"])] = item
    return list(by_key.values())


def checked_json(wire: dict[str, Any]) -> str:
    """The wire form as compact JSON, refused when over DynamoDB's item limit."""
    text = json.dumps(wire, separators=(",", ":"))
    size = len(text.encode("utf-8"))
    if size > MAX_ITEM_BYTES:
        raise UpstreamError(
            f"item {wire['pk']['S']}/{wire['sk']['S']} is {size} bytes, over DynamoDB's 400 KB "
            "item limit; split it before writing"
        )
    return text


class HotStore(Protocol):
    """What the stages and readers need from the hot tier, and nothing more."""

    def ensure_table(self, table: str) -> None: ...

    def put_items(self, table: str, items: Iterable[Item]) -> int: ...

    def get_item(self, table: str, pk: str, sk: str) -> Item | None: ...

    def batch_get(self, table: str, keys: list[tuple[str, str]]) -> list[Item]: ...

    def query(
        self,
        table: str,
        pk: str,
        *,
        sk_min: str | None = None,
        sk_max: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        attributes: list[str] | None = None,
    ) -> Iterator[Item]: ...

    def describe(self) -> str: ...


class DynamoHotStore:
    """The hot tier on DynamoDB (AWS or DynamoDB Local).

    Writes go out as BatchWriteItems of 25 from `write_workers` threads (a boto3 client is
    thread-safe): one request at a time leaves the store waiting on each round trip.
    """

    def __init__(
        self,
        settings: Settings,
        max_attempts: int = 8,
        base_delay: float = 0.05,
        write_workers: int = 4,
    ):
        self.endpoint = settings.dynamodb_endpoint_url
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.write_workers = write_workers
        # A session of its own: boto3's default session keeps the first credentials it
        # resolved for the life of the process; this one reads the environment as it is now.
        self.client = boto3.session.Session().client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name=settings.aws_region,
            config=Config(
                connect_timeout=5,
                read_timeout=30,
                retries={"mode": "standard", "max_attempts": 3},
                # botocore's client-side check walks every attribute of every item (a third
                # of a sync's CPU); the items are ours and DynamoDB validates them anyway.
                parameter_validation=False,
                max_pool_connections=max(10, write_workers),
            ),
        )
        self._known_tables: set[str] = set()

    def describe(self) -> str:
        return f"DynamoDB at {self.endpoint or 'AWS'}"

    def _call(self, operation: str, *, allow: Iterable[str] = (), **kwargs) -> dict[str, Any]:
        """One API call; every failure becomes a one-line UpstreamError.

        A ClientError whose code is in `allow` is re-raised as is, for the caller to handle
        (throttling, a table that does not exist yet).
        """
        try:
            return getattr(self.client, operation)(**kwargs)
        except EndpointConnectionError as exc:
            raise UpstreamError(
                f"cannot reach {self.describe()}; start it or fix DYNAMODB_ENDPOINT_URL"
            ) from exc
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") in set(allow):
                raise
            raise UpstreamError(
                f"{self.describe()} refused {operation}: {error.get('Code', '?')}: "
                f"{error.get('Message', exc)}"
            ) from exc
        except BotoCoreError as exc:
            raise UpstreamError(f"{self.describe()} failed during {operation}: {exc}") from exc

    def ensure_table(self, table: str) -> None:
        if table in self._known_tables:
            return
        try:
            self._call("describe_table", allow={MISSING}, TableName=table)
        except ClientError:
            # ResourceInUseException: a concurrent run created it meanwhile; wait for it below.
            with contextlib.suppress(ClientError):
                self._call(
                    "create_table",
                    allow={"ResourceInUseException"},
                    TableName=table,
                    AttributeDefinitions=[
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": "sk", "AttributeType": "S"},
                    ],
                    KeySchema=[
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    BillingMode="PAY_PER_REQUEST",
                )
            try:
                self.client.get_waiter("table_exists").wait(
                    TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
                )
            except BotoCoreError as exc:  # WaiterError, connection errors
                raise UpstreamError(
                    f"table {table} did not become active on {self.describe()}: {exc}"
                ) from exc
        self._known_tables.add(table)

    def _backoff(self, attempt: int) -> None:
        time.sleep(random.uniform(0, self.base_delay * 2**attempt))

    def put_items(self, table: str, items: Iterable[Item]) -> int:
        wires = [to_wire(item) for item in unique_by_key(items)]
        for wire in wires:
            checked_json(wire)
        batches = [
            [{"PutRequest": {"Item": w}} for w in wires[start : start + BATCH_SIZE]]
            for start in range(0, len(wires), BATCH_SIZE)
        ]
        workers = min(self.write_workers, len(batches))
        if workers <= 1:
            for batch in batches:
                self._write_batch(table, batch)
            return len(wires)
        pool = ThreadPoolExecutor(workers, thread_name_prefix="batch-write")
        try:
            for done in [pool.submit(self._write_batch, table, batch) for batch in batches]:
                done.result()  # raises the first failure; shutdown cancels what has not started
        finally:
            pool.shutdown(cancel_futures=True)
        return len(wires)

    def _write_batch(self, table: str, pending: list[dict[str, Any]]) -> None:
        for attempt in range(self.max_attempts):
            try:
                response = self._call(
                    "batch_write_item", allow=THROTTLING, RequestItems={table: pending}
                )
            except ClientError:
                pass  # throttled: back off and send the same batch again
            else:
                pending = response.get("UnprocessedItems", {}).get(table, [])
                if not pending:
                    return
            self._backoff(attempt)
        raise UpstreamError(
            f"{self.describe()} kept throttling writes to {table} after {self.max_attempts} "
            "tries; re-run later (the sync resumes where it stopped) or raise the table's capacity"
        )

    def get_item(self, table: str, pk: str, sk: str) -> Item | None:
        """The item, or None when it (or its table) does not exist."""
        try:
            response = self._call(
                "get_item", allow={MISSING}, TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}
            )
        except ClientError:
            return None
        return from_wire(response["Item"]) if "Item" in response else None

    def batch_get(self, table: str, keys: list[tuple[str, str]]) -> list[Item]:
        found: list[Item] = []
        unique_keys = list(dict.fromkeys(keys))
        for start in range(0, len(unique_keys), 100):
            pending = {
                table: {
                    "Keys": [
                        {"pk": {"S": p}, "sk": {"S": s}}
                        for p, s in unique_keys[start : start + 100]
                    ]
                }
            }
            for attempt in range(self.max_attempts):
                try:
                    response = self._call("batch_get_item", allow={MISSING}, RequestItems=pending)
                except ClientError:
                    return []  # no such table: nothing to find
                found.extend(from_wire(w) for w in response["Responses"].get(table, []))
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
                self._backoff(attempt)
            else:
                raise UpstreamError(f"{self.describe()} kept throttling reads of {table}")
        return found

    def query(
        self,
        table: str,
        pk: str,
        *,
        sk_min: str | None = None,
        sk_max: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        attributes: list[str] | None = None,
    ) -> Iterator[Item]:
        condition = "pk = :pk"
        values: dict[str, Any] = {":pk": {"S": pk}}
        if sk_min is not None and sk_max is not None:
            condition += " AND sk BETWEEN :lo AND :hi"
            values.update({":lo": {"S": sk_min}, ":hi": {"S": sk_max}})
        elif sk_min is not None:
            condition += " AND sk >= :lo"
            values[":lo"] = {"S": sk_min}
        elif sk_max is not None:
            condition += " AND sk <= :hi"
            values[":hi"] = {"S": sk_max}
        request: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not descending,
        }
        if attributes:
            names = {f"#a{i}": name for i, name in enumerate(["pk", "sk", *attributes])}
            request["ProjectionExpression"] = ", ".join(names)
            request["ExpressionAttributeNames"] = names
        returned = 0
        while True:
            if limit is not None:
                request["Limit"] = limit - returned
            try:
                response = self._call("query", allow={MISSING}, **request)
            except ClientError:
                return  # no such table: an empty result, as on the SQLite store
            for wire in response.get("Items", []):
                returned += 1
                yield from_wire(wire)
            if "LastEvaluatedKey" not in response or (limit is not None and returned >= limit):
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _sqlite_failures(method: Callable[..., T]) -> Callable[..., T]:
    """SQLite and file-system errors become one-line UpstreamErrors, like DynamoDB's."""

    @wraps(method)
    def wrapper(self: SqliteHotStore, *args, **kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.Error, OSError) as exc:
            raise UpstreamError(f"{self.describe()} failed: {exc}; fix HOT_STORE") from exc

    return wrapper


class SqliteHotStore:
    """The embedded hot tier: one SQLite file, the same items and key semantics as DynamoDB."""

    def __init__(self, path: str):
        self.path = Path(path)
        self._local = threading.local()

    @property
    def _db(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            self._local.con = con
            self._local.tables = set()
        return con

    def describe(self) -> str:
        return f"the local hot store {self.path}"

    @staticmethod
    def _name(table: str) -> str:
        if not table.replace("_", "").replace("-", "").replace(".", "").isalnum():
            raise ValueError(f"invalid table name {table!r}")
        return '"' + table + '"'

    @_sqlite_failures
    def ensure_table(self, table: str) -> None:
        """Create `table` once per connection (a read would otherwise pay a statement more)."""
        con = self._db
        if table in self._local.tables:
            return
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {self._name(table)} "
            "(pk TEXT NOT NULL, sk TEXT NOT NULL, item TEXT NOT NULL, PRIMARY KEY (pk, sk)) "
            "WITHOUT ROWID"
        )
        self._local.tables.add(table)

    @_sqlite_failures
    def put_items(self, table: str, items: Iterable[Item]) -> int:
        rows = []
        for item in unique_by_key(items):
            wire = to_wire(item)
            rows.append((item["pk"], item["sk"], checked_json(wire)))
        self.ensure_table(table)
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                f"INSERT OR REPLACE INTO {self._name(table)} (pk, sk, item) VALUES (?, ?, ?)",
                rows,
            )
        return len(rows)

    @_sqlite_failures
    def get_item(self, table: str, pk: str, sk: str) -> Item | None:
        self.ensure_table(table)
        row = self._db.execute(
            f"SELECT item FROM {self._name(table)} WHERE pk = ? AND sk = ?", (pk, sk)
        ).fetchone()
        return from_wire(json.loads(row[0])) if row else None

    @_sqlite_failures
    def batch_get(self, table: str, keys: list[tuple[str, str]]) -> list[Item]:
        found = (self.get_item(table, pk, sk) for pk, sk in dict.fromkeys(keys))
        return [item for item in found if item is not None]

    @_sqlite_failures
    def _fetch(self, sql: str, params: list[Any]) -> list[tuple[str]]:
        return self._db.execute(sql, params).fetchall()

    def query(
        self,
        table: str,
        pk: str,
        *,
        sk_min: str | None = None,
        sk_max: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        attributes: list[str] | None = None,
    ) -> Iterator[Item]:
        self.ensure_table(table)
        sql = f"SELECT item FROM {self._name(table)} WHERE pk = ?"
        params: list[Any] = [pk]
        if sk_min is not None:
            sql += " AND sk >= ?"
            params.append(sk_min)
        if sk_max is not None:
            sql += " AND sk <= ?"
            params.append(sk_max)
        sql += " ORDER BY sk " + ("DESC" if descending else "ASC")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        keep = {"pk", "sk", *attributes} if attributes else None
        for (raw,) in self._fetch(sql, params):
            wire = json.loads(raw)
            if keep is not None:
                wire = {k: v for k, v in wire.items() if k in keep}
            yield from_wire(wire)


def open_store(settings: Settings) -> HotStore:
    if settings.uses_dynamodb:
        return DynamoHotStore(settings)
    return SqliteHotStore(settings.hot_store)


def table_name(settings: Settings, name: str) -> str:
    return f"{settings.table_prefix}{name}"
