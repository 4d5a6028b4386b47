"""The one HTTP GET every source uses: dlt's retrying client, bounded in time and size, and
one-line errors.

dlt's `Client` retries 429, 5xx, connection errors and timeouts with exponential backoff and
honours `Retry-After` (capped at MAX_RETRY_DELAY); the subclass below only adds jitter, so runs
that failed together do not retry in lock-step.

`HTTP_TIMEOUT_SECONDS` bounds each socket operation, which a server dripping one byte at a
time never trips; so the whole request (connect, retries, every byte of the body) runs in a
worker thread that the caller waits for at most `HTTP_DEADLINE_SECONDS`. Past it the source
is down for this run. The body is streamed and counted as it arrives, on the wire and
decoded (a small gzip can inflate to gigabytes), and refused past its size limits.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from dlt.sources.helpers.requests import Client
from makerates_core.errors import UpstreamError
from makerates_core.settings import Settings
from requests import (
    ConnectionError,
    ConnectTimeout,
    HTTPError,
    RequestException,
    Response,
    Timeout,
)
from requests import Session as RequestsSession

ATTEMPTS = 3
MAX_RETRY_DELAY = 30.0  # seconds: the longest wait between attempts, Retry-After included
JITTER = 1.0  # seconds: up to this much is added to every wait
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """How long and how much one upstream document may take (the HTTP_* settings; their
    defaults are Settings')."""

    timeout: float  # each socket operation (HTTP_TIMEOUT_SECONDS)
    deadline: float  # the whole request, retries included (HTTP_DEADLINE_SECONDS)
    max_download_bytes: int  # as sent, compressed (HTTP_MAX_DOWNLOAD_BYTES)
    max_document_bytes: int  # decoded (HTTP_MAX_DOCUMENT_BYTES)

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            settings.http_timeout_seconds,
            settings.http_deadline_seconds,
            settings.http_max_download_bytes,
            settings.http_max_document_bytes,
        )


def too_large(url: str, limit_setting: str, limit: int, what: str, setting: str) -> UpstreamError:
    """A document over a size limit: nothing of it is loaded."""
    return UpstreamError(
        f"{url} is larger than {limit_setting}={limit} bytes ({what}); nothing of it was "
        f"loaded; check {setting}, or raise {limit_setting} if the document is genuine"
    )


class Unreachable(UpstreamError):
    """The source did not answer at all (no route, no name, refused, timed out)."""


def short_reason(exc: RequestException) -> str:
    """What went wrong, in a few words: urllib3's own text runs to a thousand characters."""
    text = str(exc)
    if isinstance(exc, ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, Timeout):
        return "Read timed out"
    if isinstance(exc, ConnectionError):
        if "NameResolutionError" in text or "Name or service not known" in text:
            return "the host name does not resolve"
        if "Connection refused" in text:
            return "connection refused"
        if "Network is unreachable" in text or "No route to host" in text:
            return "the network is unreachable"
    first = text.splitlines()[0] if text else type(exc).__name__
    return first if len(first) <= 160 else first[:157] + "..."


class JitteredClient(Client):
    def _make_session(self) -> RequestsSession:
        session = super()._make_session()
        retrying = session.send.retry  # the tenacity Retrying that dlt wrapped `send` with
        backoff = retrying.wait
        retrying.wait = lambda state: backoff(state) + random.uniform(0, JITTER)
        return session


def read_body(response: Response, limits: Limits, setting: str, until: float) -> bytes:
    """The response's decoded body, streamed; an UpstreamError past either size limit. Stops
    reading once `until` (a monotonic time) has passed: the caller has given up by then."""
    url = response.url
    sent = ("HTTP_MAX_DOWNLOAD_BYTES", limits.max_download_bytes, "as sent")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limits.max_download_bytes:
        raise too_large(url, *sent, setting)
    chunks, size = [], 0
    for chunk in response.iter_content(CHUNK):
        size += len(chunk)
        if response.raw.tell() > limits.max_download_bytes:
            raise too_large(url, *sent, setting)
        if size > limits.max_document_bytes:
            raise too_large(
                url, "HTTP_MAX_DOCUMENT_BYTES", limits.max_document_bytes, "decoded", setting
            )
        if time.monotonic() > until:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _fetch(url: str, limits: Limits, setting: str, attempts: int, until: float, empty, out):
    """The worker: the body (or None for an `empty` answer) or the error, into `out`."""
    client = JitteredClient(
        request_timeout=limits.timeout,
        request_max_attempts=attempts,
        request_max_retry_delay=MAX_RETRY_DELAY,
    )
    try:
        with client.session.get(url, stream=True) as response:
            out["body"] = read_body(response, limits, setting, until)
    except RequestException as exc:
        response = exc.response if isinstance(exc, HTTPError) else None
        status = response.status_code if response is not None else None
        if empty is not None and status == empty[0]:
            body = _bounded_text(response, limits, setting, until)
            if empty[1] in body:
                out["body"] = None
                return
        if response is not None:
            reason = f"HTTP {response.status_code} {response.reason}"
        else:
            reason = short_reason(exc)
        kind = Unreachable if isinstance(exc, ConnectionError | Timeout) else UpstreamError
        out["error"] = kind(
            f"cannot fetch {url}: {reason}; check {setting} and the network, or retry later"
        )
    except UpstreamError as exc:
        out["error"] = exc


def _bounded_text(response: Response, limits: Limits, setting: str, until: float) -> bytes:
    try:
        return read_body(response, limits, setting, until)
    except (RequestException, UpstreamError):
        return b""


def get(
    url: str,
    limits: Limits,
    setting: str,
    attempts: int = ATTEMPTS,
    empty: tuple[int, bytes] | None = None,
) -> bytes | None:
    """The body at `url`, or a one-line UpstreamError naming the URL and the setting to check;
    None when the answer is `empty` (a status and a text its body holds: a provider's way of
    saying "no data in that range", as NBP's 404 "Brak danych").

    Whatever the server does, this returns or raises within `limits.deadline` seconds: a
    request still running then is abandoned to its (daemon) thread."""
    out: dict[str, Any] = {}
    until = time.monotonic() + limits.deadline
    worker = threading.Thread(
        target=_fetch,
        args=(url, limits, setting, attempts, until, empty, out),
        name=f"fetch {url}",
        daemon=True,
    )
    worker.start()
    worker.join(limits.deadline)
    if worker.is_alive() or time.monotonic() > until:
        raise UpstreamError(
            f"{url} did not answer in full within HTTP_DEADLINE_SECONDS={limits.deadline:g}; "
            f"the source counts as down for this run; check {setting} and the network, "
            "or raise HTTP_DEADLINE_SECONDS"
        )
    if "error" in out:
        raise out["error"]
    return out["body"]


def get_json(url: str, limits: Limits, setting: str) -> dict[str, Any]:
    """A JSON object whose numbers stay their literal text ("1.0892", never a float)."""
    body = get(url, limits, setting)
    try:
        document = json.loads(body, parse_float=str, parse_int=str, parse_constant=str)
    except ValueError as exc:
        raise UpstreamError(f"{url} did not answer JSON ({exc}); check {setting}") from exc
    if not isinstance(document, dict):
        raise UpstreamError(f"{url} answered JSON that is not an object; check {setting}")
    return document


def text(value: Any) -> str | None:
    """A JSON value as bronze keeps it: numbers and strings as their text, null as None."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))
