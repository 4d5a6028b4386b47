"""The hottest point reads answered in plain ASGI, in front of FastAPI (issue 15).

Under load, FastAPI's machinery around a route (its middleware stack, the router's path
matching, the endpoint's request handling) costs more than a cached point read itself:
`/v1/latest` did ~0.55x the requests of a raw ASGI app over the same items. `PlainRoutes` calls
the endpoints of a few routes directly, with a Starlette `Request`, and lets FastAPI answer
everything else, so the routes keep one definition (and their OpenAPI entry) in FastAPI.

An exception the endpoint raises (a bad parameter, an unknown currency, an unreachable hot
tier) is answered by the app's own exception handler for it, the one place an error answer is
made, without running the request a second time; one with no handler propagates, a 500 as
before.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]
Handlers = Mapping[Any, Callable[[Request, Exception], Any]]  # FastAPI's exception_handlers

# Point reads whose endpoints take the request alone (no path parameter to parse).
PLAIN_PATHS = ("/v1/latest", "/v2/rates")


class PlainRoutes:
    """ASGI: a GET of one of `endpoints`' paths calls its endpoint directly, an exception it
    raises answered by its handler in `handlers`; every other request (other paths and
    methods, lifespan) goes to `app`."""

    def __init__(self, app: ASGIApp, endpoints: dict[str, Endpoint], handlers: Handlers):
        self.app = app
        self.endpoints = endpoints
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = None
        if scope["type"] == "http" and scope["method"] == "GET":
            endpoint = self.endpoints.get(scope["path"])
        if endpoint is None:
            return await self.app(scope, receive, send)
        request = Request(scope, receive)
        try:
            response = await endpoint(request)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            response = handler(request, exc)
            if inspect.isawaitable(response):
                response = await response
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> Callable[[Request, Exception], Any] | None:
        """The handler of the nearest class of `exc` that has one, as Starlette looks it up."""
        return next((self.handlers[c] for c in type(exc).__mro__ if c in self.handlers), None)


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
    return PlainRoutes(app, endpoints, app.exception_handlers)
