"""Semantic + keyword search over prior cases and the findings the user may read."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from index.hybrid import Hit
from service.api.deps import Auditor, OptionalId, auditor, authorize, current_user, services
from service.api.errors import ApiError
from service.api.schemas import ERRORS, ErrorOut
from service.api.services import Services
from service.search import SearchFilters
from service.security import UserRecord
from service.security.access import visible_team
from service.startup import index_message

router = APIRouter(prefix="/api", tags=["检索"])
Kind = Literal["minutes", "petition", "interview", "other", "case"]


class MatchOut(BaseModel):
    term: str
    start: int = Field(description="在 text 中的起始位置")
    end: int


class SearchHitOut(BaseModel):
    id: int
    collection: Literal["cases", "findings"]
    text: str
    score: float = Field(description="融合后的得分（校准融合：各信号绝对分之和，低于相关性下限的不返回）")
    level: Literal["高", "中", "低"] | None = Field(description="相关程度（供人阅读）")
    reasons: list[str] = Field(description="命中原因：命中词、同属清单条目、语义相近")
    vector_score: float | None = Field(description="语义向量余弦相似度")
    keyword_score: float | None = Field(description="BM25 关键词得分")
    chars_score: float | None = Field(None, description="字符 n-gram 余弦相似度")
    items_score: float | None = Field(None, description="两段文字清单条目分布的余弦相似度")
    matched: list[MatchOut] = Field(description="命中的检索词及其位置（用于高亮）")
    items: list[str] = Field(description="负面清单条目")
    focus: list[int] = Field(description="三个聚焦")
    unit: str | None
    year: int | None
    kind: str
    inspection: str | None
    document_id: int | None = Field(description="候选问题所在文档（案例为空）")
    filename: str | None
    page: int | None
    external_id: str
    disposal: str | None
    sanction: str | None


class SearchOut(BaseModel):
    query: str
    hits: list[SearchHitOut]
    message: str | None = Field(None, description="没有结果时的说明（没有相关结果；服务刚启动、索引建立中时为相应提示）")
    indexing: bool = Field(False, description="检索索引仍在建立（xuncha serve 启动后的后台准备），稍后再试")


def hit_out(hit: Hit) -> SearchHitOut:
    meta = hit.meta
    return SearchHitOut(
        id=hit.id, collection=meta["collection"], text=hit.text, score=round(hit.score, 5),
        level=hit.level, reasons=hit.reasons,
        vector_score=None if hit.vector_score is None else round(hit.vector_score, 4),
        keyword_score=None if hit.keyword_score is None else round(hit.keyword_score, 4),
        chars_score=None if hit.chars_score is None else round(hit.chars_score, 4),
        items_score=None if hit.items_score is None else round(hit.items_score, 4),
        matched=[MatchOut(term=t, start=s, end=e) for t, s, e in hit.matched],
        items=meta.get("items") or [], focus=meta.get("focus") or [], unit=meta.get("unit"), year=meta.get("year"),
        kind=meta.get("kind") or "case", inspection=meta.get("inspection"), document_id=meta.get("document_id"),
        filename=meta.get("filename"), page=meta.get("page"), external_id=str(meta.get("external_id", hit.id)),
        disposal=meta.get("disposal"), sanction=meta.get("sanction"))


@router.get("/search", response_model=SearchOut, responses={**ERRORS, 400: {"model": ErrorOut}},
            summary="检索往届案例和候选问题（语义 + 关键词）")
def search(request: Request,
           q: str = Query(..., min_length=1, max_length=500, description="检索内容（自然语言或关键词）"),
           k: int = Query(10, ge=1, le=100, description="返回条数"),
           collection: Literal["all", "cases", "findings"] = Query("all", description="检索范围"),
           mode: Literal["hybrid", "vector", "keyword"] = Query("hybrid", description="检索方式"),
           inspection_id: OptionalId = None,
           unit: str | None = Query(None, max_length=200, description="被巡察单位（包含即可）"),
           year: int | None = Query(None, ge=1949, le=2100),
           kind: Kind | None = Query(None, description="材料类型"),
           focus: int | None = Query(None, ge=1, le=4, description="三个聚焦（1–4）"),
           item: str | None = Query(None, max_length=20, description="负面清单条目编号"),
           include_demo: bool = Query(False, description="包含示例材料轮次中的材料（默认不包含；按轮次检索示例轮次时自动包含）"),
           user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
           svc: Services = Depends(services)) -> SearchOut:
    query = q.strip()
    if not query:
        raise ApiError(400, "empty_query", "请输入检索内容")
    filters = SearchFilters(unit=unit or None, year=year, kind=kind, focus=focus, include_demo=include_demo)
    if item:
        filters.item = item.strip().upper()
        if filters.item not in svc.checklist:
            raise ApiError(400, "unknown_item", f"没有编号为 {filters.item} 的负面清单条目")
        filters.item = svc.checklist.resolve(filters.item)
    if inspection_id is not None:
        owner = authorize(svc.scopes.inspection(inspection_id), user, audit, "search", "inspection", inspection_id)
        record = svc.repository.get_inspection(inspection_id)
        filters.inspection, filters.team = record.name, owner.team
        filters.include_demo = include_demo or record.demo  # the demo round itself was asked for
    team = visible_team(user)
    waiting = index_message(request.app)
    if waiting is not None:  # xuncha serve is still building the index in the background: say so, do not block
        audit("search", object_type="inspection" if inspection_id else None, object_id=inspection_id,
              inspection_id=inspection_id)
        return SearchOut(query=query, hits=[], message=waiting, indexing=True)
    hits = svc.search.search(query, k, filters, None if team is None else {team}, collection, mode)
    # Search terms are not audited: they may name a complainant or quote a petition.
    audit("search", object_type="inspection" if inspection_id else None, object_id=inspection_id,
          inspection_id=inspection_id)
    return SearchOut(query=query, hits=[hit_out(h) for h in hits], message=None if hits else "没有相关结果")
