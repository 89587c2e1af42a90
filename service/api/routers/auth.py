"""Login (session cookie), logout and the current user."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from service.api.deps import (
    SESSION_COOKIE,
    Auditor,
    _same_origin,
    client_address,
    client_identified,
    current_user,
    services,
)
from service.api.errors import ApiError, forbidden
from service.api.middleware import REFUSAL_AUDITED
from service.api.schemas import ERRORS, ErrorOut, LoginIn, UserOut
from service.api.services import Services
from service.security import UserRecord
from service.security.credentials import HashingBusy, hashing_slot
from service.security.store import DISABLED_LOGIN

router = APIRouter(prefix="/api", tags=["登录"])
MAX_LOGIN_BODY = 16 * 1024
_LOGIN_BODY = {"required": True, "content": {
    "application/json": {"schema": LoginIn.model_json_schema()},
    "application/x-www-form-urlencoded": {"schema": LoginIn.model_json_schema()},
}}


async def _credentials(request: Request) -> LoginIn:
    """Username and password from a JSON or urlencoded body (read with a size cap: no login yet)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/json", "application/x-www-form-urlencoded"):
        raise ApiError(415, "unsupported_type", "请以 JSON 或表单格式提交用户名和密码")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_LOGIN_BODY:
            raise ApiError(413, "too_large", "登录请求内容过大")
    try:
        text = body.decode("utf-8")
        raw = json.loads(text) if content_type == "application/json" else dict(parse_qsl(text))
    except RecursionError:  # e.g. 1,000 nested "[": malformed, not a server error
        raise ApiError(400, "bad_request", "请求内容格式不正确（嵌套层级过深）") from None
    except (ValueError, TypeError):
        raise ApiError(422, "invalid_request", "请填写用户名和密码") from None
    try:
        return LoginIn.model_validate(raw)
    except ValidationError:
        raise ApiError(422, "invalid_request", "请填写用户名和密码") from None


def _check_origin(request: Request, svc: Services, action: str) -> None:
    """Login CSRF: a foreign page must not log a browser in (or out). Requests without Origin and
    Referer (API clients, curl) pass; a browser's cross-site POST always carries one of them."""
    if not _same_origin(request):
        Auditor(svc, None, client_address(request), request)(action, "denied")
        raise forbidden("请求来源与本站不一致，已拒绝")


def _login(svc: Services, form: LoginIn, client: str | None, known_client: bool) -> tuple[UserRecord, str]:
    audit = Auditor(svc, None, client)
    key = client if known_client else None  # behind a proxy that named nobody: no per-address lock
    if svc.throttle.blocked(form.username, key):
        audit("auth.login", "denied")
        raise ApiError(429, "too_many_attempts", "登录失败次数过多，请 5 分钟后再试")
    user = svc.security.verify(form.username, form.password)
    if user is None:
        svc.throttle.failed(form.username, key)
        known = svc.security.get_user(form.username)
        Auditor(svc, known, client)("auth.login", "failed")
        raise ApiError(401, "bad_credentials", "用户名或密码错误")
    svc.throttle.succeeded(form.username, key)
    if not user.active:  # told only to whoever knows the password
        Auditor(svc, user, client)("auth.login", "denied")
        raise ApiError(403, "account_disabled", DISABLED_LOGIN)
    Auditor(svc, user, client)("auth.login")
    return user, svc.security.open_session(user.id, svc.settings.session_hours)


@router.post("/auth/login", response_model=UserOut, openapi_extra={"requestBody": _LOGIN_BODY},
             responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 429: {"model": ErrorOut}},
             summary="用户名密码登录（设置会话 Cookie）")
async def login(request: Request, response: Response, svc: Services = Depends(services)) -> UserOut:
    _check_origin(request, svc, "auth.login")
    form = await _credentials(request)
    client = client_address(request)
    # The account's backoff (many failures from anywhere) waits here, holding no hashing slot.
    await asyncio.sleep(svc.throttle.delay(form.username))
    try:
        async with hashing_slot():
            user, session_id = await run_in_threadpool(_login, svc, form, client, client_identified(request, svc))
    except HashingBusy:
        raise ApiError(429, "busy", "登录请求过多，请稍后再试", headers={"Retry-After": "5"}) from None
    finally:
        # Every answer of the login is in the audit log already (or needs none: 413/415/422 bodies).
        setattr(request.state, REFUSAL_AUDITED, True)
    response.set_cookie(SESSION_COOKIE, session_id, max_age=svc.settings.session_hours * 3600, httponly=True,
                        samesite="lax", secure=svc.settings.cookie_secure, path="/")
    return UserOut.of(user)


@router.post("/auth/logout", status_code=204, summary="退出登录")
def logout(request: Request, svc: Services = Depends(services)) -> Response:
    _check_origin(request, svc, "auth.logout")
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        user = svc.security.user_for_session(session_id)
        svc.security.close_session(session_id)
        if user is not None:
            Auditor(svc, user, client_address(request), request)("auth.logout")
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=svc.settings.cookie_secure)
    return response


@router.get("/me", response_model=UserOut, responses=ERRORS, summary="当前用户")
def me(user: UserRecord = Depends(current_user)) -> UserOut:
    return UserOut.of(user)
