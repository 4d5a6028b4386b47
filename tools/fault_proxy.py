"""A fault-injecting HTTP reverse proxy, for the chaos tests (stdlib only).

It sits in front of any HTTP upstream (the source mirror, moto's S3/DynamoDB server) and
forwards every request unchanged, except those a scripted `Fault` matches (method, path with
query, Host, `X-Amz-Target` and request-body regexes), which it answers with the fault instead:

- `status`      answer `status` (and `body`, `headers`, e.g. Retry-After) without forwarding
- `delay`       wait `delay` seconds, then forward (a read timeout when longer than the client's)
- `close`       close the connection without an answer
- `reset`       reset the connection (RST)
- `truncate`    forward, then send the upstream's headers and only half of its body
- `drip`        forward, then send the upstream's answer one byte every `delay` seconds (a
                stalled CDN: no socket read ever times out)
- `body`        forward, then answer `body` instead of the upstream's body
- `rewrite`     forward, then answer `rewrite(body)`
- `throttle`    DynamoDB's ProvisionedThroughputExceededException (400, JSON)
- `unprocessed` a DynamoDB BatchWriteItem: forward only the first `keep` items of each table
                and return the others as UnprocessedItems

A fault applies after `after` matching requests passed through ("down after N requests") and
for `times` matching requests (None: until removed), so "503 twice, then recovery" is
`Fault("status", status=503, times=2)`. The proxy counts every request (`requests`, `count`).

Library:  with FaultProxy(upstream) as proxy: proxy.add(Fault("status", path="daily", status=503))
Script:   python tools/fault_proxy.py UPSTREAM --port 8766 --fault '{"action":"reset","after":3}'
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.client
import io
import json
import re
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from loopback_http import LoopbackServer

ACTIONS = (
    "status",
    "delay",
    "close",
    "reset",
    "truncate",
    "drip",
    "body",
    "rewrite",
    "throttle",
    "unprocessed",
)
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
}
THROTTLED = json.dumps(
    {
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": "The level of configured provisioned throughput for the table was exceeded.",
    }
).encode()


@dataclass
class Fault:
    action: str
    method: str | None = None  # regexes, searched; None matches anything
    path: str | None = None
    host: str | None = None
    target: str | None = None  # the X-Amz-Target header
    payload: str | None = None  # the request body (e.g. a DynamoDB table name)
    status: int = 500
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    keep: int = 0  # `unprocessed`: items per table forwarded
    rewrite: Callable[[bytes], bytes] | None = None
    after: int = 0
    times: int | None = None
    seen: int = 0  # matching requests so far
    injected: int = 0  # of which the fault answered

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; use one of {ACTIONS}")

    def matches(self, method: str, path: str, host: str, target: str, body: bytes) -> bool:
        pairs = ((self.method, method), (self.path, path), (self.host, host), (self.target, target))
        if self.payload is not None and not re.search(self.payload.encode(), body):
            return False
        return all(rx is None or re.search(rx, value) for rx, value in pairs)

    def fires(self) -> bool:
        """Count one matching request; True when the fault answers it."""
        self.seen += 1
        if self.seen <= self.after or (self.times is not None and self.injected >= self.times):
            return False
        self.injected += 1
        return True


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    target: str
    fault: str | None  # the action that answered it, None when forwarded as is
    at: float  # time.monotonic() when it arrived


class FaultProxy:
    """A ThreadingHTTPServer on loopback forwarding to `upstream` (http://host:port)."""

    def __init__(self, upstream: str, host: str = "127.0.0.1", port: int = 0) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.faults: list[Fault] = []
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = LoopbackServer((host, port), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def proxied(self, url: str) -> str:
        """`url` of the upstream, as reached through this proxy."""
        parts = urlsplit(url)
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def add(self, fault: Fault | None = None, /, action: str | None = None, **match) -> Fault:
        """Add a fault (first added, first matched); returns it, to read its counters."""
        fault = fault or Fault(action or "status", **match)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def count(self, path: str | None = None, target: str | None = None) -> int:
        """Requests seen whose path / X-Amz-Target match these regexes."""
        with self._lock:
            seen = list(self.requests)
        return sum(
            1
            for r in seen
            if (path is None or re.search(path, r.path))
            and (target is None or re.search(target, r.target))
        )

    def _pick(self, method: str, path: str, host: str, target: str, body: bytes) -> Fault | None:
        with self._lock:
            chosen = None
            for fault in self.faults:
                if fault.matches(method, path, host, target, body) and fault.fires():
                    chosen = fault
                    break
            self.requests.append(
                Seen(method, path, target, chosen.action if chosen else None, time.monotonic())
            )
            return chosen

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP]
            if method == "HEAD" and answer.getheader("Content-Length"):
                kept.append(("Content-Length", answer.getheader("Content-Length")))  # not 0
            return answer.status, kept, payload
        finally:
            connection.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_one(self) -> None:
                body = self.read_body()
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                target = self.headers.get("X-Amz-Target", "")
                host = self.headers.get("Host", "")
                fault = proxy._pick(self.command, self.path, host, target, body)
                action = fault.action if fault else None
                if action == "delay":
                    proxy._stopping.wait(fault.delay)
                if action in ("close", "reset"):
                    self.drop(reset=action == "reset")
                    return
                if action == "status":
                    self.answer(fault.status, list(fault.headers.items()), fault.body or b"")
                    return
                if action == "throttle":
                    kind = [("Content-Type", "application/x-amz-json-1.0")]
                    self.answer(400, kind, THROTTLED, crc=True)
                    return
                held: dict = {}
                if action == "unprocessed":
                    body, held = hold_back(body, fault.keep)
                    headers["Content-Length"] = str(len(body))
                try:
                    status, kept, payload = proxy.forward(self.command, self.path, headers, body)
                except OSError:
                    self.answer(502, [], b"fault proxy: upstream unreachable")
                    return
                if action in ("truncate", "drip"):
                    drip = fault.delay if action == "drip" else None
                    self.answer(status, kept, payload, truncate=action == "truncate", drip=drip)
                    return
                if action == "body":
                    payload = fault.body or b""
                elif action == "rewrite":
                    payload = fault.rewrite(payload)
                elif action == "unprocessed":
                    payload = add_unprocessed(payload, held)
                crc = any(k.lower() == "x-amz-crc32" for k, _ in kept)
                self.answer(status, kept, payload, crc=crc)

            def do_GET(self) -> None:
                self.handle_one()

            do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_GET

            def read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def answer(self, status, headers, payload, crc=False, truncate=False, drip=None):
                self.send_response(status)
                for name, value in headers:
                    if name.lower() != "x-amz-crc32":
                        self.send_header(name, value)
                if crc:  # botocore checks DynamoDB answers against this header
                    self.send_header("x-amz-crc32", str(zlib.crc32(payload) & 0xFFFFFFFF))
                if self.command != "HEAD" or not any(
                    k.lower() == "content-length" for k, _ in headers
                ):
                    self.send_header("Content-Length", str(len(payload)))
                if truncate:
                    self.send_header("Connection", "close")
                self.end_headers()
                if drip is not None:
                    self.drip(payload, drip)
                elif self.command != "HEAD":
                    self.wfile.write(payload[: len(payload) // 2] if truncate else payload)
                if truncate:
                    self.wfile.flush()
                    self.close_connection = True

            def drip(self, payload: bytes, every: float) -> None:
                """One byte every `every` seconds, until the client or the proxy gives up."""
                try:
                    for offset in range(len(payload)):
                        if proxy._stopping.wait(every):
                            return
                        self.wfile.write(payload[offset : offset + 1])
                        self.wfile.flush()
                except OSError:
                    self.close_connection = True

            def drop(self, reset: bool) -> None:
                if reset:  # SO_LINGER 0: close() sends RST instead of FIN
                    linger = struct.pack("ii", 1, 0)
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.close_connection = True
                self.connection.close()

            def log_message(self, format: str, *args) -> None:  # quiet in tests
                pass

        return Handler

    def start(self) -> FaultProxy:
        # a short poll: stop() returns within it (the default half second, once per test)
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)
        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def gzip_bomb(size: int) -> bytes:
    """`size` zero bytes (whole megabytes), gzipped: a few hundred kB on the wire, to serve with
    `Content-Encoding: gzip` as a body that inflates past any sane limit."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as archive:
        for _ in range(size // 1_000_000):
            archive.write(bytes(1_000_000))
    return buffer.getvalue()


def hold_back(body: bytes, keep: int) -> tuple[bytes, dict]:
    """A BatchWriteItem body with only `keep` items per table, and the items held back."""
    request = json.loads(body)
    held = {}
    for table, items in request.get("RequestItems", {}).items():
        request["RequestItems"][table], rest = items[:keep], items[keep:]
        if rest:
            held[table] = rest
    request["RequestItems"] = {t: i for t, i in request["RequestItems"].items() if i}
    return json.dumps(request).encode(), held


def add_unprocessed(payload: bytes, held: dict) -> bytes:
    answer = json.loads(payload or b"{}")
    unprocessed = answer.setdefault("UnprocessedItems", {})
    for table, items in held.items():
        unprocessed.setdefault(table, []).extend(items)
    return json.dumps(answer).encode()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("upstream", help="http://host:port of the server to front")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        help='a Fault as JSON, e.g. \'{"action":"status","status":503,"times":2}\' (repeatable)',
    )
    args = parser.parse_args(argv)
    proxy = FaultProxy(args.upstream, host=args.host, port=args.port)
    for spec in args.fault:
        spec = json.loads(spec)
        if "body" in spec:
            spec["body"] = spec["body"].encode()
        proxy.add(Fault(**spec))
    print(f"fault proxy {proxy.url} -> {args.upstream}", flush=True)
    proxy.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        proxy.stop()


if __name__ == "__main__":
    main()
