"""POST /v2/audit: `makerates audit` over HTTP (`audit.py`; DESIGN.md, "Audit").

The body is the statement: CSV (`Content-Type: text/csv`, or any type that is not JSON) or
JSON (`application/json`: `{"rows": [{"date": …, "amount": …, "from": …, "to": …,
"received": …}, …]}`). Options are query parameters: `reference` (blend, alias consensus;
ecb; a provider key), `report_currency`, `timezone` and `<role>_column`. The answer is the
CLI's --json: `{"rows": [...], "summary": {...}}`, every number an exact string.

Errors, each `{"message": …}`: 413 for a body over MAX_BODY_BYTES or more than
audit.MAX_ROWS rows, 422 for a statement that cannot be audited as a whole (no header, a
missing column, not UTF-8, an unknown option), 503 when the hot tier cannot be reached or is
empty. A malformed row is not an error: it is listed in `summary.unpriced_rows`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from makerates_core.errors import UpstreamError, UserError
from makerates_core.hotstore import HotStore

from makerates_gold import audit

MAX_BODY_BYTES = 16 * 2**20  # ~250,000 rows of a plain statement
BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/json": {"schema": {"type": "object"}},
    },
}
ERRORS = {
    413: {"description": "the statement is too large"},
    422: {"description": "the statement cannot be audited"},
    503: {"description": "the hot tier cannot be reached or is empty"},
}


def _too_large() -> audit.TooLarge:
    return audit.TooLarge(f"the body is over {MAX_BODY_BYTES:,} bytes; split the statement")


async def read_body(request: Request) -> bytes:
    """The body, refused (TooLarge) as soon as it is over MAX_BODY_BYTES, declared or sent."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def statement(raw: bytes, content_type: str) -> audit.Table:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise audit.AuditError(f"the body is not UTF-8 text (byte {exc.start})") from None
    return audit.read_json(text) if "json" in content_type.lower() else audit.read_csv(text)


def _status(exc: UserError) -> int:
    if isinstance(exc, audit.TooLarge):
        return 413
    if isinstance(exc, UpstreamError | audit.Empty):
        return 503
    return 422


Column = Annotated[str | None, Query(description="the header of that column")]


def router(store: HotStore, table: str) -> APIRouter:
    """The /v2/audit route over `store`."""
    routes = APIRouter(prefix="/v2", tags=["audit"])

    @routes.post(
        "/audit",
        summary="what each conversion of a statement cost against the reference rates",
        openapi_extra={"requestBody": BODY},
        responses=ERRORS,
    )
    async def post_audit(
        request: Request,
        reference: str = audit.BLEND,
        report_currency: str = audit.PIVOT,
        timezone: str = "UTC",
        date_column: Column = None,
        amount_column: Column = None,
        from_column: Column = None,
        to_column: Column = None,
        received_column: Column = None,
        rate_column: Column = None,
    ) -> Response:
        named = (date_column, amount_column, from_column, to_column, received_column, rate_column)
        try:
            body = statement(await read_body(request), request.headers.get("content-type", ""))
            options = audit.Options(
                reference=audit.parse_reference(reference),
                report_currency=audit.parse_report_currency(report_currency),
                zone=audit.parse_zone(timezone),
                columns={r: n for r, n in zip(audit.ROLES, named, strict=True) if n},
                cells=False,
            )
            result = await run_in_threadpool(audit.audit, store, table, body, options)
        except UserError as exc:
            return JSONResponse({"message": str(exc)}, status_code=_status(exc))
        rows = audit.json_chunks(result, audit.Tally(result))  # priced as it is sent
        return StreamingResponse(rows, media_type="application/json")

    return routes
