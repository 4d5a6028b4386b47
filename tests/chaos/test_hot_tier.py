"""Faults of DynamoDB during gold's sync: throttling, unprocessed items, the endpoint going
down in the middle of a sync, an oversized item. Gold runs on moto's DynamoDB through the fault
proxy; silver's published table is the reference's (the new days), gold held the baseline's.
"""

from __future__ import annotations

import uuid

import pytest
from chaos_helpers import (
    NEW_DAY,
    bad_rows,
    check_converged,
    failed_events,
    gold_items,
    one_error_line,
    served,
    snapshot,
)
from fault_proxy import Fault
from makerates_core.errors import UserError
from makerates_core.hotstore import DynamoHotStore
from makerates_core.settings import Settings

pytestmark = pytest.mark.chaos

BATCH_WRITE = r"\.BatchWriteItem$"


def sync(hot, **env):
    return hot.run("makerates-gold", "sync", check=False, extra_env=env)


def gold_run(hot):
    """`makerates-gold sync` as the last stage of a pipeline run (silver already published)."""
    run_id = f"chaos-{uuid.uuid4().hex[:10]}"
    result = sync(hot, RUN_ID=run_id)
    return run_id, result


def converges(hot, reference, record) -> None:
    result = sync(hot)
    assert result.returncode == 0, result.stderr[-2000:]
    check_converged(hot, reference, record)
    record.see("re-run converged")


@pytest.mark.fault("DynamoDB throttles 4 BatchWriteItems", "backs off, retries; exit 0")
def test_throttling_then_recovery(hot, dynamodb, reference, chaos_report):
    fault = dynamodb.add(Fault("throttle", target=BATCH_WRITE, times=4))
    _, result = gold_run(hot)
    assert result.returncode == 0, result.stderr[-2000:]
    assert fault.injected == 4
    chaos_report.see("4 throttled writes retried; exit 0")
    check_converged(hot, reference, chaos_report)


@pytest.mark.fault(
    "DynamoDB throttles every write to the rates table", "gold exit 3, one line, gold unchanged"
)
def test_throttled_for_good(hot, dynamodb, reference, chaos_report):
    rates = hot.env["TABLE_PREFIX"] + "rates"
    dynamodb.add(Fault("throttle", target=BATCH_WRITE, payload=f'"{rates}"'))
    before = snapshot(hot)
    run_id, result = gold_run(hot)
    line = one_error_line(result)
    chaos_report.see(f"gold exit {result.returncode}: {line[7:]}")
    assert result.returncode == 3
    assert gold_items(hot) == before.gold
    assert failed_events(hot, run_id)
    chaos_report.bad_rows = bad_rows(served(hot))
    dynamodb.clear()
    converges(hot, reference, chaos_report)


@pytest.mark.fault("BatchWriteItem leaves items unprocessed", "re-sent until written; exit 0")
def test_unprocessed_items(hot, dynamodb, reference, chaos_report):
    fault = dynamodb.add(Fault("unprocessed", target=BATCH_WRITE, keep=1, times=3))
    _, result = gold_run(hot)
    assert result.returncode == 0, result.stderr[-2000:]
    assert fault.injected == 3
    chaos_report.see("3 answers with UnprocessedItems, the rest re-sent; exit 0")
    check_converged(hot, reference, chaos_report)


@pytest.mark.fault(
    "DynamoDB down in the middle of a sync (after the day items)",
    "gold exit 3, one line; whole tested days only; re-run converges",
)
def test_endpoint_down_mid_sync(hot, dynamodb, reference, chaos_report):
    # BatchWriteItems of a sync: the `started` event, the day items, the currencies item, the
    # watermark, the `succeeded` event; from the third on the connection is reset.
    dynamodb.add(Fault("reset", target=BATCH_WRITE, after=2))
    before = snapshot(hot)
    run_id, result = gold_run(hot)
    line = one_error_line(result)
    chaos_report.see(f"gold exit {result.returncode}: {line[7:]}")
    assert result.returncode == 3
    gold = served(hot)
    changed = sorted(set(gold) - {i["sk"] for i in before.gold if i["pk"] == "RATES"})
    chaos_report.see(
        f"{len(changed)} new days written before it went down; "
        f"{len(failed_events(hot, run_id))} failed events (the runs table is down too)"
    )
    chaos_report.bad_rows = bad_rows(gold)
    assert chaos_report.bad_rows == 0
    assert all(gold[d] == reference["served"][d] for d in changed)  # whole days, never part
    dynamodb.clear()
    converges(hot, reference, chaos_report)


@pytest.mark.fault(
    "an item over DynamoDB's 400 KB",
    "one-line error before any write (cannot come from silver: ISO codes only)",
)
def test_oversized_item_is_refused_before_writing(hot, dynamodb, chaos_report):
    settings = Settings.from_env(hot.env)
    store = DynamoHotStore(settings)
    table = f"{settings.table_prefix}rates"
    huge = {"pk": "RATES", "sk": NEW_DAY, "rates": {f"C{i:06d}": "1.2345" for i in range(30_000)}}
    before = gold_items(hot)
    with pytest.raises(UserError) as refused:
        store.put_items(table, [huge])
    message = str(refused.value)
    chaos_report.see(f"refused: {message}")
    assert "\n" not in message and "400 KB" in message
    assert dynamodb.count(target=BATCH_WRITE) == 0
    assert gold_items(hot) == before
    chaos_report.rows_lost = chaos_report.bad_rows = 0
