"""Outermost guard: a generic 500 for anything unhandled (no stack trace to the client, no data in
the log), security headers, and an access log that names the client address and the route template
— never the query string or body, which may carry names or document text. Also: every 401 and 403
reaches the audit log, the client address honours only trusted proxies, and body limits."""

from __future__ import annotations

import logging
import re
import time

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import INTERNAL_ERROR, error_response
from service.security.proxies import TrustedProxies

log = logging.getLogger("xuncha.api")
access_log = logging.getLogger("xuncha.access")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def route_template(scope: Scope) -> str:
    """The matched route's template (``/api/documents/{document_id}``): never path values or the query."""
    return getattr(scope.get("route"), "path", None) or "<unmatched>"


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "-"


# Refusals every request may meet; the route's own audit row, when it wrote one, says more.
REFUSALS = {401: "access.unauthenticated", 403: "access.forbidden"}
REFUSAL_AUDITED = "xuncha_refusal_audited"
"""Request-state flag set by ``deps.Auditor``: this request's refusal is in the audit log already."""


async def _audit_refusal(scope: Scope, status: int) -> None:
    """An audit row for a 401 or 403 the request's own handler did not audit: route template, user
    when known, client address, outcome ``denied``."""
    state = scope.get("state") or {}
    if status not in REFUSALS or state.get(REFUSAL_AUDITED):
        return
    user, client = state.get("user"), scope.get("client")
    try:
        await run_in_threadpool(scope["app"].state.services.audit.append, REFUSALS[status], "denied",
                                user_id=getattr(user, "id", None), user_name=getattr(user, "name", None),
                                object_type="route", object_id=route_template(scope),
                                client=client[0] if client else None)
    except Exception as error:  # noqa: BLE001 - the answer is sent; say so in the log, not to the client
        log.error("audit of a %d refusal failed: %s", status, type(error).__name__)


class GuardMiddleware:
    """Also audits every 401 and 403 its handler left unaudited (``_audit_refusal``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})  # shared with the request, so handlers' flags are seen here
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
            log.error("unhandled %s in %s %s", type(error).__name__, scope["method"], route_template(scope))
            if not started:
                await error_response(500, "internal_error", INTERNAL_ERROR)(scope, receive, guarded_send)
        finally:
            access_log.info("%s %s %s %d %.0fms", _client(scope), scope["method"], route_template(scope), status,
                            (time.perf_counter() - began) * 1000)
            await _audit_refusal(scope, status)


# The one endpoint whose body is files; everything else is JSON or a small form.
_UPLOAD_PATH = re.compile(r"^/api/(inspections/[^/]+/documents|rectification-tasks/[^/]+/evidence)/?$")


def _megabytes(limit: int) -> str:
    return f"{limit / 1048576:.3g} MB"


class _BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses a request body over its limit with 413 before any parsing or authentication: at once
    when Content-Length says so, otherwise by counting the bytes as they stream in (the body is
    never buffered here). Uploads get files × file cap; every other request ``json_limit``."""

    def __init__(self, app: ASGIApp, json_limit: int, upload_limit: int) -> None:
        self.app, self.json_limit, self.upload_limit = app, json_limit, upload_limit

    def _limit(self, scope: Scope) -> int:
        if scope["method"] == "POST" and _UPLOAD_PATH.match(scope["path"]):
            return self.upload_limit
        return self.json_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        refusal = error_response(413, "too_large", f"请求内容过大，超过上限 {_megabytes(limit)}",
                                 headers={"Connection": "close"})
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = int(value) if value.isdigit() else -1
        if declared is not None and (declared > limit or declared < 0):
            if declared < 0:
                refusal = error_response(400, "bad_request", "请求头 Content-Length 不正确",
                                         headers={"Connection": "close"})
            await refusal(scope, receive, send)
            return

        received, exceeded, started = 0, False, False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # whatever the app makes of the cut-off body, the answer is 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await refusal(scope, receive, send)


class ClientAddressMiddleware:
    """Sets the ASGI client to the real client: the socket peer, or — only when the peer is a
    configured trusted proxy — the nearest untrusted X-Forwarded-For hop."""

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        self.app, self.trusted = app, trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.trusted:
            peer = scope.get("client")
            forwarded = [v.decode("latin-1") for n, v in scope["headers"] if n == b"x-forwarded-for"]
            host = self.trusted.client(peer[0] if peer else None, forwarded)
            if peer is None or host != peer[0]:
                scope = {**scope, "client": (host, 0)}
        await self.app(scope, receive, send)
