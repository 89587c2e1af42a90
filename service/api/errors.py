"""Every error leaves the API as JSON ``{"detail": "<中文说明>", "code": "<stable code>"}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

INTERNAL_ERROR = "服务器内部错误，请稍后重试；如果问题持续存在，请联系管理员。"
NOT_FOUND = {
    "document": "没有找到该文档",
    "finding": "没有找到该候选问题",
    "job": "没有找到该导入任务",
    "inspection": "没有找到该巡察轮次",
    "report_problem": "没有找到问题清单初稿中的该问题",
    "rectification_task": "没有找到该整改任务",
}
_HTTP_DEFAULTS = {
    400: ("bad_request", "请求不正确"),
    401: ("unauthenticated", "未登录，请先登录或提供 API 令牌"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "请求的地址不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("too_large", "上传内容过大"),
    415: ("unsupported_type", "不支持的内容类型"),
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(code)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", NOT_FOUND[what])


def forbidden(detail: str = "没有权限执行此操作") -> ApiError:
    return ApiError(403, "forbidden", detail)


def error_response(status: int, code: str, detail: str, headers: dict[str, str] | None = None,
                   **extra) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code, **extra}, status_code=status, headers=headers)


async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
    return error_response(error.status, error.code, error.detail, error.headers)


async def _http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
    code, detail = _HTTP_DEFAULTS.get(error.status_code, ("error", "请求无法处理"))
    return error_response(error.status_code, code, detail, getattr(error, "headers", None))


async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    # Echo where and why, never the submitted values (they may be document text).
    errors = [{"loc": [str(part) for part in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
              for e in error.errors()]
    fields = "、".join(sorted({".".join(e["loc"][1:]) or e["loc"][0] for e in errors if e["loc"]}))
    return error_response(422, "invalid_request", f"请求参数不合法：{fields or '格式错误'}", errors=errors)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
