"""Suggested leads (问题线索) for a document or a whole inspection round."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from service.api.deps import Auditor, ObjectId, auditor, authorize, current_user, services
from service.api.errors import not_found
from service.api.schemas import ERRORS
from service.api.services import Services
from service.leads import GRADES, LeadSource, SimilarCase, document_leads, round_leads
from service.security import UserRecord
from service.security.access import visible_team

router = APIRouter(prefix="/api", tags=["问题线索"])


class LeadOut(BaseModel):
    item_id: str
    item_title: str
    wording: str = Field(description="依据材料本身写成的问题描述（只用材料中的人员、单位、金额、时间）")
    grade: str = Field(description="、".join(GRADES))
    disposal: str = Field(description="建议处置方式")
    score: float
    persons: list[str]
    reasons: list[str] = Field(description="定级依据")
    sources: list[LeadSource] = Field(description="反映该问题的材料（同一人/同一事的多份材料合并）")
    similar_cases: list[SimilarCase]
    items: list[str] = Field(description="该问题涉及的全部清单条目（第一个为主条目）")
    alternatives: list[str] = Field(description="其他可选表述：清单标准表述、往届案例表述（均只用本问题材料中的事实）")


def _teams(user: UserRecord) -> set[str] | None:
    team = visible_team(user)
    return None if team is None else {team}


@router.get("/documents/{document_id}/leads", response_model=list[LeadOut], responses=ERRORS,
            summary="文档的问题线索建议")
def leads_of_document(document_id: ObjectId, user: UserRecord = Depends(current_user),
                      audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    owner = authorize(svc.scopes.document(document_id), user, audit, "leads.read", "document", document_id)
    try:
        found = svc.leads.document(document_id, owner.inspection_id, _teams(user), lambda: document_leads(
            document_id, svc.search.synced(), svc.search.e5_embed, _teams(user)))
    except LookupError:  # deleted in between
        raise not_found("document") from None
    audit("leads.read", object_type="document", object_id=document_id, inspection_id=owner.inspection_id)
    return [lead.as_json() for lead in found]


@router.get("/inspections/{inspection_id}/leads", response_model=list[LeadOut], responses=ERRORS,
            summary="巡察轮次的问题线索建议（多份材料反映同一问题时合并）")
def leads_of_inspection(inspection_id: ObjectId, user: UserRecord = Depends(current_user),
                        audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    owner = authorize(svc.scopes.inspection(inspection_id), user, audit, "leads.read", "inspection", inspection_id)
    try:
        found = svc.leads.round(inspection_id, _teams(user), lambda: round_leads(
            inspection_id, svc.search.synced(), svc.search.e5_embed, _teams(user)))
    except LookupError:  # deleted in between
        raise not_found("inspection") from None
    audit("leads.read", object_type="inspection", object_id=inspection_id, inspection_id=owner.inspection_id)
    return [lead.as_json() for lead in found]
