"""FastAPI dependencies: services, the current user (API token or session cookie), auditing and
team-scoped access checks. Another team's objects answer 404 exactly like missing ones."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Path, Query, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from service.api.errors import ApiError, forbidden, not_found
from service.api.middleware import REFUSAL_AUDITED, route_template
from service.api.services import Services
from service.security import UserRecord, can_read, can_write
from service.security.proxies import TrustedProxies
from service.storage.scope import Owner

SESSION_COOKIE = "xuncha_session"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_ID = 2**63 - 1  # SQL integer range: larger ids are invalid requests, not server errors
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
_bearer = HTTPBearer(auto_error=False, description="API 令牌（由 `xuncha users add` 生成）")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="网页登录会话（POST /api/auth/login）")


def services(request: Request) -> Services:
    return request.app.state.services


def client_address(request: Request) -> str | None:
    """The real client (``ClientAddressMiddleware``: the peer, or what a trusted proxy forwarded)."""
    return request.client.host if request.client else None


def client_identified(request: Request, svc: Services) -> bool:
    """Whether the client address names the client: not when it is one of our trusted proxies,
    i.e. a proxy that forwarded no client address (every user behind it would share it)."""
    client = client_address(request)
    return client is not None and not TrustedProxies(svc.settings.trusted_proxies).trusts(client)


def _unauthenticated(detail: str) -> ApiError:
    return ApiError(401, "unauthenticated", detail, headers={"WWW-Authenticate": "Bearer"})


def _same_origin(request: Request) -> bool:
    """Cookie-authenticated writes must come from our own pages (SameSite=Lax plus this check)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    return not origin or urlsplit(origin).netloc == request.headers.get("host")


def _refused(request: Request, svc: Services, action: str, outcome: str, user: UserRecord | None,
             detail: str) -> ApiError:
    """Audit a refused credential (whose it was, when known) and the 401 that answers it."""
    Auditor(svc, user, client_address(request), request)(action, outcome, object_type="route",
                                                         object_id=route_template(request.scope))
    return _unauthenticated(detail)


def current_user(request: Request, svc: Services = Depends(services),
                 bearer: HTTPAuthorizationCredentials | None = Security(_bearer),
                 session_id: str | None = Security(_cookie)) -> UserRecord:
    """The user of a valid, unexpired, unrevoked API token or web session whose account is active.
    Every refusal is audited (``auth.token`` / ``auth.session`` / ``auth.missing``)."""
    if bearer is not None:
        check = svc.security.check_token(bearer.credentials, svc.settings.token_days)
        if check.user is None:
            raise _refused(request, svc, "auth.token", "denied", check.owner, check.message)
        user = check.user
    elif session_id:
        check = svc.security.check_session(session_id)
        if check.user is None:
            raise _refused(request, svc, "auth.session", "denied", check.owner, check.message)
        user = check.user
        if request.method in UNSAFE_METHODS and not _same_origin(request):
            Auditor(svc, user, client_address(request), request)("auth.origin", "denied", object_type="route",
                                                                 object_id=route_template(request.scope))
            raise forbidden("请求来源与本站不一致，已拒绝")
    else:
        raise _refused(request, svc, "auth.missing", "denied", None, "未登录，请先登录或提供 API 令牌")
    request.state.user = user
    return user


def require_role(*roles: str):
    def check(user: UserRecord = Depends(current_user)) -> UserRecord:
        if user.role not in roles:
            raise forbidden()
        return user
    return check


class Auditor:
    """Appends audit rows for the current request's user and client address. A refusal (any outcome
    but ok) marks the request, so the catch-all refusal audit does not log it a second time."""

    def __init__(self, svc: Services, user: UserRecord | None, client: str | None,
                 request: Request | None = None) -> None:
        self.svc, self.user, self.client, self.request = svc, user, client, request

    def __call__(self, action: str, outcome: str = "ok", *, object_type: str | None = None,
                 object_id: object = None, inspection_id: int | None = None) -> None:
        self.svc.audit.append(action, outcome, user_id=self.user.id if self.user else None,
                              user_name=self.user.name if self.user else None, object_type=object_type,
                              object_id=object_id, inspection_id=inspection_id, client=self.client)
        if outcome != "ok" and self.request is not None:
            setattr(self.request.state, REFUSAL_AUDITED, True)


def auditor(request: Request, svc: Services = Depends(services),
            user: UserRecord = Depends(current_user)) -> Auditor:
    return Auditor(svc, user, client_address(request), request)


def authorize(owner: Owner | None, user: UserRecord, audit: Auditor, action: str, what: str,
              object_id: object, *, write: bool = False) -> Owner:
    """The owner of an object ``user`` may read (or change, with ``write``); failures are audited.
    Another team's object is reported exactly like a missing one (404)."""
    if owner is None:
        audit(action, "not_found", object_type=what, object_id=object_id)
        raise not_found(what)
    if not can_read(user, owner.team):
        audit(action, "denied", object_type=what, object_id=object_id, inspection_id=owner.inspection_id)
        raise not_found(what)
    if write and not can_write(user, owner.team):
        audit(action, "denied", object_type=what, object_id=object_id, inspection_id=owner.inspection_id)
        raise forbidden("当前角色只能查阅，不能修改")
    return owner
