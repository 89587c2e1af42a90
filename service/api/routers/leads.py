"""Suggested leads (问题线索) for a document or a whole inspection round."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from service.api.deps import Auditor, ObjectId, auditor, authorize, current_user, services
from service.api.errors import not_found
from service.api.schemas import ERRORS
from service.api.services import Services
from service.leads import GRADES, LeadSource, SimilarCase, document_leads, inspection_leads
from service.security import UserRecord
from service.security.access import visible_team

router = APIRouter(prefix="/api", tags=["问题线索"])


class LeadOut(BaseModel):
    item_id: str
    item_title: str
    wording: str = Field(description="按负面清单标准表述填写的问题描述")
    grade: str = Field(description="、".join(GRADES))
    disposal: str = Field(description="建议处置方式")
    score: float
    persons: list[str]
    reasons: list[str] = Field(description="定级依据")
    sources: list[LeadSource] = Field(description="反映该问题的材料（同一人/同一事的多份材料合并）")
    similar_cases: list[SimilarCase]


def _teams(user: UserRecord) -> set[str] | None:
    team = visible_team(user)
    return None if team is None else {team}


@router.get("/documents/{document_id}/leads", response_model=list[LeadOut], responses=ERRORS,
            summary="文档的问题线索建议")
def leads_of_document(document_id: ObjectId, user: UserRecord = Depends(current_user),
                      audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    owner = authorize(svc.scopes.document(document_id), user, audit, "leads.read", "document", document_id)
    try:
        found = document_leads(document_id, svc.search.synced(), svc.search.e5_embed, _teams(user))
    except LookupError:  # deleted in between
        raise not_found("document") from None
    audit("leads.read", object_type="document", object_id=document_id, inspection_id=owner.inspection_id)
    return [lead.as_json() for lead in found]


@router.get("/inspections/{inspection_id}/leads", response_model=list[LeadOut], responses=ERRORS,
            summary="巡察轮次的问题线索建议（多份材料反映同一问题时合并）")
def leads_of_inspection(inspection_id: ObjectId, user: UserRecord = Depends(current_user),
                        audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    owner = authorize(svc.scopes.inspection(inspection_id), user, audit, "leads.read", "inspection", inspection_id)
    documents = svc.repository.list_documents(inspection_id=inspection_id)
    found = inspection_leads([d.id for d in documents], svc.search.synced(), svc.search.e5_embed, _teams(user))
    audit("leads.read", object_type="inspection", object_id=inspection_id, inspection_id=owner.inspection_id)
    return [lead.as_json() for lead in found]
