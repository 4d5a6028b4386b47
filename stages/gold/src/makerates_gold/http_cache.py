"""HTTP plumbing shared by the v1 and v2 routes: max-age by whether a day is settled, an ETag
from a hash, 304 for a matching If-None-Match, the answers already rendered (`Rendered`); where
a route runs its reads (`runner`) and its query parameters' documentation (`query_doc`)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from datetime import date, timedelta
from typing import Any, ParamSpec, TypeVar

from fastapi import Request, Response
from makerates_core.hotstore import HotStore, SqliteHotStore
from starlette.concurrency import run_in_threadpool

from makerates_gold.reads import today

P = ParamSpec("P")
T = TypeVar("T")
Runner = Callable[..., Awaitable[Any]]
Answer = tuple[bytes, dict[str, str]]  # a rendered body and its headers

LATEST_MAX_AGE = 300  # the latest day changes once a working day
PAST_MAX_AGE = 86400  # a past day changes only if silver republishes it
SETTLED_DAYS = 7  # a day older than this gets PAST_MAX_AGE
SHORT_RANGE_DAYS = 400  # a range up to this long runs as a point read does (range_runner)


def settled(day: date) -> bool:
    """A day more than SETTLED_DAYS old: its answers get PAST_MAX_AGE."""
    return day < today() - timedelta(days=SETTLED_DAYS)


def max_age(day: date) -> int:
    """The Cache-Control max-age of an answer about `day`."""
    return PAST_MAX_AGE if settled(day) else LATEST_MAX_AGE


def etag(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


def headers(tag: str, age: int, vary: bool = False) -> dict[str, str]:
    found = {"ETag": tag, "Cache-Control": f"public, max-age={age}"}
    return {**found, "Vary": "Accept"} if vary else found


def not_modified(request: Request, answer_headers: dict[str, str]) -> Response | None:
    """A 304 when the request's If-None-Match names this ETag (or is `*`), else None."""
    asked = request.headers.get("if-none-match", "")
    if answer_headers["ETag"] in [t.strip() for t in asked.split(",")] or asked.strip() == "*":
        return Response(status_code=304, headers=answer_headers)
    return None


class Rendered:
    """Answers already rendered, each under a key naming everything it depends on (a v1 day
    answer: the day, its item's content hash, the parameters, the max-age; a range: its days,
    the parameters and the content hash of each year it spans), so that a repeated question
    skips the reads' exact rebasing, the JSON and the ETag. Bounded by the bodies' bytes
    (least recently used out first); one lock, as DynamoDB-backed routes render in the
    threadpool."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0  # the bytes of the bodies kept
        self._answers: OrderedDict[Hashable, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, render: Callable[[], Answer]) -> Answer:
        """The answer kept under `key`, else `render()`'s, kept (an exception keeps nothing)."""
        with self._lock:
            found = self._answers.get(key)
            if found is not None:
                self._answers.move_to_end(key)
                return found
        answer = render()
        with self._lock:
            if key not in self._answers and len(answer[0]) <= self.max_bytes:
                self._answers[key] = answer
                self.size += len(answer[0])
            while self.size > self.max_bytes:
                self.size -= len(self._answers.popitem(last=False)[1][0])
        return answer


def runner(store: HotStore) -> Runner:
    """How a route runs a point read of `store`: in the event loop on the local SQLite store (a
    point read is one or two indexed look-ups in a local file, cheaper than the hop to the
    threadpool), in the threadpool otherwise (DynamoDB's requests are network I/O: a blocking
    call in the loop would stall every other request). Ranges: `range_runner`."""
    if isinstance(store, SqliteHotStore):
        return _inline
    return run_in_threadpool


def range_runner(store: HotStore, days: int) -> Runner:
    """How a route runs a range `days` long: as a point read (`runner`) up to SHORT_RANGE_DAYS,
    in the threadpool beyond. A year of day items reads in ~10 ms from SQLite, and under load
    the hop to the threadpool cost a third of the throughput (70 vs 100 req/s with 16 clients);
    the whole history takes ~1 s, which must never hold the event loop."""
    return runner(store) if days <= SHORT_RANGE_DAYS else run_in_threadpool


async def _inline(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return work(*args, **kwargs)


def query_doc(**described: str) -> dict[str, Any]:
    """A route's `openapi_extra` documenting optional string query parameters (name →
    description; a trailing `_` is dropped: `from_` is `from`). The routes read
    `request.query_params` themselves, so no dependency is resolved per request."""
    parameters = [
        {
            "name": name.removesuffix("_"),
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": description,
        }
        for name, description in described.items()
    ]
    return {"parameters": parameters}
