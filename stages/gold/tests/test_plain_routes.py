"""The hottest point reads in plain ASGI (plain_routes): the same answers as FastAPI's, without
FastAPI, and every error still FastAPI's."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from makerates_gold.api import create_app
from makerates_gold.plain_routes import PLAIN_PATHS, PlainRoutes, plain_routes

ASKED = [
    "/v1/latest",
    "/v1/latest?from=USD&to=JPY,GBP&amount=250.5",
    "/v1/latest?symbols=CHF",
    "/v2/rates",
    "/v2/rates?base=USD&quotes=JPY",
    "/v2/rates?date=2024-02-29&base=GBP",
]
REFUSED = [
    ("/v1/latest?amount=abc", 422),
    ("/v1/latest?from=XXX", 404),
    ("/v2/rates?date=2024-02-30", 422),
]


class Recording:
    """An ASGI app in front of `app` that records the paths it was asked."""

    def __init__(self, app):
        self.app = app
        self.paths: list[str] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            self.paths.append(scope["path"])
        await self.app(scope, receive, send)


def answer(response) -> tuple[int, dict[str, str], bytes]:
    kept = {k: v for k, v in response.headers.items() if k not in ("date", "server")}
    return response.status_code, kept, response.content


@pytest.fixture
def api(deployment, q1_2024) -> PlainRoutes:
    return create_app(deployment.settings, deployment.store())


@pytest.mark.parametrize("path", ASKED + [path for path, _ in REFUSED])
def test_the_plain_routes_answer_what_fastapi_answers(api, path):
    ours, theirs = TestClient(api).get(path), TestClient(api.app).get(path)
    assert answer(ours) == answer(theirs)
    tag = ours.headers.get("etag", "none")
    again = TestClient(api).get(path, headers={"If-None-Match": tag})
    assert again.status_code == (304 if ours.status_code == 200 else ours.status_code)


def test_the_plain_routes_skip_fastapi_and_hand_it_the_rest(api):
    behind = Recording(api.app)
    plain = TestClient(PlainRoutes(behind, api.endpoints, api.handlers))
    for path in ASKED:
        assert plain.get(path).status_code == 200, path
    for path, status in REFUSED:  # answered by FastAPI's exception handlers, not its stack
        refused = plain.get(path)
        assert (refused.status_code, bool(refused.json()["message"])) == (status, True), path
    assert behind.paths == []
    assert plain.get("/v1/currencies").status_code == 200
    assert plain.post("/v1/latest").status_code == 405
    assert behind.paths == ["/v1/currencies", "/v1/latest"]


def test_a_refused_request_is_read_once(deployment, q1_2024, counting):
    """An error answer comes from the endpoint's one run: no second read (on a DynamoDB that
    cannot be reached, a second round of retries)."""
    store = counting(deployment.store())
    refused = TestClient(create_app(deployment.settings, store)).get("/v1/latest?from=XXX")
    assert refused.status_code == 404
    assert "XXX" in refused.json()["message"]
    assert len(store.calls) == 1, store.calls


def test_a_plain_path_needs_a_get_route(api):
    with pytest.raises(ValueError, match="/v1/nowhere"):
        plain_routes(api.app, [api.app.router], (*PLAIN_PATHS, "/v1/nowhere"))
