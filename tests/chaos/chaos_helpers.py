"""What the chaos tests check the issue's promises on, and how they run a deployment.

Every test starts from a copy of a baseline deployment (an embedded lake and hot tier holding
the ECB days FIRST_DAY..BASE_DAY), the sources publish up to NEW_DAY, and a fault is injected
on the way. The reference is the same baseline run cleanly up to NEW_DAY: what every re-run
after a fault must converge to.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import importlib.util
import json
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
from ecb_mirror import History
from fault_proxy import Fault, FaultProxy
from makerates_core.duck import connect
from makerates_core.events import recent_runs
from makerates_core.hotstore import open_store, table_name
from makerates_core.lake import Lake
from makerates_core.settings import Settings
from makerates_silver.runner import default_work_dir
from services import DUMMY_CREDENTIALS

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "makerates_integration_conftest", REPO / "tests" / "integration" / "conftest.py"
)
integration = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = integration  # dataclasses look their module up there
_spec.loader.exec_module(integration)
Deployment = integration.Deployment
StageResult = integration.StageResult

FIRST_DAY, BASE_DAY, NEW_DAY = "2026-10-19", "2026-10-23", "2026-10-30"
ECB = History.shipped().by_day()
# The ECB and its backup: gold then serves exactly the ECB's numbers, which the checks compare
# against (ExchangeRate-API adds currencies the ECB does not publish).
SOURCES = "ecb,frankfurter"
# The checks read S3 and DynamoDB at these endpoints, not through the fault proxy.
DIRECT_S3 = "CHAOS_S3_DIRECT_ENDPOINT"
DIRECT_DYNAMODB = "CHAOS_DYNAMODB_DIRECT_ENDPOINT"


def ecb_days(last: str) -> list[str]:
    return sorted(d for d in ECB if FIRST_DAY <= d <= last)


@dataclass
class ChaosRecord:
    """One row of the report; a test fills in `observed`, `rows_lost` and `bad_rows`."""

    fault: str
    expected: str
    observed: str = ""
    rows_lost: int | None = None
    bad_rows: int | None = None
    notes: list[str] = field(default_factory=list)

    def see(self, what: str) -> None:
        what = what if len(what) <= 200 else what[:197] + "..."
        self.observed = f"{self.observed}; {what}" if self.observed else what


def lookback_days() -> str:
    """INITIAL_LOOKBACK_DAYS that makes a first run start at FIRST_DAY."""
    return str((datetime.now(UTC).date() - date.fromisoformat(FIRST_DAY)).days)


def embedded(root: Path, source_env: dict[str, str]) -> Deployment:
    """A deployment whose lake, hot tier and caches all live under `root`."""
    env = integration._base_env(root, source_env)
    env.update(
        LAKE_URL=str(root / "lake"),
        HOT_STORE=str(root / "hot.sqlite3"),
        SOURCES=SOURCES,
        INITIAL_LOOKBACK_DAYS=lookback_days(),
        HTTP_TIMEOUT_SECONDS="3",
    )
    workdir = root / "work"
    workdir.mkdir(parents=True, exist_ok=True)
    return Deployment(env=env, workdir=workdir, name=root.name)


def seed(source: Path, root: Path, source_env: dict[str, str]) -> Deployment:
    """A copy of a seeded deployment's lake and hot tier (never its caches) under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / "lake", root / "lake")
    shutil.copy2(source / "hot.sqlite3", root / "hot.sqlite3")
    return embedded(root, source_env)


def built_once(folder: Path, build: Callable[[Path], None], seconds: float = 900) -> Path:
    """`build(folder)` by the first xdist worker to get here; the others wait for it (a flock,
    at most `seconds`) and use what it built. A build that failed is tried again."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    done = folder / ".built"
    with open(folder.with_name(f"{folder.name}.lock"), "w") as lock:

        def locked() -> bool:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        wait_for(locked, seconds)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


def proxied_env(proxy: FaultProxy, mirror) -> dict[str, str]:
    return {name: proxy.proxied(url) for name, url in mirror.env.items()}


# --- what the promises are checked on ------------------------------------------------------


def bronze_files(deployment: Deployment) -> dict[str, str]:
    """Every file under the lake's bronze/ with its sha256."""
    url = deployment.env["LAKE_URL"]
    if not url.startswith("s3://"):
        root = Path(url) / "bronze"
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }
    bucket, _, prefix = url[5:].partition("/")
    s3 = s3_client(direct(deployment).s3_endpoint_url)
    listing = {}
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"{prefix}/bronze/"
    ):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            listing[obj["Key"]] = hashlib.sha256(body).hexdigest()
    return listing


def assert_bronze_kept(before: dict[str, str], after: dict[str, str]) -> None:
    """Promise 1: nothing deleted or rewritten (new files are fine)."""
    gone = sorted(set(before) - set(after))
    changed = sorted(k for k in before if k in after and before[k] != after[k])
    assert not gone and not changed, f"bronze lost {gone} and rewrote {changed}"


def served(deployment: Deployment) -> dict[str, dict[str, str]]:
    """Gold's day items: {day: {currency: rate as published}}."""
    return {
        item["sk"]: {c: str(v) for c, v in item["rates"].items()}
        for item in gold_items(deployment)
        if item["pk"] == "RATES"
    }


def rows_lost(gold: dict[str, dict[str, str]], last: str) -> int:
    """ECB (day, currency) rates up to `last` that gold does not serve."""
    return sum(1 for d in ecb_days(last) for c in ECB[d] if c not in gold.get(d, {}))


def bad_rows(gold: dict[str, dict[str, str]]) -> int:
    """Rates gold serves that the ECB did not publish so (a day, currency or value)."""
    return sum(
        1 for d, rates in gold.items() for c, v in rates.items() if ECB.get(d, {}).get(c) != v
    )


def direct(deployment: Deployment) -> Settings:
    """The deployment's settings, with S3 reached directly (not through a fault proxy)."""
    settings = Settings.from_env(deployment.env)
    return dataclasses.replace(
        settings,
        s3_endpoint_url=deployment.env.get(DIRECT_S3, settings.s3_endpoint_url),
        dynamodb_endpoint_url=deployment.env.get(DIRECT_DYNAMODB, settings.dynamodb_endpoint_url),
    )


def gold_items(deployment: Deployment) -> list[dict[str, Any]]:
    """Every item of the hot tier's rates table (read without the fault proxy)."""
    settings = direct(deployment)
    store, table = open_store(settings), table_name(settings, "rates")
    return [item for pk in ("RATES", "META", "LATEST") for item in store.query(table, pk)]


def silver_rows(deployment: Deployment) -> list[tuple[str, str, str]]:
    """The published fct_rates: (day, currency, rate) sorted."""
    settings = direct(deployment)
    lake = Lake(settings)
    published = json.loads(lake.read_text("silver/published.json"))
    files = [lake.uri(key) for key in published["tables"]["fct_rates"]]  # one per year
    with connect(settings) as con:
        rows = con.execute(
            "select rate_date::varchar, currency, rate::varchar "
            "from read_parquet(?, hive_partitioning = false) order by 1, 2",
            [files],
        ).fetchall()
    return [tuple(r) for r in rows]


def failed_events(deployment: Deployment, run_id: str) -> list[dict[str, Any]]:
    """The `failed` events of a run in the runs table (what `makerates runs` lists)."""
    settings = direct(deployment)
    return [
        event
        for run in recent_runs(settings, open_store(settings))
        if run["run_id"] == run_id
        for event in run["events"]
        if event["event"] == "failed"
    ]


def one_error_line(result: StageResult) -> str:
    """Promise 4: exactly one `error:` line on stderr and no traceback; returns it."""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert len(errors) == 1, result.stderr[-3000:]
    return errors[0]


@dataclass
class Attempt:
    """A pipeline run as `just pipeline` chains it: stops at the first stage that fails."""

    run_id: str
    results: dict[str, StageResult]

    @property
    def failed_stage(self) -> str | None:
        return next((s for s, r in self.results.items() if r.returncode != 0), None)

    @property
    def failure(self) -> StageResult:
        return self.results[self.failed_stage]


def attempt(
    deployment: Deployment, *bronze_args: str, env: dict[str, str] | None = None
) -> Attempt:
    """When bronze or silver fails, gold's record-failure puts the run's events in the runs
    table, as `just pipeline`'s failure path does (bronze and silver write theirs to the lake)."""
    run_id = f"chaos-{uuid.uuid4().hex[:10]}"
    extra = {"RUN_ID": run_id, **(env or {})}
    results: dict[str, StageResult] = {}
    for stage, command in (
        ("bronze", ("makerates-bronze", *(bronze_args or ("run",)))),
        ("silver", ("makerates-silver", "run")),
        ("gold", ("makerates-gold", "sync")),
    ):
        results[stage] = deployment.run(*command, check=False, extra_env=extra)
        if results[stage].returncode != 0:
            if stage != "gold":
                status = ("--status", str(results[stage].returncode))
                record = ("record-failure", "--run-id", run_id, "--stage", stage, *status)
                deployment.run("makerates-gold", *record, check=False, extra_env=extra)
            break
    return Attempt(run_id, results)


@dataclass
class Before:
    bronze: dict[str, str]
    gold: list[dict[str, Any]]


def start(deployment: Deployment, *command: str, **env: str) -> subprocess.Popen:
    """A stage started in the background (to be killed, or raced)."""
    return subprocess.Popen(
        [str(integration.BIN / command[0]), *command[1:]],
        cwd=deployment.workdir,
        env={**deployment.env, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def default_silver_work_dir(deployment: Deployment) -> Path:
    """Where silver keeps its work folder (and lock) for this deployment's lake."""
    folder = default_work_dir(Settings.from_env(deployment.env)).name
    return Path(deployment.env["XDG_CACHE_HOME"]) / "makerates" / "silver" / folder


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def snapshot(deployment: Deployment) -> Before:
    return Before(bronze_files(deployment), gold_items(deployment))


def check_failed_run(
    deployment: Deployment,
    before: Before,
    run: Attempt,
    record: ChaosRecord,
    stage: str,
    exit_code: int,
) -> str:
    """Promises 1, 2 and 4 after a run that must fail at `stage` with `exit_code`."""
    assert run.failed_stage == stage, {
        s: (r.returncode, r.stderr[-800:]) for s, r in run.results.items()
    }
    failure = run.failure
    line = one_error_line(failure)
    record.see(f"{stage} exit {failure.returncode}: {line[7:]}")
    assert failure.returncode == exit_code, failure.stderr[-2000:]
    assert failed_events(deployment, run.run_id), "no failed run event recorded"
    assert_bronze_kept(before.bronze, bronze_files(deployment))
    assert gold_items(deployment) == before.gold, "a failed run changed gold"
    record.bad_rows = bad_rows(served(deployment))
    return line


def check_converged(deployment: Deployment, reference: dict[str, Any], record: ChaosRecord) -> None:
    """Promise 3: gold and silver as after a clean run, no gaps, no duplicates, no bad rows."""
    gold = served(deployment)
    record.rows_lost = rows_lost(gold, NEW_DAY)
    record.bad_rows = max(record.bad_rows or 0, bad_rows(gold))
    assert gold == reference["served"]
    rows = silver_rows(deployment)
    assert len({(d, c) for d, c, _ in rows}) == len(rows), "silver published duplicates"
    assert rows == reference["silver"]
    assert record.rows_lost == 0 and record.bad_rows == 0


def rerun_converges(
    deployment: Deployment, reference: dict[str, Any], record: ChaosRecord, *bronze_args: str
) -> None:
    """The fault lifted: the whole pipeline again, which must converge (promise 3)."""
    again = attempt(deployment, *bronze_args)
    assert again.failed_stage is None, again.failure.stderr[-2000:]
    check_converged(deployment, reference, record)
    record.see("re-run converged")


def resync_converges(hot: Deployment, reference: dict[str, Any], record: ChaosRecord) -> None:
    """The fault lifted: gold's sync again, which must converge (promise 3)."""
    again = hot.run("makerates-gold", "sync", check=False)
    assert again.returncode == 0, again.stderr[-2000:]
    check_converged(hot, reference, record)
    record.see("re-sync converged")


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=DUMMY_CREDENTIALS["AWS_REGION"],
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def upload_lake(folder: Path, endpoint: str, bucket: str, prefix: str = "lake") -> None:
    """Copy an embedded lake into a bucket: the layout is the same in both."""
    s3 = s3_client(endpoint)
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(folder)}")


# --- bad data: rewrites of the ECB's XML on the way -----------------------------------------

ECB_XML = r"^/stats/eurofxref/.*\.xml$"
Pairs = list[tuple[str, str]]


def edit_day(day: str, edit: Callable[[Pairs], Pairs], copy_to: str | None = None):
    """A rewrite of an ECB XML document: `edit` the (currency, rate) pairs of `day`; with
    `copy_to`, add the edited day again as that day, before the others (a newer day)."""
    block = re.compile(rf"(\t\t<Cube time=')({day})('>\n)(.*?)(\t\t</Cube>\n)", re.S)

    def cube(match: re.Match, when: str) -> str:
        pairs = edit(re.findall(r"currency='(\w+)' rate='([^']*)'", match.group(4)))
        lines = "".join(f"\t\t\t<Cube currency='{c}' rate='{r}'/>\n" for c, r in pairs)
        return f"{match.group(1)}{when}{match.group(3)}{lines}{match.group(5)}"

    def rewrite(body: bytes) -> bytes:
        text = body.decode()
        found = block.search(text)
        if found is None:
            return body
        new = cube(found, day)
        if copy_to:
            new = cube(found, copy_to) + (new if copy_to != day else found.group(0))
        return (text[: found.start()] + new + text[found.end() :]).encode()

    return rewrite


def set_rate(currency: str, value: Callable[[str], str]) -> Callable[[Pairs], Pairs]:
    return lambda pairs: [(c, value(r) if c == currency else r) for c, r in pairs]


def times(factor: str) -> Callable[[str], str]:
    return lambda rate: str(Decimal(rate) * Decimal(factor))


FUTURE = (datetime.now(UTC).date() + timedelta(days=10)).isoformat()


def stopped_then_corrected(lake, sources, reference, record, edit, test_name: str) -> None:
    """NEW_DAY edited by `edit`: silver's test `test_name` (a regex) stops the run; then the
    ECB re-publishes the day right, and a plain re-run must converge."""
    sources.add(Fault("rewrite", path=ECB_XML, rewrite=edit_day(NEW_DAY, edit)))
    before = snapshot(lake)
    run = attempt(lake)
    line = check_failed_run(lake, before, run, record, "silver", 1)
    assert re.search(test_name, line), line
    assert "gold left unchanged" in line

    sources.clear()
    again = attempt(lake)
    assert again.failed_stage is None, again.failure.stderr[-2000:]
    check_converged(lake, reference, record)
    record.see("the re-published day flowed through; converged")


# --- the lake on S3 ---------------------------------------------------------------------

ACCESS_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Access Denied</Message><RequestId>chaos</RequestId></Error>"
)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Each lake fault: the environment it runs with, the faults the S3 proxy injects, and what its
# error line must say.
STORAGE_FULL = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>XMinioStorageFull</Code>'
    b"<Message>Storage backend has reached its minimum free drive threshold.</Message></Error>"
)
LAKE_FAULTS = {
    "endpoint-down": (
        lambda: {"S3_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}"},
        [],
        "s3_endpoint_url",
    ),
    "bucket-missing": (
        lambda: {"LAKE_URL": f"s3://missing-{uuid.uuid4().hex[:8]}/lake"},
        [],
        "does not exist",
    ),
    "access-denied": (
        dict,
        [
            Fault(
                "status",
                status=403,
                body=ACCESS_DENIED,
                headers={"Content-Type": "application/xml"},
            )
        ],
        "access denied",
    ),
    "disk-full": (  # MinIO's answer to a write when its drives are full
        dict,
        [
            Fault(
                "status",
                method="PUT|POST",
                status=507,
                body=STORAGE_FULL,
                headers={"Content-Type": "application/xml"},
            )
        ],
        "storage",
    ),
}
