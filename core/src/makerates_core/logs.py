"""Plain one-line logs; nothing a stage prints carries a secret.

`setup_logging` puts a redacting filter in front of the process's stdout and stderr, so every
line is redacted whoever writes it: our logs, the one-line errors, the Kestra output lines,
dlt's and dbt's own output, and a traceback.
"""

from __future__ import annotations

import io
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
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


def setup_logging(stage: str, level: str = "INFO") -> logging.Logger:
    redact_output()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(f"%(asctime)s {stage} %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
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
