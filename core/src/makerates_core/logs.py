"""Plain one-line logs; nothing a stage prints carries a secret.

`setup_logging` puts a redacting filter in front of the process's stdout and stderr, so every
line is redacted whoever writes it: our logs, the one-line errors, the Kestra output lines,
dlt's and dbt's own output, and a traceback.

The screen gets one line per record of makerates' own, from INFO, never a traceback.
Everything, tracebacks included, also goes to the debug log (`MAKERATES_DEBUG_LOG`, default
~/.cache/makerates/logs/<stage>.log, rotated), which an error line points at when there is
more to read.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO, TypeVar

T = TypeVar("T")

MASK = "***"
_SECRET_PATTERNS = [
    # ?apikey=…, &access_key=…, &X-Amz-Signature=…, ?client_secret=…, ?token=…
    (
        re.compile(
            r"(?i)([?&][\w.-]*(?:key|token|secret|signature|password|credential)[\w.-]*=)"
            r"[^&\s#]+?(?=[&#]|[:;,.)'\"\]]*(?:\s|$))"  # punctuation ending a sentence stays
        ),
        rf"\1{MASK}",
    ),
    # ExchangeRate-API puts the key in the path: /v6/<key>/latest/USD (open access: /v6/latest)
    (re.compile(r"(?i)(/v6/)(?!latest\b)[^/\s?#]+"), rf"\1{MASK}"),
    # https://user:password@host keeps the user; https://token@host keeps nothing
    (re.compile(r"(://(?:[^/\s:@]+:)?)[^/\s:@]+@"), rf"\1{MASK}@"),
]
# The values of variables named like secrets never appear in output: AWS_SECRET_ACCESS_KEY,
# AWS_SESSION_TOKEN, *_PASSWORD, *_API_KEY, Kestra's SECRET_*. The name's end decides, so
# dlt's …__CREDENTIALS__ENDPOINT_URL or …__REGION_NAME stay readable; short values would mask
# ordinary words.
_SECRET_ENV = re.compile(
    r"(?i)^SECRET_|(SECRET|SECRET_KEY|SECRET_ACCESS_KEY|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_KEY)$"
)
_MIN_SECRET_LENGTH = 8


def _environment_secrets() -> list[str]:
    values = {
        value
        for name, value in os.environ.items()
        if _SECRET_ENV.search(name) and len(value) >= _MIN_SECRET_LENGTH
    }
    return sorted(values, key=len, reverse=True)  # a longer secret first, if one holds another


def redact(text: str) -> str:
    """Hide API keys, tokens and passwords inside URLs, and the values of secret variables."""
    for value in _environment_secrets():
        text = text.replace(value, MASK)
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingStream(io.TextIOBase):
    """A text stream that redacts each line before passing it on.

    Whole lines are redacted, so a secret written in pieces is still caught; a partial line
    goes out on flush().
    """

    def __init__(self, stream: TextIO):
        self.stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        if lines:
            self.stream.write("".join(redact(line) + "\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.stream.write(redact(self._pending))
            self._pending = ""
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", "utf-8")


def redact_output() -> None:
    """Route sys.stdout and sys.stderr through RedactingStream (once)."""
    if not isinstance(sys.stdout, RedactingStream):
        sys.stdout = RedactingStream(sys.stdout)
    if not isinstance(sys.stderr, RedactingStream):
        sys.stderr = RedactingStream(sys.stderr)


TRACEBACKS = "makerates.traceback"  # a logger whose records only the debug log receives


class ScreenFilter(logging.Filter):
    """makerates' own records from `level`; the libraries' (dlt's retries, botocore's warnings,
    tracebacks inside their messages) only in the debug log: what they mean for the run is in
    ours, and in the one `error:` line."""

    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name == "makerates" or record.name.startswith("makerates.")
        return ours and record.name != TRACEBACKS and record.levelno >= self.level


class OneLineFormatter(logging.Formatter):
    """A record's first line, without its traceback (the debug log keeps both)."""

    def format(self, record: logging.LogRecord) -> str:
        lines = record.getMessage().strip().splitlines()
        copy = logging.makeLogRecord(record.__dict__)
        copy.msg, copy.args = (lines[0] if lines else ""), None
        copy.exc_info = copy.exc_text = copy.stack_info = None
        return super().format(copy)


def debug_log_path(stage: str) -> Path:
    configured = os.environ.get("MAKERATES_DEBUG_LOG")
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "makerates" / "logs" / f"{stage}.log"


def _debug_handler(stage: str, formatter: logging.Formatter) -> logging.Handler | None:
    """A rotating file of everything; in the temp folder when the cache is not writable."""
    for path in (debug_log_path(stage), Path(tempfile.gettempdir()) / f"makerates-{stage}.log"):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=5_000_000, backupCount=2, encoding="utf-8"
            )
        except OSError:
            continue
        handler.setFormatter(formatter)
        return handler
    return None


def debug_log() -> str:
    """Where this process's debug log is, for an error line to point at."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            return handler.baseFilename
    return "the debug log (MAKERATES_DEBUG_LOG)"


def setup_logging(stage: str, level: str = "INFO") -> logging.Logger:
    redact_output()
    layout = (f"%(asctime)s {stage} %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    screen = logging.StreamHandler(sys.stderr)
    screen.setFormatter(OneLineFormatter(*layout))
    screen.addFilter(ScreenFilter(logging.getLevelName(level.upper())))
    root = logging.getLogger()
    root.handlers[:] = [screen]
    debug = _debug_handler(stage, logging.Formatter(*layout))
    if debug is not None:
        root.handlers.append(debug)
    root.setLevel(min(logging.getLevelName(level.upper()), logging.INFO))
    for noisy in ("botocore", "boto3", "urllib3", "s3fs", "fsspec", "aiobotocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return logging.getLogger("makerates")


def progress(
    items: Iterable[T],
    label: str,
    total: int | None = None,
    size: Callable[[T], int] = lambda _: 1,
    every_seconds: float = 2.0,
) -> Iterator[T]:
    """Yield items and log `label: done[/total] (rate/s)` at most every few seconds, and a
    last line when done. `size` counts what one item holds (the rows of a batch).

    One plain line at a time, so it reads the same on a terminal and in Kestra's logs.
    """
    log = logging.getLogger("makerates")
    of = f"/{total}" if total is not None else ""
    started = last = time.monotonic()
    done = 0
    for item in items:
        yield item
        done += size(item)
        now = time.monotonic()
        if now - last >= every_seconds:
            last = now
            log.info("%s: %d%s (%.0f/s)", label, done, of, done / max(now - started, 1e-9))
    elapsed = max(time.monotonic() - started, 1e-9)
    log.info("%s: %d%s done in %.1fs (%.0f/s)", label, done, of, elapsed, done / elapsed)
