"""Outermost guard: a generic 500 for anything unhandled (no stack trace to the client, no data in
the log), security headers, and an access log that names the route template — never the query
string or body, which may carry names or document text."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import INTERNAL_ERROR, error_response

log = logging.getLogger("xuncha.api")
access_log = logging.getLogger("xuncha.access")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _route(scope: Scope) -> str:
    return getattr(scope.get("route"), "path", None) or "<unmatched>"


class GuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status, began = False, 500, time.perf_counter()

        async def guarded_send(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if scope["path"].startswith("/api/"):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except Exception as error:  # noqa: BLE001 - the catch-all
            log.error("unhandled %s in %s %s", type(error).__name__, scope["method"], _route(scope))
            if not started:
                await error_response(500, "internal_error", INTERNAL_ERROR)(scope, receive, guarded_send)
        finally:
            access_log.info("%s %s %d %.0fms", scope["method"], _route(scope), status,
                            (time.perf_counter() - began) * 1000)
