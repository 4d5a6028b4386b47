"""Redaction: what a stage prints never carries a key, a password or a secret variable."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from makerates_core.errors import UpstreamError, one_line_errors
from makerates_core.logs import RedactingStream, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "cannot fetch https://v6.exchangerate-api.com/v6/SECRETKEY123/latest/USD: 403",
            "cannot fetch https://v6.exchangerate-api.com/v6/***/latest/USD: 403",
        ),
        ("https://open.er-api.com/v6/latest/USD", "https://open.er-api.com/v6/latest/USD"),
        (
            "http://api.test/latest?apikey=k3y&base=EUR",
            "http://api.test/latest?apikey=***&base=EUR",
        ),
        ("http://api.test/live?access_key=abc123#x", "http://api.test/live?access_key=***#x"),
        ("GET /x?client_secret=s&api_key=k", "GET /x?client_secret=***&api_key=***"),
        (
            "s3://b/k?X-Amz-Credential=AKIA%2F2024&X-Amz-Signature=f00d",
            "s3://b/k?X-Amz-Credential=***&X-Amz-Signature=***",
        ),
        ("https://user:pass@host/db", "https://user:***@host/db"),
        ("https://ghp_token@host/repo", "https://***@host/repo"),
        # nothing secret: left as is, so the line stays useful
        (
            "s3://makerates-lake/lake/bronze/x.jsonl.gz",
            "s3://makerates-lake/lake/bronze/x.jsonl.gz",
        ),
        ("http://127.0.0.1:8080/a@b", "http://127.0.0.1:8080/a@b"),
        ("mail ops@example.com", "mail ops@example.com"),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected


def test_values_of_secret_variables_are_masked(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCY")
    monkeypatch.setenv("SECRET_EXCHANGERATE_API_KEY", "0123456789abcdef0123")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID")  # an identifier, not a secret
    monkeypatch.setenv("DB_PASSWORD", "short")  # too short to mask without masking words
    monkeypatch.setenv("DESTINATION__FILESYSTEM__CREDENTIALS__REGION_NAME", "eu-central-1")
    line = redact(
        "secret wJalrXUtnFEMI/K7MDENG/bPxRfiCY key 0123456789abcdef0123 id AKIAEXAMPLEKEYID short"
        " in eu-central-1"
    )
    assert line == "secret *** key *** id AKIAEXAMPLEKEYID short in eu-central-1"


def test_stream_redacts_a_secret_written_in_pieces():
    sink = io.StringIO()
    stream = RedactingStream(sink)
    for piece in ("GET https://h/v6/SECRET", "KEY123/latest", "/USD\nnext line"):
        stream.write(piece)
    assert sink.getvalue() == "GET https://h/v6/***/latest/USD\n"
    stream.flush()
    assert sink.getvalue() == "GET https://h/v6/***/latest/USD\nnext line"


def test_one_line_errors_redacts_the_error_line(capsys):
    @one_line_errors
    def main() -> int:
        raise UpstreamError("cannot fetch http://u:hunter22@h/x?apikey=K3Y9: timed out")

    assert main() == 3
    assert capsys.readouterr().err == "error: cannot fetch http://u:***@h/x?apikey=***: timed out\n"


def test_a_traceback_is_redacted_too():
    """An unexpected exception's traceback goes through the redacting stderr."""
    program = (
        "from makerates_core.logs import setup_logging\n"
        "setup_logging('test')\n"
        "print('fetching https://v6.exchangerate-api.com/v6/SECRETKEY123/latest/USD')\n"
        "raise RuntimeError('failed: https://v6.exchangerate-api.com/v6/SECRETKEY123/latest')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "RuntimeError: failed:" in done.stderr
    assert "v6/***/latest/USD" in done.stdout
    assert "SECRETKEY123" not in done.stdout + done.stderr


def test_progress_logs_running_counts_and_a_last_line(caplog, monkeypatch):
    import logging

    from makerates_core import logs

    clock = iter(range(0, 100, 3))  # every item 3 s later: each one is worth a line
    monkeypatch.setattr(logs.time, "monotonic", lambda: next(clock))
    batches = [[1, 2], [3, 4, 5], [6]]
    with caplog.at_level(logging.INFO, logger="makerates"):
        assert list(logs.progress(batches, "rows", size=len)) == batches
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "rows: 2 (1/s)",
        "rows: 5 (1/s)",
        "rows: 6 (1/s)",
        "rows: 6 done in 12.0s (0/s)",
    ]


def _run(program: str, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MAKERATES_DEBUG_LOG": str(tmp_path / "debug.log")}
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, env=env
    )


def test_a_library_traceback_reaches_the_debug_log_not_the_screen(tmp_path):
    program = (
        "import logging\n"
        "from makerates_core.logs import setup_logging\n"
        "log = setup_logging('test')\n"
        "try:\n"
        "    raise ValueError('deep inside')\n"
        "except ValueError:\n"
        "    logging.getLogger('dlt').warning('Job retried with message Traceback', exc_info=True)\n"
        "log.info('ours\\nsecond line')\n"
    )
    done = _run(program, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.endswith(" test INFO ours\n") and done.stderr.count("\n") == 1
    debug = (tmp_path / "debug.log").read_text()
    assert "Job retried" in debug and "ValueError: deep inside" in debug and "second line" in debug


@pytest.mark.parametrize(
    ("raised", "code", "line"),
    [
        (
            "OSError(errno.ENOSPC, 'No space left on device', '/lake/x.parquet')",
            3,
            "error: No space left on device: /lake/x.parquet; the disk is full: free space there "
            "(or point LAKE_URL / HOT_STORE elsewhere), then re-run",
        ),
        (
            "PermissionError(errno.EACCES, 'Permission denied', '/lake')",
            3,
            "error: Permission denied: /lake; permission denied: check that path's owner and "
            "mode, then re-run",
        ),
        (
            "KeyError('boom')",
            70,
            "error: unexpected KeyError: 'boom'; the traceback is in {log}; re-run, and report "
            "it if it persists",
        ),
    ],
    ids=["disk-full", "permission-denied", "a-bug"],
)
def test_every_failure_is_one_line_and_an_exit_code(tmp_path, raised, code, line):
    program = (
        "import errno, sys\n"
        "from makerates_core.errors import one_line_errors\n"
        "from makerates_core.logs import setup_logging\n"
        "@one_line_errors\n"
        "def main():\n"
        "    setup_logging('test')\n"
        f"    raise {raised}\n"
        "sys.exit(main())\n"
    )
    done = _run(program, tmp_path)
    assert done.returncode == code
    assert done.stderr == line.format(log=tmp_path / "debug.log") + "\n"
    if code == 70:
        assert "Traceback" in (tmp_path / "debug.log").read_text()
