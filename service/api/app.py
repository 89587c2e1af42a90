"""The FastAPI application factory."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from service.api import errors
from service.api.middleware import (
    BodyLimitMiddleware,
    ClientAddressMiddleware,
    GuardMiddleware,
)
from service.api.routers import (auth, checklist, documents, findings, inspections, jobs, leads, rectification,
                                 reports, search, tag)
from service.api.routers.startup import router as startup_router
from service.api.routers.recheck import router as recheck_router
from service.api.routers.analysis import router as analysis_router
from service.api.routers.profiles import router as profiles_router
from service.api.services import build_services
from service.security.files import private_files
from service.security.proxies import TrustedProxies
from service.settings import Settings, get_settings
from service import web
from service.web import apidocs

ROUTERS = [auth.router, inspections.router, documents.router, jobs.router, findings.router, tag.router,
           checklist.router, search.router, leads.router, reports.router, rectification.router,
           startup_router, recheck_router]
ROUTERS.append(analysis_router)
ROUTERS.append(profiles_router)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    private_files(settings.home)  # data files (database, vector store, originals, staged uploads) are 0600
    services = build_services(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        services.runner.recover()
        services.runner.start()
        try:
            yield
        finally:
            services.runner.shutdown()

    # /docs and /redoc come from bundled assets (service.web.apidocs), not from FastAPI's CDN pages.
    app = FastAPI(title="xuncha 巡察文档智能分析 API", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  description="所有接口都需要登录（会话 Cookie）或 API 令牌（`Authorization: Bearer …`）。"
                              "错误统一返回 `{\"detail\": 中文说明, \"code\": 错误代码}`。")
    app.state.services = services
    errors.install(app)
    # Outermost last: client address (so the access log and the audit see the real client) → Guard
    # (500s, headers, access log, refusal audit) → body limit (before routing, parsing and auth).
    app.add_middleware(BodyLimitMiddleware, json_limit=settings.max_json_bytes, upload_limit=settings.max_upload_bytes)
    app.add_middleware(GuardMiddleware)
    app.add_middleware(ClientAddressMiddleware, trusted=TrustedProxies(settings.trusted_proxies))
    for router in ROUTERS:
        app.include_router(router)
    web.mount(app)
    apidocs.mount(app)
    return app
