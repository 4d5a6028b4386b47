"""Plain one-line logs, with secrets in URLs redacted before anything is printed."""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_SECRET_PATTERNS = [
    (
        re.compile(r"(?i)([?&](?:api_?key|access_?key|token|secret|signature|password)=)[^&\s]+"),
        r"\1***",
    ),
    (re.compile(r"(?i)(/v6/)[0-9a-f]{16,}(/)"), r"\1***\2"),
    (re.compile(r"(://[^/\s:@]+:)[^@\s/]+@"), r"\1***@"),
]


def redact(text: str) -> str:
    """Hide API keys, tokens and passwords that sit inside URLs."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(stage: str, level: str = "INFO") -> logging.Logger:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _RedactingFormatter(f"%(asctime)s {stage} %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("botocore", "boto3", "urllib3", "s3fs", "fsspec", "aiobotocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return logging.getLogger("makerates")


def progress(items: Iterable[T], total: int, label: str, every_seconds: float = 2.0) -> Iterator[T]:
    """Yield items and log `label: done/total (rate/s)` at most every few seconds.

    One plain line at a time, so it reads the same on a terminal and in Kestra's logs.
    """
    log = logging.getLogger("makerates")
    started = last = time.monotonic()
    done = 0
    for item in items:
        yield item
        done += 1
        now = time.monotonic()
        if now - last >= every_seconds:
            last = now
            log.info("%s: %d/%d (%.0f/s)", label, done, total, done / max(now - started, 1e-9))
    if total:
        elapsed = max(time.monotonic() - started, 1e-9)
        log.info("%s: %d/%d done in %.1fs (%.0f/s)", label, done, total, elapsed, done / elapsed)
