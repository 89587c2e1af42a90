"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from assets bundled in a Python package.

FastAPI's own pages load Swagger UI and ReDoc from a CDN and start them with an inline script, so
they are blank on an offline network and under a strict Content-Security-Policy. Here the scripts
and styles come from the ``fastapi-offline`` package (served under ``/docs-assets``) and Swagger UI
is started by a same-origin module; the pages carry a policy that allows no other origin.
"""

from __future__ import annotations

from html import escape
from importlib import resources

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse

from service.web import Static

ASSETS_URL = "/docs-assets"
# ReDoc injects its styles as <style> elements and runs search in a blob: worker; nothing may come
# from another origin.
DOCS_CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HEADERS = {"Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache"}


def assets_dir() -> str:
    return str(resources.files("fastapi_offline") / "static")


def _page(title: str, head: str, body: str) -> HTMLResponse:
    return HTMLResponse(f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
{head}
</head>
<body>
{body}
</body>
</html>""", headers=HEADERS)


def mount(app: FastAPI) -> None:
    """Serve the API documentation pages and their bundled assets (outside the OpenAPI schema)."""
    router = APIRouter(include_in_schema=False)
    openapi_url = app.openapi_url or "/openapi.json"
    title = app.title

    async def swagger() -> HTMLResponse:
        return _page(f"{title} · 接口文档", f'<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">',
                     f'<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>\n'
                     f'<script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>\n'
                     '<script src="/static/js/apidocs.js"></script>')

    async def redoc() -> HTMLResponse:
        return _page(f"{title} · 接口文档（ReDoc）", "",
                     f'<redoc spec-url="{escape(openapi_url)}"></redoc>\n'
                     f'<script src="{ASSETS_URL}/redoc.standalone.js"></script>')

    router.add_api_route("/docs", swagger, methods=["GET"])
    router.add_api_route("/redoc", redoc, methods=["GET"])
    app.include_router(router)
    app.mount(ASSETS_URL, Static(directory=assets_dir()), name="docs-assets")
