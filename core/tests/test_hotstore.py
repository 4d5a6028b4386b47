"""The HotStore contract, on both stores: what gold and the readers rely on."""

from __future__ import annotations

import socket
import threading
import uuid
from decimal import Decimal, Inexact

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError
from makerates_core.errors import UpstreamError
from makerates_core.hotstore import (
    DynamoHotStore,
    SqliteHotStore,
    open_store,
    table_name,
    to_wire,
)
from makerates_core.settings import Settings


def day(sk: str, **extra) -> dict:
    return {"pk": "RATES", "sk": sk, "rates": {"USD": Decimal("1.0892")}, **extra}


def days(n: int, start: int = 1) -> list[dict]:
    return [day(f"2024-01-{i:02d}", n=i) for i in range(start, start + n)]


def test_put_then_get_round_trips_exact_values(store, table):
    item = {
        "pk": "META",
        "sk": "X",
        "rates": {"JPY": Decimal("162.03"), "IDR": Decimal("17011.02"), "ISK": Decimal("136")},
        "spans": {"USD": {"first": "1999-01-04", "last": "2024-03-28"}},
        "count": 3,
        "tags": ["a", "b"],
        "tiny": Decimal("0.000000000000000001"),
        "long": Decimal("1.2345678901234567890123456789012345678"),
    }
    assert store.put_items(table, [item]) == 1
    back = store.get_item(table, "META", "X")
    assert back == item
    assert str(back["rates"]["ISK"]) == "136"
    assert str(back["long"]) == "1.2345678901234567890123456789012345678"
    assert store.get_item(table, "META", "Y") is None


def test_query_ranges_order_limit_and_projection(store, table):
    store.put_items(table, [*days(10), {"pk": "OTHER", "sk": "2024-01-05"}])
    sks = lambda items: [i["sk"] for i in items]  # noqa: E731
    assert sks(store.query(table, "RATES")) == [f"2024-01-{i:02d}" for i in range(1, 11)]
    assert sks(store.query(table, "RATES", sk_min="2024-01-03", sk_max="2024-01-05")) == [
        "2024-01-03",
        "2024-01-04",
        "2024-01-05",
    ]
    assert sks(store.query(table, "RATES", sk_min="2024-01-09")) == ["2024-01-09", "2024-01-10"]
    assert sks(store.query(table, "RATES", sk_max="2024-01-02")) == ["2024-01-01", "2024-01-02"]
    assert sks(
        store.query(
            table, "RATES", sk_min="2024-01-02", sk_max="2024-01-08", descending=True, limit=3
        )
    ) == ["2024-01-08", "2024-01-07", "2024-01-06"]
    projected = list(store.query(table, "RATES", sk_max="2024-01-01", attributes=["n"]))
    assert projected == [{"pk": "RATES", "sk": "2024-01-01", "n": 1}]
    assert list(store.query(table, "NOTHING")) == []


def test_batch_get_returns_the_items_that_exist(store, table):
    store.put_items(table, days(5))
    keys = [("RATES", "2024-01-02"), ("RATES", "2024-01-04"), ("RATES", "2024-01-02"), ("X", "Y")]
    found = store.batch_get(table, keys)
    assert sorted(i["sk"] for i in found) == ["2024-01-02", "2024-01-04"]


def test_duplicate_keys_in_one_batch_collapse_last_wins(store, table):
    written = store.put_items(table, [day("2024-01-01", v=1), day("2024-01-01", v=2)])
    assert written == 1
    assert store.get_item(table, "RATES", "2024-01-01")["v"] == 2


def test_puts_replace_whole_items(store, table):
    store.put_items(table, [day("2024-01-01", old=True)])
    store.put_items(table, [day("2024-01-01")])
    assert "old" not in store.get_item(table, "RATES", "2024-01-01")


def test_the_wire_form_is_what_boto3_would_send():
    item = {
        "pk": "RATES",
        "sk": "2024-01-02",
        "rates": {"USD": Decimal("1.0956"), "ISK": Decimal("136"), "X": Decimal("1E-18")},
        "src": {"AED": "exchangerate_api"},
        "n": 3,
        "flag": True,
        "none": None,
        "tags": ["a", Decimal("2")],
        "long": Decimal("1.2345678901234567890123456789012345678"),
    }
    assert to_wire(item) == {k: TypeSerializer().serialize(v) for k, v in item.items()}
    assert to_wire(item)["rates"]["M"]["ISK"] == {"N": "136"}
    for bad in (Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(TypeError):
            to_wire({"pk": "P", "sk": "S", "v": bad})
    with pytest.raises(Inexact):  # 39 digits: DynamoDB's context refuses to round, as boto3's
        to_wire({"pk": "P", "sk": "S", "v": Decimal("1.23456789012345678901234567890123456789")})


def test_floats_are_refused(store, table):
    with pytest.raises(TypeError, match="Decimal"):
        store.put_items(table, [day("2024-01-01", bad=1.1)])
    assert store.get_item(table, "RATES", "2024-01-01") is None


def test_an_oversized_item_is_refused_before_anything_is_sent(store, table):
    big = day("2024-01-02", blob="x" * (401 * 1024))
    with pytest.raises(UpstreamError, match="400 KB"):
        store.put_items(table, [day("2024-01-01"), big])
    assert store.get_item(table, "RATES", "2024-01-01") is None


def test_ensure_table_is_idempotent(store, table):
    store.ensure_table(table)
    store.ensure_table(table)
    store.put_items(table, [day("2024-01-01")])
    store.ensure_table(table)
    assert store.get_item(table, "RATES", "2024-01-01") is not None


def test_a_table_that_does_not_exist_reads_as_empty(store):
    missing = f"t{uuid.uuid4().hex[:10]}_missing"
    assert store.get_item(missing, "RATES", "2024-01-01") is None
    assert list(store.query(missing, "RATES")) == []
    assert store.batch_get(missing, [("RATES", "2024-01-01")]) == []


def test_open_store_follows_the_settings(tmp_path, moto_endpoint):
    local = open_store(Settings.from_env({"HOT_STORE": str(tmp_path / "h.sqlite3")}))
    assert isinstance(local, SqliteHotStore)
    remote = open_store(Settings.from_env({"DYNAMODB_ENDPOINT_URL": moto_endpoint}))
    assert isinstance(remote, DynamoHotStore)
    assert table_name(Settings(table_prefix="p_"), "rates") == "p_rates"


# --- DynamoDB only ---------------------------------------------------------------------------


class Recording(DynamoHotStore):
    """Records every API call; optionally answers the first calls of one operation itself."""

    def __init__(self, *args, fake: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[str, dict]] = []
        self.fake = dict(fake or {})

    def _call(self, operation, **kwargs):
        self.calls.append((operation, kwargs))
        queue = self.fake.get(operation)
        if queue:
            answer = queue.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer(kwargs) if callable(answer) else answer
        return super()._call(operation, **kwargs)


def throttled() -> ClientError:
    error = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
    return ClientError(error, "BatchWriteItem")


@pytest.fixture
def dynamo_table(moto_endpoint) -> str:
    name = f"t{uuid.uuid4().hex[:10]}_rates"
    DynamoHotStore(
        Settings(hot_store="dynamodb", dynamodb_endpoint_url=moto_endpoint)
    ).ensure_table(name)
    return name


def recording(endpoint: str, **kwargs) -> Recording:
    return Recording(
        Settings(hot_store="dynamodb", dynamodb_endpoint_url=endpoint), base_delay=0.001, **kwargs
    )


def test_query_follows_pages(moto_endpoint, dynamo_table):
    store = recording(moto_endpoint)
    items = [day(f"2024-01-{i:02d}", blob="x" * (90 * 1024)) for i in range(1, 31)]
    store.put_items(dynamo_table, items)  # 30 x 90 KB: several 1 MB pages
    store.calls.clear()
    assert [i["sk"] for i in store.query(dynamo_table, "RATES")] == [i["sk"] for i in items]
    pages = [c for c in store.calls if c[0] == "query"]
    assert len(pages) >= 3
    assert "ExclusiveStartKey" in pages[1][1]

    store.calls.clear()
    limited = list(store.query(dynamo_table, "RATES", descending=True, limit=20))
    assert [i["sk"] for i in limited] == [f"2024-01-{i:02d}" for i in range(30, 10, -1)]
    assert len([c for c in store.calls if c[0] == "query"]) >= 2


def test_writes_go_in_batches_of_25_without_duplicate_keys(moto_endpoint, dynamo_table):
    store = recording(moto_endpoint)
    batch = [*days(30), *days(30)]  # every key twice: moto would accept it, DynamoDB would not
    assert store.put_items(dynamo_table, batch) == 30
    writes = [
        kw["RequestItems"][dynamo_table] for op, kw in store.calls if op == "batch_write_item"
    ]
    assert sorted(len(w) for w in writes) == [5, 25]
    for requests in writes:
        keys = [
            (r["PutRequest"]["Item"]["pk"]["S"], r["PutRequest"]["Item"]["sk"]["S"])
            for r in requests
        ]
        assert len(keys) == len(set(keys))
    assert len(list(store.query(dynamo_table, "RATES"))) == 30


def test_batches_are_written_by_concurrent_workers(moto_endpoint, dynamo_table):
    both_in_flight = threading.Barrier(2, timeout=10)

    def wait_for_another_batch(kwargs):
        both_in_flight.wait()  # a serial writer would never get past this: BrokenBarrierError
        return {"UnprocessedItems": {}}

    store = recording(
        moto_endpoint, write_workers=2, fake={"batch_write_item": [wait_for_another_batch] * 2}
    )
    assert store.put_items(dynamo_table, days(30)) == 30
    assert len([op for op, _ in store.calls if op == "batch_write_item"]) == 2

    failing = recording(
        moto_endpoint, write_workers=2, fake={"batch_write_item": [UpstreamError("refused")]}
    )
    with pytest.raises(UpstreamError, match="refused"):
        failing.put_items(dynamo_table, days(60))


def test_unprocessed_items_are_sent_again(moto_endpoint, dynamo_table):
    def leave_all_unprocessed(kwargs):
        return {"UnprocessedItems": kwargs["RequestItems"]}

    store = recording(moto_endpoint, fake={"batch_write_item": [leave_all_unprocessed]})
    assert store.put_items(dynamo_table, days(3)) == 3
    assert [op for op, _ in store.calls] == ["batch_write_item", "batch_write_item"]
    assert len(list(store.query(dynamo_table, "RATES"))) == 3


def test_throttling_is_retried_then_reported_in_one_line(moto_endpoint, dynamo_table):
    store = recording(moto_endpoint, fake={"batch_write_item": [throttled(), throttled()]})
    assert store.put_items(dynamo_table, days(2)) == 2
    assert len(list(store.query(dynamo_table, "RATES"))) == 2

    stubborn = recording(
        moto_endpoint, max_attempts=3, fake={"batch_write_item": [throttled()] * 3}
    )
    with pytest.raises(UpstreamError, match="kept throttling writes"):
        stubborn.put_items(dynamo_table, days(2, start=10))


def test_other_refusals_are_upstream_errors_not_tracebacks(moto_endpoint, dynamo_table):
    store = DynamoHotStore(Settings(hot_store="dynamodb", dynamodb_endpoint_url=moto_endpoint))
    with pytest.raises(UpstreamError, match="refused"):
        store.get_item(dynamo_table, "RATES", "")  # an empty key string is invalid


def test_an_unreachable_endpoint_is_an_upstream_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(hot_store="dynamodb", dynamodb_endpoint_url=f"http://127.0.0.1:{port}")
    store = DynamoHotStore(settings)
    store.client = boto3.client(  # no retries: the refusal is the same, only faster
        "dynamodb",
        endpoint_url=settings.dynamodb_endpoint_url,
        region_name="us-east-1",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )
    for attempt in (
        lambda: store.ensure_table("t_rates"),
        lambda: store.get_item("t_rates", "RATES", "2024-01-01"),
        lambda: list(store.query("t_rates", "RATES")),
        lambda: store.put_items("t_rates", days(1)),
    ):
        with pytest.raises(UpstreamError, match="cannot reach DynamoDB at http"):
            attempt()


def test_an_unusable_sqlite_path_is_an_upstream_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    store = SqliteHotStore(str(blocker / "hot.sqlite3"))
    with pytest.raises(UpstreamError, match="fix HOT_STORE"):
        store.get_item("t_rates", "RATES", "2024-01-01")
