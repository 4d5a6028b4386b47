"""Faults of the sources' HTTP: errors, throttling, timeouts, broken and empty documents.

Each test runs the pipeline (as `just pipeline` chains it) from a copy of the baseline while
the sources publish new days through the fault proxy, checks the promises, then lifts the fault,
runs again and checks it converged to the clean run's state.
"""

from __future__ import annotations

import io
import socket
import time
import zipfile
from collections.abc import Iterator

import pytest
from chaos_helpers import (
    ECB,
    assert_bronze_kept,
    attempt,
    bronze_files,
    check_converged,
    check_failed_run,
    rerun_converges,
    served,
    snapshot,
)
from fault_proxy import Fault, gzip_bomb

pytestmark = pytest.mark.chaos

ECB_DOCS = r"^/stats/eurofxref/"
FRANKFURTER = r"^/frankfurter/"
ECB_FAMILY = r"^/(stats/eurofxref|frankfurter)/"


def succeeds_and_converges(lake, reference, chaos_report) -> None:
    run = attempt(lake)
    assert run.failed_stage is None, run.failure.stderr[-2000:]
    check_converged(lake, reference, chaos_report)


@pytest.mark.fault("sources 503 twice, then recovery", "retried with backoff; run succeeds")
def test_503_then_recovery(lake, sources, reference, chaos_report):
    fault = sources.add(Fault("status", path=ECB_DOCS, status=503, times=2))
    succeeds_and_converges(lake, reference, chaos_report)
    assert fault.injected == 2
    gaps = [b.at - a.at for a, b in zip(sources.requests, sources.requests[1:], strict=False)]
    chaos_report.see(
        f"ECB answered 503 x2, retried after {gaps[0]:.1f}s and {gaps[1]:.1f}s; exit 0, converged"
    )
    assert gaps[1] > gaps[0] > 0.5  # exponential backoff


@pytest.mark.fault("ECB and Frankfurter 500 for good", "bronze exit 3, gold unchanged")
def test_500_until_fixed(lake, sources, reference, chaos_report):
    sources.add(Fault("status", path=ECB_FAMILY, status=500))
    before = snapshot(lake)
    run = attempt(lake)
    check_failed_run(lake, before, run, chaos_report, "bronze", 3)
    assert sources.count(ECB_DOCS) == 3 and sources.count(FRANKFURTER) == 3  # bounded retries
    sources.clear()
    rerun_converges(lake, reference, chaos_report)


@pytest.mark.fault("429 with Retry-After: 3", "waits >= 3 s, then succeeds")
def test_429_retry_after_is_honoured(lake, sources, reference, chaos_report):
    sources.add(Fault("status", path=ECB_DOCS, status=429, headers={"Retry-After": "3"}, times=1))
    succeeds_and_converges(lake, reference, chaos_report)
    first, second = sources.requests[:2]
    waited = second.at - first.at
    chaos_report.see(f"ECB retried {waited:.1f}s after the 429; exit 0, converged")
    assert first.fault == "status" and second.fault is None
    assert waited >= 3


@pytest.mark.fault("connection reset twice, then recovery", "retried; run succeeds")
def test_connection_reset_then_recovery(lake, sources, reference, chaos_report):
    fault = sources.add(Fault("reset", path=ECB_DOCS, times=2))
    succeeds_and_converges(lake, reference, chaos_report)
    assert fault.injected == 2
    chaos_report.see("ECB reset the connection x2; retried, exit 0, converged")


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A loopback address whose connects hang: a listener with a full accept queue."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    fillers = []
    for _ in range(3):  # fill the accept queue; later SYNs are dropped
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(server.getsockname())
        fillers.append(filler)
    host, port = server.getsockname()
    yield f"http://{host}:{port}"
    for sock in [*fillers, server]:
        sock.close()


@pytest.mark.fault("connect timeout (ECB and Frankfurter)", "bronze exit 3 in bounded time")
def test_connect_timeout(lake, sources, reference, chaos_report, blackhole):
    before = snapshot(lake)
    started = time.monotonic()
    run = attempt(
        lake,
        env={
            "ECB_BASE_URL": blackhole + "/stats/eurofxref",
            "FRANKFURTER_BASE_URL": blackhole + "/frankfurter",
            "HTTP_TIMEOUT_SECONDS": "1",
        },
    )
    seconds = time.monotonic() - started
    line = check_failed_run(lake, before, run, chaos_report, "bronze", 3)
    chaos_report.see(f"gave up after {seconds:.0f}s")
    assert "no source answered (ecb, frankfurter)" in line, line
    causes = [x for x in run.failure.stderr.splitlines() if " failed:" in x]
    assert [x.split(" failed:")[0].split()[-1] for x in causes] == ["ecb", "frankfurter"], causes
    assert all("timed out" in x.lower() for x in causes), causes
    assert seconds < 60
    sources.clear()
    rerun_converges(lake, reference, chaos_report)


@pytest.mark.fault("ECB read timeout (answers after 5 s)", "Frankfurter fills in; 0 lost")
def test_read_timeout_falls_back_to_frankfurter(lake, sources, reference, chaos_report):
    sources.add(Fault("delay", path=ECB_DOCS, delay=5))
    run = attempt(lake, env={"HTTP_TIMEOUT_SECONDS": "1"})
    assert run.failed_stage is None, run.failure.stderr[-2000:]
    bronze = run.results["bronze"]
    assert "ecb" in bronze.outputs["missing_sources"]
    assert "Read timed out" in bronze.stderr
    chaos_report.see("bronze exit 0 with a WARNING naming the ECB; Frankfurter's rates served")
    check_converged(lake, reference, chaos_report)
    sources.clear()
    rerun_converges(lake, reference, chaos_report)


def _falls_back(lake, reference, chaos_report, run, phrase: str) -> None:
    """The ECB failed with one line holding `phrase`; Frankfurter's rates were served."""
    assert run.failed_stage is None, run.failure.stderr[-2000:]
    bronze = run.results["bronze"]
    assert bronze.outputs["missing_sources"] == ["ecb"]
    assert "Traceback" not in bronze.stderr
    (line,) = [x for x in bronze.stderr.splitlines() if "ecb failed:" in x]
    assert phrase in line, line
    check_converged(lake, reference, chaos_report)


@pytest.mark.fault(
    "ECB drips one byte a second (a stalled CDN)",
    "the ECB is cut at HTTP_DEADLINE_SECONDS, Frankfurter's rates served; exit 0",
)
def test_slow_drip_is_cut_at_the_deadline(lake, sources, reference, chaos_report):
    sources.add(Fault("drip", path=ECB_DOCS, delay=1.0))
    started = time.monotonic()
    run = attempt(lake, env={"HTTP_DEADLINE_SECONDS": "4"})
    seconds = time.monotonic() - started
    _falls_back(lake, reference, chaos_report, run, "within HTTP_DEADLINE_SECONDS=4")
    chaos_report.see(f"ECB cut after 4 s (pipeline {seconds:.0f}s); Frankfurter served")
    assert seconds < 120  # unbounded, the daily document alone takes ~26 minutes
    sources.clear()
    rerun_converges(lake, reference, chaos_report)


@pytest.mark.fault(
    "ECB answers a 64 kB gzip that inflates to 200 MB",
    "one line naming HTTP_MAX_DOCUMENT_BYTES, nothing of it in bronze; Frankfurter served",
)
def test_gzip_bomb_is_refused(lake, sources, reference, chaos_report):
    bomb = gzip_bomb(200_000_000)
    sources.add(
        Fault("status", path=ECB_DOCS, status=200, body=bomb, headers={"Content-Encoding": "gzip"})
    )
    before = snapshot(lake)
    run = attempt(lake)
    _falls_back(lake, reference, chaos_report, run, "larger than HTTP_MAX_DOCUMENT_BYTES=")
    assert_bronze_kept(before.bronze, bronze_files(lake))
    chaos_report.see(
        f"{len(bomb) // 1000} kB bomb refused at the decoded limit; Frankfurter served"
    )
    sources.clear()
    rerun_converges(lake, reference, chaos_report)


def _only(source: str) -> dict[str, str]:
    return {"SOURCES": source}


@pytest.mark.parametrize(
    ("name", "fault", "source"),
    [
        ("malformed XML", Fault("body", path=ECB_DOCS, body=b"<gesmes:Envelope><Cube"), "ecb"),
        (
            "malformed JSON",
            Fault("body", path=FRANKFURTER, body=b'{"amount":1.0,"rates":{'),
            "frankfurter",
        ),
        ("empty document", Fault("body", path=ECB_DOCS, body=b""), "ecb"),
        (
            "HTML error page with 200",
            Fault("body", path=ECB_DOCS, body=b"<html><body>Maintenance</body></html>"),
            "ecb",
        ),
    ],
    ids=["malformed-xml", "malformed-json", "empty-document", "html-200"],
)
def test_bad_document(lake, sources, reference, chaos_report, name, fault, source):
    chaos_report.fault = f"{name} ({source})"
    chaos_report.expected = "bronze exit 3, one line naming the URL"
    sources.add(fault)
    before = snapshot(lake)
    run = attempt(lake, env=_only(source))
    line = check_failed_run(lake, before, run, chaos_report, "bronze", 3)
    assert "http://127.0.0.1" in line
    sources.clear()
    rerun_converges(lake, reference, chaos_report)


def _truncated_zip(body: bytes) -> bytes:
    zipfile.ZipFile(io.BytesIO(body))  # it was a zip
    return body[: len(body) // 2]


OLD_DAYS = ("2026-06-01", "2026-06-05")


@pytest.mark.parametrize(
    "fault",
    [
        Fault("rewrite", path=r"eurofxref-hist\.zip$", rewrite=_truncated_zip),
        Fault("truncate", path=r"eurofxref-hist\.zip$"),
    ],
    ids=["half-a-zip", "connection-cut-mid-body"],
)
def test_truncated_zip(lake, sources, reference, chaos_report, fault):
    chaos_report.fault = (
        "truncated history zip ("
        + ("200, half the bytes" if fault.action == "rewrite" else "cut mid-body")
        + ")"
    )
    chaos_report.expected = "backfill exit 3; re-run loads the days"
    sources.add(fault)
    before = snapshot(lake)
    run = attempt(lake, "backfill", *OLD_DAYS, env=_only("ecb"))
    check_failed_run(lake, before, run, chaos_report, "bronze", 3)
    sources.clear()
    again = attempt(lake, "backfill", *OLD_DAYS, env=_only("ecb"))
    assert again.failed_stage is None, again.failure.stderr[-2000:]
    gold = served(lake)
    old = {d: r for d, r in ECB.items() if OLD_DAYS[0] <= d <= OLD_DAYS[1]}
    chaos_report.rows_lost = sum(1 for d, r in old.items() for c in r if c not in gold.get(d, {}))
    chaos_report.bad_rows = sum(
        1 for d in old for c, v in gold.get(d, {}).items() if old[d].get(c) != v
    )
    chaos_report.see("re-run loaded the days exactly")
    assert chaos_report.rows_lost == 0 and chaos_report.bad_rows == 0
