"""回头看 (recheck): a round's findings compared with the problems earlier rounds of the same unit reported.

Team-scoped like reports: another team's round answers 404, and earlier rounds are only those the
reader may see. Audit rows carry ids only — never wording or text.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from service.api.deps import Auditor, ObjectId, auditor, current_user, services
from service.api.routers.leads import _teams
from service.api.routers.reports import _inspection
from service.api.schemas import ERRORS
from service.api.services import Services
from service.recheck import recheck
from service.security import UserRecord

router = APIRouter(prefix="/api", tags=["回头看"])
Class = Literal["整改不到位", "反弹回潮", "新问题"]


class EarlierProblemOut(BaseModel):
    inspection_id: int
    inspection: str
    team: str
    problem_id: int | None = Field(description="上轮报告初稿中的问题编号")
    task_id: int | None = Field(description="上轮整改任务编号（上轮报告未反馈定稿时为空）")
    item_id: str
    item_title: str
    focus: int
    wording: str = Field(description="上轮问题表述（定稿时的表述）")
    status: Literal["not_started", "in_progress", "pending_closure", "closed"] | None
    status_label: str = Field(description="整改状态：未启动/整改中/待销号/已销号，或未反馈定稿")
    closed: bool = Field(description="是否已销号")


class RecheckFindingOut(BaseModel):
    finding_id: int
    document_id: int
    filename: str
    page: int | None
    text: str = Field(description="本轮候选问题原文（截取约 200 字）")
    items: list[str]
    review: Literal["confirmed", "corrected"] | None
    matched: EarlierProblemOut | None = Field(description="对应的上轮问题；新问题为空")
    repeat: bool
    class_: Class = Field(alias="class", description="整改不到位（上轮问题未销号）、反弹回潮（已销号又出现）或新问题")
    similarity: float | None = Field(description="与对应（或最接近）的上轮问题的文本相似度")
    reason: str = Field(description="判定依据：清单条目、相似度和共同的人员、项目、金额、日期")


class EarlierRoundOut(BaseModel):
    id: int
    name: str
    team: str


class RecheckOut(BaseModel):
    inspection_id: int
    inspection: str
    team: str
    target_unit: str | None
    earlier_rounds: list[EarlierRoundOut] = Field(description="同一被巡察单位此前的巡察轮次（本人可见范围内）")
    counts: dict[str, int] = Field(description="各类别的问题数")
    findings: list[RecheckFindingOut]
    unclosed: list[EarlierProblemOut] = Field(description="以往轮次反馈、尚未销号的问题")


@router.get("/inspections/{inspection_id}/recheck", response_model=RecheckOut, response_model_by_alias=True,
            responses=ERRORS, summary="回头看：本轮问题与同一单位以往轮次问题比对，列出未销号问题")
def get_recheck(inspection_id: ObjectId, user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
                svc: Services = Depends(services)):
    inspection = _inspection(svc, user, audit, inspection_id, "recheck.read")
    result = recheck(svc.repository, svc.checklist, inspection, svc.search.e5_embed, _teams(user))
    audit("recheck.read", object_type="inspection", object_id=inspection_id, inspection_id=inspection_id)
    return result.as_json()
