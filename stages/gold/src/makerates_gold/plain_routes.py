"""The hottest point reads answered in plain ASGI, in front of FastAPI (issue 15).

Under load, FastAPI's machinery around a route (its middleware stack, the router's path
matching, the endpoint's request handling) costs more than a cached point read itself:
`/v1/latest` did ~0.55x the requests of a raw ASGI app over the same items. `PlainRoutes` calls
the endpoints of a few routes directly, with a Starlette `Request`, and lets FastAPI answer
everything else, so the routes keep one definition (and their OpenAPI entry) in FastAPI.

A request the endpoint raises on (a bad parameter, an unknown currency) is handed to FastAPI
unanswered, whose exception handlers are the one place an error answer is made.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute

Endpoint = Callable[[Request], Awaitable[Response]]
Scope = dict[str, Any]
ASGICallable = Callable[..., Awaitable[None]]

# Point reads whose endpoints take the request alone (no path parameter to parse).
PLAIN_PATHS = ("/v1/latest", "/v2/rates")


class PlainRoutes:
    """ASGI: a GET of one of `endpoints`' paths calls its endpoint directly; every other
    request (other paths and methods, lifespan, and any request the endpoint raises on) goes to
    `app`."""

    def __init__(self, app: FastAPI, endpoints: dict[str, Endpoint]):
        self.app = app
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive: ASGICallable, send: ASGICallable) -> None:
        endpoint = None
        if scope["type"] == "http" and scope["method"] == "GET":
            endpoint = self.endpoints.get(scope["path"])
        if endpoint is None:
            return await self.app(scope, receive, send)
        try:
            response = await endpoint(Request(scope, receive))
        except Exception:  # the app answers it again, through its exception handlers
            return await self.app(scope, receive, send)
        await response(scope, receive, send)


def plain_routes(
    app: FastAPI, routers: list[APIRouter], paths: tuple[str, ...] = PLAIN_PATHS
) -> PlainRoutes:
    """`app` behind PlainRoutes for `paths`, each the path of a GET route of one of `routers`
    (the app's own and those it includes: FastAPI does not list an included router's routes
    in `app.routes`)."""
    endpoints = {
        route.path: route.endpoint
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and route.path in paths and "GET" in route.methods
    }
    if missing := set(paths) - set(endpoints):
        raise ValueError(f"no GET route for {sorted(missing)} in the app")
    return PlainRoutes(app, endpoints)
