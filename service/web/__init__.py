"""The Chinese web workspace (pages served next to the API).

Pages are server-rendered shells (layout, navigation, labels) whose data is loaded by small ES
modules from the JSON API with the session cookie, so authentication, team scoping, roles and audit
stay in one place (the API). A page route only checks that someone is logged in and otherwise
redirects to ``/login``. No page ever contains scoped data: another team's document opened by URL
renders an empty shell, and its script shows the API's 404 message.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import Scope

from service.api.deps import MAX_ID, SESSION_COOKIE
from service.security import ROLE_LABELS, UserRecord

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
MAX_NEXT = 2000
MAX_NAME = 200
TEXT_PARAMS = {"unit", "name"}
"""Path parameters that are names (画像 pages), not ids."""
PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"}

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


class Static(StaticFiles):
    """Static assets, revalidated on every use (ETag) so a deployment never runs stale modules."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


def _session_user(request: Request) -> UserRecord | None:
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    return request.app.state.services.security.user_for_session(session_id)


def safe_next(target: str | None) -> str:
    """A local path to go to after login (never another site, never back to /login)."""
    # Browsers drop tabs and newlines from URLs and read a backslash as a slash: "/\t/x" is "//x".
    if not target or len(target) > MAX_NEXT or not target.startswith("/") or target.startswith("//") \
            or any(c.isspace() or not c.isprintable() or c == "\\" for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith("/login"):
        return "/"
    return target


def _login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303, headers=PAGE_HEADERS)


def _render(request: Request, template: str, user: UserRecord | None, status: int = 200, **context) -> Response:
    context.setdefault("nav", "")
    context.update(user=user, role_label=ROLE_LABELS.get(user.role, "") if user else "",
                   can_write=bool(user and user.role != "analyst"))
    return templates.TemplateResponse(request, template, context, status_code=status, headers=PAGE_HEADERS)


def _checklist_groups(request: Request) -> dict:
    """Group names for the checklist browser's navigation (public reference data, not team data)."""
    checklist = request.app.state.services.checklist
    return {"groups": [(key, group.name) for key, group in checklist.groups.items()]}


def _page(template: str, nav: str, extra=None, **fixed):
    """A logged-in page: the shell (ids from the path as data attributes) or a redirect to login."""

    async def view(request: Request) -> Response:
        user = await run_in_threadpool(_session_user, request)
        if user is None:
            return _login_redirect(request)
        ids = {}
        for name, raw in request.path_params.items():
            if name in TEXT_PARAMS and isinstance(raw, str) and 0 < len(raw) <= MAX_NAME and raw.isprintable():
                ids[name] = raw  # a unit or person name: shown as typed, the API decides what it may see
                continue
            if not (isinstance(raw, int) and 1 <= raw <= MAX_ID):
                return _render(request, "missing.html", user, status=404, nav=nav)
            ids[name] = raw
        more = await run_in_threadpool(extra, request) if extra else {}
        return _render(request, template, user, nav=nav, **fixed, **ids, **more)

    return view


async def login_page(request: Request, next: str | None = None) -> Response:  # noqa: A002 - query name
    target = safe_next(next)
    if await run_in_threadpool(_session_user, request) is not None:
        return RedirectResponse(target, status_code=303, headers=PAGE_HEADERS)
    return _render(request, "login.html", None, next=target)


PAGES = [
    ("/", "inspections.html", "inspections", None, {}),
    ("/inspections/{inspection_id:int}", "inspection.html", "inspections", None, {}),
    ("/inspections/{inspection_id:int}/leads", "leads.html", "inspections", None, {"scope": "inspection"}),
    ("/inspections/{inspection_id:int}/report", "report.html", "inspections", None, {}),
    ("/inspections/{inspection_id:int}/review", "review.html", "inspections", None, {}),
    ("/inspections/{inspection_id:int}/rectification", "rectification.html", "inspections", None, {}),
    ("/documents/{document_id:int}", "document.html", "inspections", None, {}),
    ("/documents/{document_id:int}/leads", "leads.html", "inspections", None, {"scope": "document"}),
    ("/search", "search.html", "search", None, {}),
    ("/checklist", "checklist.html", "checklist", _checklist_groups, {}),
    ("/analysis", "analysis.html", "analysis", None, {}),
    ("/inspections/{inspection_id:int}/recheck", "recheck.html", "inspections", None, {}),
    ("/profiles", "profiles.html", "profiles", None, {}),
    ("/profiles/units/{unit}", "profile.html", "profiles", None, {"kind": "unit"}),
    ("/profiles/people/{name}", "profile.html", "profiles", None, {"kind": "person"}),
]


def mount(app: FastAPI) -> None:
    """Add the workspace pages (outside the OpenAPI schema) and ``/static`` to ``app``."""
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/login", login_page, methods=["GET"])
    for path, template, nav, extra, fixed in PAGES:
        router.add_api_route(path, _page(template, nav, extra, **fixed), methods=["GET"])
    app.include_router(router)
    app.mount("/static", Static(directory=str(STATIC_DIR)), name="static")
