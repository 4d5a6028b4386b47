"""The fault-injection suite's harness: seeded deployments, the fault proxy in front of the
sources, and the report `just chaos` prints (and writes to bench-results/chaos.json)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # chaos_helpers

from chaos_helpers import (
    BASE_DAY,
    DIRECT_DYNAMODB,
    DIRECT_S3,
    NEW_DAY,
    REPO,
    ChaosRecord,
    Deployment,
    built_once,
    embedded,
    proxied_env,
    s3_client,
    seed,
    served,
    silver_rows,
    upload_lake,
)
from fault_proxy import FaultProxy
from services import DUMMY_CREDENTIALS

REPORT_FILE = REPO / "bench-results" / "chaos.json"


@pytest.fixture
def chaos_report(request) -> Iterator[ChaosRecord]:
    marker = request.node.get_closest_marker("fault")
    fault, expected = marker.args if marker else (request.node.name, "")
    record = ChaosRecord(fault=fault, expected=expected)
    yield record
    request.node.user_properties.append(("chaos", asdict(record)))


_rows: dict[str, dict[str, Any]] = {}


_started = time.monotonic()


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "fault(name, expected): the fault a chaos test injects")


def pytest_runtest_logreport(report) -> None:
    for name, value in report.user_properties:
        if name == "chaos":
            _rows.setdefault(report.nodeid, {}).update(value)
    if report.failed:
        row = _rows.setdefault(report.nodeid, {})
        row["result"] = "FAILED"
        crash = getattr(report.longrepr, "reprcrash", None)
        row["failure"] = crash.message.splitlines()[0][:160] if crash else report.when
    elif report.when == "call" and report.passed:
        _rows.setdefault(report.nodeid, {}).setdefault("result", "passed")


def pytest_terminal_summary(terminalreporter) -> None:
    rows = [dict(row, test=nodeid) for nodeid, row in _rows.items() if "fault" in row]
    if not rows:
        return
    write = terminalreporter.write_line
    terminalreporter.section("chaos report")
    header = ("fault", "expected", "observed", "rows lost", "bad rows", "result")
    width = (32, 40, 56, 9, 8, 7)
    write("  ".join(h.ljust(w) for h, w in zip(header, width, strict=True)))
    for row in rows:
        observed = row.get("observed") or ""
        if row.get("result") == "FAILED":
            observed = f"{observed} | test failed: {row.get('failure', '')}".strip(" |")
        cells = (
            row["fault"],
            row["expected"],
            observed,
            "-" if row.get("rows_lost") is None else str(row["rows_lost"]),
            "-" if row.get("bad_rows") is None else str(row["bad_rows"]),
            row.get("result", "?"),
        )
        lines = [_wrap(c, w) for c, w in zip(cells, width, strict=True)]
        for i in range(max(len(part) for part in lines)):
            write(
                "  ".join(
                    (part[i] if i < len(part) else "").ljust(w)
                    for part, w in zip(lines, width, strict=True)
                ).rstrip()
            )
    write(
        "rows lost: ECB rates gold does not serve once the fault is lifted; bad rows: rates gold "
        "serves, after the faulty run and after the re-run, that the ECB did not publish "
        "(both must be 0; -: not measured)"
    )
    wall = time.monotonic() - _started
    workers = getattr(terminalreporter.config.option, "numprocesses", None) or 1
    write(f"chaos suite: {len(rows)} faults in {wall:.0f}s wall time, {workers} worker(s)")
    REPORT_FILE.parent.mkdir(exist_ok=True)
    REPORT_FILE.write_text(
        json.dumps(
            {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "wall_seconds": round(wall),
                "workers": workers,
                "faults": rows,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    write(f"written to {REPORT_FILE.relative_to(REPO)}")


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else [""]


@pytest.fixture(scope="session")
def shared_tmp(tmp_path_factory) -> Path:
    """A folder every xdist worker of this session sees (the session's base folder)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _clean_run(folder: Path, mirror, day: str, deploy: Callable[..., Deployment]) -> Path:
    """`deploy(root, source_env)`'s deployment run cleanly with the sources published up to
    `day`, once a session in `folder`."""

    def build(root: Path) -> None:
        mirror.reset()
        mirror.set_as_of(day)
        deploy(root, mirror.env).pipeline()
        mirror.reset()

    return built_once(folder, build)


@pytest.fixture(scope="session")
def baseline(shared_tmp, _ecb_mirror_server) -> Path:
    """A clean pipeline run with the sources published up to BASE_DAY."""
    return _clean_run(shared_tmp / "chaos-baseline", _ecb_mirror_server, BASE_DAY, embedded)


@pytest.fixture(scope="session")
def reference(shared_tmp, baseline, _ecb_mirror_server) -> dict[str, Any]:
    """The baseline run on cleanly up to NEW_DAY: what gold and silver must converge to."""
    root = _clean_run(
        shared_tmp / "chaos-reference",
        _ecb_mirror_server,
        NEW_DAY,
        lambda root, env: seed(baseline, root, env),
    )
    deployment = embedded(root, _ecb_mirror_server.env)
    return {"served": served(deployment), "silver": silver_rows(deployment), "root": root}


@pytest.fixture
def sources(ecb_mirror) -> Iterator[FaultProxy]:
    """A fault proxy in front of the mirror, publishing up to NEW_DAY."""
    ecb_mirror.set_as_of(NEW_DAY)
    with FaultProxy(ecb_mirror.root_url) as proxy:
        yield proxy


@pytest.fixture
def lake(tmp_path, baseline, reference, sources, ecb_mirror) -> Deployment:
    """A copy of the baseline (embedded), reading the sources through the fault proxy."""
    return seed(baseline, tmp_path / "deployment", proxied_env(sources, ecb_mirror))


@pytest.fixture
def moto_proxy(moto_endpoint) -> Iterator[FaultProxy]:
    """A fault proxy in front of moto's S3 and DynamoDB."""
    with FaultProxy(moto_endpoint) as proxy:
        yield proxy


@pytest.fixture
def s3_lake(lake, baseline, moto_endpoint, moto_proxy):
    """The baseline deployment with its lake in a bucket, reached through `moto_proxy`."""
    bucket = f"chaos-{uuid.uuid4().hex[:12]}"
    s3_client(moto_endpoint).create_bucket(Bucket=bucket)
    upload_lake(baseline / "lake", moto_endpoint, bucket)
    lake.env.update(DUMMY_CREDENTIALS)
    lake.env.update(
        LAKE_URL=f"s3://{bucket}/lake", S3_ENDPOINT_URL=moto_proxy.url, **{DIRECT_S3: moto_endpoint}
    )
    return lake


@pytest.fixture
def hot(lake, reference, moto_proxy, moto_endpoint):
    """Gold on DynamoDB holding the baseline; the lake then publishes the reference's silver."""
    lake.env.update(DUMMY_CREDENTIALS)
    lake.env.update(
        HOT_STORE="dynamodb",
        DYNAMODB_ENDPOINT_URL=moto_proxy.url,
        TABLE_PREFIX=f"chaos{uuid.uuid4().hex[:8]}_",
        **{DIRECT_DYNAMODB: moto_endpoint},
    )
    lake.run("makerates-gold", "sync")
    lake_dir = lake.workdir.parent / "lake"
    shutil.rmtree(lake_dir)
    shutil.copytree(reference["root"] / "lake", lake_dir)
    moto_proxy.requests.clear()
    return lake
