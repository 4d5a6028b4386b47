"""The lake's compare-and-swap (`read_versioned` + `swap_text`), on a folder and on S3 (moto's
server on loopback): what silver's publication of published.json relies on."""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

import boto3
import pytest
from makerates_core.errors import PublishConflict, UserError
from makerates_core.lake import STALE_CLAIM_SECONDS, Lake
from makerates_core.settings import Settings

KEY = "silver/published.json"


def _s3_lake(endpoint: str) -> Lake:
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return Lake(Settings(lake_url=f"s3://{bucket}/lake", s3_endpoint_url=endpoint))


@pytest.fixture(params=["folder", "s3"])
def lake(request, tmp_path) -> Lake:
    if request.param == "folder":
        return Lake(Settings(lake_url=str(tmp_path / "lake")))
    return _s3_lake(request.getfixturevalue("moto_endpoint"))


def test_a_missing_key_has_no_version(lake):
    assert lake.read_versioned(KEY) == (None, None)


def test_swap_creates_only_if_absent(lake):
    lake.swap_text(KEY, "first\n", None)
    text, version = lake.read_versioned(KEY)
    assert text == "first\n" and version
    with pytest.raises(PublishConflict):
        lake.swap_text(KEY, "second\n", None)
    assert lake.read_versioned(KEY) == ("first\n", version)


def test_swap_wins_when_the_version_is_current(lake):
    lake.write_text(KEY, "one\n")
    _, one = lake.read_versioned(KEY)
    lake.swap_text(KEY, "two\n", one)
    text, two = lake.read_versioned(KEY)
    assert text == "two\n" and two and two != one
    lake.swap_text(KEY, "three\n", two)
    assert lake.read_text(KEY) == "three\n"


def test_swap_refuses_when_the_version_moved(lake):
    lake.write_text(KEY, "one\n")
    _, read_by_both = lake.read_versioned(KEY)
    lake.swap_text(KEY, "winner\n", read_by_both)
    with pytest.raises(PublishConflict) as raised:
        lake.swap_text(KEY, "loser\n", read_by_both)
    assert lake.read_text(KEY) == "winner\n"
    error = raised.value
    assert isinstance(error, UserError) and error.exit_code == 4
    message = str(error)
    assert "\n" not in message and "nothing was written" in message, message
    assert lake.uri(KEY) in message


def test_swap_refuses_after_a_plain_overwrite_or_a_delete(lake):
    lake.write_text(KEY, "one\n")
    _, one = lake.read_versioned(KEY)
    lake.write_text(KEY, "someone else\n")
    with pytest.raises(PublishConflict):
        lake.swap_text(KEY, "mine\n", one)
    assert lake.read_text(KEY) == "someone else\n"
    lake.delete_prefix("silver")
    with pytest.raises(PublishConflict):
        lake.swap_text(KEY, "mine\n", one)
    assert lake.read_text(KEY) is None
    lake.swap_text(KEY, "republished\n", None)  # after a delete: create-if-absent again
    assert lake.read_text(KEY) == "republished\n"


def test_of_writers_racing_on_one_version_exactly_one_wins(tmp_path):
    """On a folder the claim is what makes the swap atomic. (On S3 it is S3's own conditional
    PUT; moto checks the condition and stores in two steps, so racing it would test moto.)"""
    lake = Lake(Settings(lake_url=str(tmp_path / "lake")))
    lake.write_text(KEY, "start\n")
    _, start = lake.read_versioned(KEY)
    outcomes: dict[int, str] = {}
    barrier = threading.Barrier(6)

    def writer(n: int) -> None:
        barrier.wait()
        try:
            lake.swap_text(KEY, f"writer {n}\n", start)
            outcomes[n] = "won"
        except PublishConflict:
            outcomes[n] = "lost"

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [n for n, outcome in outcomes.items() if outcome == "won"]
    assert len(outcomes) == 6 and len(winners) == 1, outcomes
    assert lake.read_text(KEY) == f"writer {winners[0]}\n"


def test_folder_swap_leaves_no_claim_behind(tmp_path):
    lake = Lake(Settings(lake_url=str(tmp_path / "lake")))
    lake.swap_text(KEY, "one\n", None)
    _, one = lake.read_versioned(KEY)
    lake.swap_text(KEY, "two\n", one)
    with pytest.raises(PublishConflict):
        lake.swap_text(KEY, "three\n", one)
    assert sorted(p.name for p in (tmp_path / "lake" / "silver").iterdir()) == ["published.json"]
    assert lake.list_keys("silver") == [KEY]


def test_folder_swap_yields_to_a_live_claim_and_takes_over_an_abandoned_one(tmp_path):
    lake = Lake(Settings(lake_url=str(tmp_path / "lake")))
    lake.write_text(KEY, "one\n")
    _, one = lake.read_versioned(KEY)
    claim = Path(lake.uri(KEY)).with_name(f".published.json.{one}.claim")
    claim.write_text("other-host 123\n")  # another machine is replacing this version right now
    with pytest.raises(PublishConflict):
        lake.swap_text(KEY, "mine\n", one)
    assert lake.read_text(KEY) == "one\n"

    old = time.time() - STALE_CLAIM_SECONDS - 60  # ... or died while doing so, long ago
    os.utime(claim, (old, old))
    lake.swap_text(KEY, "mine\n", one)
    assert lake.read_text(KEY) == "mine\n"
    assert not claim.exists()


def test_s3_swap_whose_retry_finds_its_own_text_is_a_win(moto_endpoint):
    """botocore retries a PUT whose answer was lost: the retry's 412 over this very text is
    not a conflict (S3 only: a folder's swap is never retried)."""
    lake = _s3_lake(moto_endpoint)
    lake.write_text(KEY, "one\n")
    _, one = lake.read_versioned(KEY)
    lake.write_text(KEY, "mine\n")  # what the lost first attempt wrote
    lake.swap_text(KEY, "mine\n", one)
    assert lake.read_text(KEY) == "mine\n"
