"""The one HTTP GET every source uses: dlt's retrying client, and one-line errors.

dlt's `Client` retries 429, 5xx, connection errors and timeouts with exponential backoff and
honours `Retry-After` (capped at MAX_RETRY_DELAY); the subclass below only adds jitter, so runs
that failed together do not retry in lock-step.
"""

from __future__ import annotations

import json
import random
from typing import Any

from dlt.sources.helpers.requests import Client
from makerates_core.errors import UpstreamError
from requests import HTTPError, RequestException
from requests import Session as RequestsSession

ATTEMPTS = 3
MAX_RETRY_DELAY = 30.0  # seconds: the longest wait between attempts, Retry-After included
JITTER = 1.0  # seconds: up to this much is added to every wait


class JitteredClient(Client):
    def _make_session(self) -> RequestsSession:
        session = super()._make_session()
        retrying = session.send.retry  # the tenacity Retrying that dlt wrapped `send` with
        backoff = retrying.wait
        retrying.wait = lambda state: backoff(state) + random.uniform(0, JITTER)
        return session


def get(
    url: str,
    timeout: float,
    setting: str,
    attempts: int = ATTEMPTS,
    empty: tuple[int, bytes] | None = None,
) -> bytes | None:
    """The body at `url`, or a one-line UpstreamError naming the URL and the setting to check;
    None when the answer is `empty` (a status and a text its body holds: a provider's way of
    saying "no data in that range", as NBP's 404 "Brak danych")."""
    client = JitteredClient(
        request_timeout=timeout,
        request_max_attempts=attempts,
        request_max_retry_delay=MAX_RETRY_DELAY,
    )
    try:
        return client.session.get(url).content
    except RequestException as exc:
        response = exc.response if isinstance(exc, HTTPError) else None
        status = response.status_code if response is not None else None
        if empty is not None and status == empty[0] and empty[1] in response.content:
            return None
        if isinstance(exc, HTTPError) and exc.response is not None:
            reason = f"HTTP {exc.response.status_code} {exc.response.reason}"
        else:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UpstreamError(
            f"cannot fetch {url}: {reason}; check {setting} and the network, or retry later"
        ) from exc


def get_json(url: str, timeout: float, setting: str) -> dict[str, Any]:
    """A JSON object whose numbers stay their literal text ("1.0892", never a float)."""
    body = get(url, timeout, setting)
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
