"""The fault proxy itself, in front of a small upstream that echoes what it received."""

from __future__ import annotations

import http.client
import json
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fault_proxy import Fault, FaultProxy

BODY = b"0123456789" * 10


class Echo(BaseHTTPRequestHandler):
    """GET: BODY; POST: a DynamoDB-like JSON answer naming the items it received."""

    def do_GET(self) -> None:
        self.reply(BODY)

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()

    def do_POST(self) -> None:
        received = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append(received)
        self.reply(json.dumps({"UnprocessedItems": {}}).encode(), crc=True)

    def reply(self, body: bytes, crc: bool = False) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if crc:
            self.send_header("x-amz-crc32", str(zlib.crc32(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    upstream.received = []
    threading.Thread(target=upstream.serve_forever, args=(0.05,), daemon=True).start()
    host, port = upstream.server_address[:2]
    with FaultProxy(f"http://{host}:{port}") as proxy:
        proxy.upstream_server = upstream
        yield proxy
    upstream.shutdown()
    upstream.server_close()


def request(proxy: FaultProxy, method: str = "GET", path: str = "/a", body=None, headers=None):
    host, port = proxy.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        connection.close()


def test_forwards_unchanged_and_counts(proxy):
    assert request(proxy)[::2] == (200, BODY)
    status, headers, _ = request(proxy, "HEAD")
    assert status == 200 and headers["Content-Length"] == str(len(BODY))
    assert proxy.count(path="^/a$") == 2


def test_status_for_n_requests_after_m_then_recovery(proxy):
    fault = proxy.add(Fault("status", path="^/a", status=503, after=1, times=2))
    statuses = [request(proxy)[0] for _ in range(4)]
    assert statuses == [200, 503, 503, 200]
    assert (fault.seen, fault.injected) == (4, 2)
    assert request(proxy, path="/b")[0] == 200  # not matched


def test_retry_after_header(proxy):
    proxy.add(Fault("status", status=429, headers={"Retry-After": "7"}))
    status, headers, _ = request(proxy)
    assert status == 429 and headers["Retry-After"] == "7"


def test_delay(proxy):
    proxy.add(Fault("delay", delay=0.5, times=1))
    started = time.monotonic()
    assert request(proxy)[0] == 200
    assert time.monotonic() - started >= 0.5


@pytest.mark.parametrize("action", ["close", "reset"])
def test_connection_dropped(proxy, action):
    proxy.add(Fault(action, times=1))
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        request(proxy)
    assert request(proxy)[0] == 200


def test_truncate_sends_half_the_announced_body(proxy):
    proxy.add(Fault("truncate"))
    with pytest.raises(http.client.IncompleteRead) as cut:
        request(proxy)
    assert cut.value.partial == BODY[: len(BODY) // 2]


def test_body_and_rewrite(proxy):
    proxy.add(Fault("body", path="^/a", body=b"<broken"))
    proxy.add(Fault("rewrite", path="^/b", rewrite=bytes.upper))
    assert request(proxy)[2] == b"<broken"
    assert request(proxy, path="/b")[2] == BODY.upper()


def dynamodb_write(proxy, items: int):
    body = json.dumps(
        {"RequestItems": {"t": [{"PutRequest": {"Item": {"n": i}}} for i in range(items)]}}
    )
    headers = {"X-Amz-Target": "DynamoDB_20120810.BatchWriteItem"}
    status, answer_headers, answer = request(proxy, "POST", "/", body.encode(), headers)
    assert answer_headers["x-amz-crc32"] == str(zlib.crc32(answer) & 0xFFFFFFFF)
    return status, json.loads(answer)


def test_throttle_matches_the_target_header(proxy):
    proxy.add(Fault("throttle", target=r"\.BatchWriteItem$", times=1))
    status, answer = dynamodb_write(proxy, 1)
    assert status == 400 and answer["__type"].endswith("ProvisionedThroughputExceededException")
    assert dynamodb_write(proxy, 1)[0] == 200


def test_unprocessed_items_are_held_back_not_forwarded(proxy):
    proxy.add(Fault("unprocessed", target="BatchWriteItem", keep=2, payload='"t"'))
    status, answer = dynamodb_write(proxy, 5)
    assert status == 200
    assert [r["PutRequest"]["Item"]["n"] for r in answer["UnprocessedItems"]["t"]] == [2, 3, 4]
    forwarded = proxy.upstream_server.received[-1]["RequestItems"]["t"]
    assert [r["PutRequest"]["Item"]["n"] for r in forwarded] == [0, 1]


def test_unknown_action_is_refused():
    with pytest.raises(ValueError, match="unknown fault action"):
        Fault("explode")
