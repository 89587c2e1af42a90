"""Documents: upload (→ background job), list, detail, kind correction, original download, delete."""

from __future__ import annotations

import mimetypes
import shutil
import uuid
from dataclasses import asdict
from pathlib import PurePath
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from nlp.types import DocumentKind
from service import rounds
from service.api import uploads
from service.api.deps import Auditor, ObjectId, OptionalId, auditor, authorize, current_user, services
from service.api.errors import ApiError, not_found
from service.api.routers.jobs import job_out
from service.api.schemas import (
    ERRORS,
    DocumentDetailOut,
    DocumentKindIn,
    DocumentSummaryOut,
    ErrorOut,
    FindingOut,
    JobOut,
)
from service.evidence import for_display
from service.api.services import Services
from service.security import UserRecord
from service.security.access import visible_team

router = APIRouter(prefix="/api", tags=["文档"])
_UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["files"],
    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}
_UPLOAD_ERRORS = {**ERRORS, **{s: {"model": ErrorOut} for s in (400, 413, 415)}}


def _reject(svc: Services, audit: Auditor, staging, inspection_id: int, error: uploads.UploadRejected):
    shutil.rmtree(staging, ignore_errors=True)
    audit("documents.upload", "invalid", object_type="inspection", object_id=inspection_id,
          inspection_id=inspection_id)
    return ApiError(error.status, error.code, error.detail)


@router.post("/inspections/{inspection_id}/documents", status_code=202, response_model=JobOut,
             responses=_UPLOAD_ERRORS, openapi_extra={"requestBody": _UPLOAD_BODY},
             summary="上传文档（一个或多个文件，后台导入）")
async def upload(inspection_id: ObjectId, request: Request, response: Response,
                 kind: DocumentKind | None = Query(None, description="指定文档类型，不自动识别"),
                 user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
                 svc: Services = Depends(services)):
    owner = await run_in_threadpool(svc.scopes.inspection, inspection_id)
    await run_in_threadpool(authorize, owner, user, audit, "documents.upload", "inspection", inspection_id,
                            write=True)
    job_id = uuid.uuid4().hex
    staging = svc.runner.staging(job_id)
    settings = svc.settings
    try:
        staged = await uploads.stage(request, staging, settings.max_file_bytes, settings.max_upload_files)
        for item in staged:
            await run_in_threadpool(uploads.check, item)
    except uploads.UploadRejected as error:
        raise await run_in_threadpool(_reject, svc, audit, staging, inspection_id, error) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files = [{"index": s.index, "filename": s.filename, "size": s.size, "cost": s.cost, "status": "queued"}
             for s in staged]
    job = await run_in_threadpool(svc.jobs.create, job_id, inspection_id, user.id, files,
                                  kind.value if kind else None)
    await run_in_threadpool(svc.runner.submit, job_id)  # with a broker: sends the tasks
    await run_in_threadpool(audit, "documents.upload", object_type="job", object_id=job_id,
                            inspection_id=inspection_id)
    response.headers["Location"] = f"/api/jobs/{job_id}"
    return job_out(job)


@router.get("/documents", response_model=list[DocumentSummaryOut], responses=ERRORS, summary="文档列表")
def list_documents(inspection_id: OptionalId = None, kind: DocumentKind | None = Query(None),
                   year: int | None = Query(None, ge=1949, le=2100, description="文档自身日期的年份"),
                   user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
                   svc: Services = Depends(services)):
    if inspection_id is not None:
        owner = svc.scopes.inspection(inspection_id)
        authorize(owner, user, audit, "documents.list", "inspection", inspection_id)
    documents = svc.repository.list_documents(team=visible_team(user), inspection_id=inspection_id,
                                              kind=kind.value if kind else None)
    if year is not None:
        documents = [d for d in documents if d.year == year]
    audit("documents.list", object_type="inspection" if inspection_id else None, object_id=inspection_id,
          inspection_id=inspection_id)
    return [asdict(d) for d in documents]


def _readable(svc: Services, user: UserRecord, audit: Auditor, document_id: int, action: str):
    owner = authorize(svc.scopes.document(document_id), user, audit, action, "document", document_id)
    detail = svc.repository.get_document(document_id)
    if detail is None:  # deleted in between
        raise not_found("document")
    return owner, detail


@router.get("/documents/{document_id}", response_model=DocumentDetailOut, responses=ERRORS,
            summary="文档详情：结构字段、全文、候选问题")
def get_document(document_id: ObjectId, user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
                 svc: Services = Depends(services)):
    owner, detail = _readable(svc, user, audit, document_id, "document.read")
    audit("document.read", object_type="document", object_id=document_id, inspection_id=owner.inspection_id)
    return _detail_out(detail)


def _detail_out(detail) -> dict:
    return {**asdict(detail), "findings": [for_display(asdict(f)) for f in detail.findings]}


@router.patch("/documents/{document_id}", response_model=DocumentDetailOut,
              responses={**ERRORS, 422: {"model": ErrorOut}}, summary="更正文档类型（重新抽取结构字段）")
def change_kind(document_id: ObjectId, body: DocumentKindIn = Body(...), user: UserRecord = Depends(current_user),
                audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    """Sets the kind by hand and re-extracts the structure fields and the year for it. The findings,
    their ids, tags and reviews stay as they are."""
    owner = authorize(svc.scopes.document(document_id), user, audit, "document.kind", "document", document_id,
                      write=True)
    detail = rounds.change_kind(svc.repository, document_id, DocumentKind(body.kind))
    if detail is None:  # deleted in between
        raise not_found("document")
    audit("document.kind", object_type="document", object_id=document_id, inspection_id=owner.inspection_id)
    return _detail_out(detail)


@router.get("/documents/{document_id}/findings", response_model=list[FindingOut], responses=ERRORS,
            tags=["候选问题"], summary="文档的候选问题（位置、标注）")
def get_findings(document_id: ObjectId, user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
                 svc: Services = Depends(services)):
    owner, detail = _readable(svc, user, audit, document_id, "findings.read")
    audit("findings.read", object_type="document", object_id=document_id, inspection_id=owner.inspection_id)
    return [for_display(asdict(f)) for f in detail.findings]


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the real (e.g. Chinese) name per RFC 5987."""
    suffix = PurePath(filename).suffix
    ascii_name = filename if filename.isascii() else f"document{suffix if suffix.isascii() else ''}"
    ascii_name = "".join(ch for ch in ascii_name if ch.isprintable() and ch not in '"\\;') or "document"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get("/documents/{document_id}/original", response_class=FileResponse, responses=ERRORS,
            summary="下载原件")
def download_original(document_id: ObjectId, user: UserRecord = Depends(current_user),
                      audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    owner, detail = _readable(svc, user, audit, document_id, "document.download")
    path = svc.originals.path(detail.original_path)
    if not path.is_file():
        audit("document.download", "failed", object_type="document", object_id=document_id,
              inspection_id=owner.inspection_id)
        raise ApiError(410, "original_missing", "原件文件已不存在")
    audit("document.download", object_type="document", object_id=document_id, inspection_id=owner.inspection_id)
    media_type = mimetypes.guess_type(detail.filename)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type,
                        headers={"Content-Disposition": content_disposition(detail.filename)})


@router.delete("/documents/{document_id}", status_code=204, responses=ERRORS, summary="删除文档及其候选问题")
def delete_document(document_id: ObjectId, user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
                    svc: Services = Depends(services)) -> Response:
    owner = authorize(svc.scopes.document(document_id), user, audit, "document.delete", "document", document_id,
                      write=True)
    if not svc.runner.ingestor.delete(document_id):
        raise not_found("document")
    audit("document.delete", object_type="document", object_id=document_id, inspection_id=owner.inspection_id)
    return Response(status_code=204)

