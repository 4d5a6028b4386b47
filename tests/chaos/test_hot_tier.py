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
    resync_converges,
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


@pytest.mark.parametrize(
    ("name", "fault"),
    [
        ("DynamoDB throttles 4 BatchWriteItems", Fault("throttle", target=BATCH_WRITE, times=4)),
        (
            "BatchWriteItem leaves items unprocessed 3 times",
            Fault("unprocessed", target=BATCH_WRITE, keep=1, times=3),
        ),
    ],
    ids=["throttled", "unprocessed"],
)
def test_transient_write_faults(hot, moto_proxy, reference, chaos_report, name, fault):
    chaos_report.fault, chaos_report.expected = name, "backs off, re-sends; exit 0, converged"
    moto_proxy.add(fault)
    _, result = gold_run(hot)
    assert result.returncode == 0, result.stderr[-2000:]
    assert fault.injected == fault.times
    chaos_report.see(f"{fault.injected} writes answered with the fault, re-sent; exit 0")
    check_converged(hot, reference, chaos_report)


@pytest.mark.fault(
    "DynamoDB throttles every write to the rates table", "gold exit 3, one line, gold unchanged"
)
def test_throttled_for_good(hot, moto_proxy, reference, chaos_report):
    rates = hot.env["TABLE_PREFIX"] + "rates"
    moto_proxy.add(Fault("throttle", target=BATCH_WRITE, payload=f'"{rates}"'))
    before = snapshot(hot)
    run_id, result = gold_run(hot)
    line = one_error_line(result)
    chaos_report.see(f"gold exit {result.returncode}: {line[7:]}")
    assert result.returncode == 3
    assert gold_items(hot) == before.gold
    assert failed_events(hot, run_id)
    chaos_report.bad_rows = bad_rows(served(hot))
    moto_proxy.clear()
    resync_converges(hot, reference, chaos_report)


@pytest.mark.fault(
    "DynamoDB down in the middle of a sync (after the day items)",
    "gold exit 3, one line; whole tested days only; re-run converges",
)
def test_endpoint_down_mid_sync(hot, moto_proxy, reference, chaos_report):
    # BatchWriteItems of a sync: the `started` event, the day items, the currencies item, the
    # watermark, the `succeeded` event; from the third on the connection is reset.
    moto_proxy.add(Fault("reset", target=BATCH_WRITE, after=2))
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
    moto_proxy.clear()
    resync_converges(hot, reference, chaos_report)


@pytest.mark.fault(
    "an item over DynamoDB's 400 KB",
    "one-line error before any write (cannot come from silver: ISO codes only)",
)
def test_oversized_item_is_refused_before_writing(hot, moto_proxy, chaos_report):
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
    assert moto_proxy.count(target=BATCH_WRITE) == 0
    assert gold_items(hot) == before
    chaos_report.rows_lost = chaos_report.bad_rows = 0
