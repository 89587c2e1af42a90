"""Inspection rounds (巡察轮次). Members see and create only their own team's."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends, Query

from service.api.deps import Auditor, ObjectId, auditor, authorize, current_user, services
from service.api.errors import ApiError, forbidden, not_found
from service.api.schemas import ERRORS, InspectionIn, InspectionOut
from service.api.services import Services
from service.security import UserRecord
from service.security.access import visible_team

router = APIRouter(prefix="/api/inspections", tags=["巡察轮次"])


@router.get("", response_model=list[InspectionOut], responses=ERRORS, summary="巡察轮次列表")
def list_inspections(team: str | None = Query(None, max_length=100, description="只列出该巡察组（分析人员、管理员）"),
                     user: UserRecord = Depends(current_user), svc: Services = Depends(services)):
    own = visible_team(user)
    if own is not None and team is not None and team != own:
        return []
    return [asdict(i) for i in svc.repository.list_inspections(own or team)]


@router.get("/{inspection_id}", response_model=InspectionOut, responses=ERRORS, summary="巡察轮次详情")
def get_inspection(inspection_id: ObjectId, user: UserRecord = Depends(current_user),
                   audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    authorize(svc.scopes.inspection(inspection_id), user, audit, "inspection.read", "inspection", inspection_id)
    record = svc.repository.get_inspection(inspection_id)
    if record is None:  # deleted in between
        raise not_found("inspection")
    return asdict(record)


@router.post("", status_code=201, response_model=InspectionOut, responses=ERRORS, summary="新建巡察轮次")
def create_inspection(body: InspectionIn, user: UserRecord = Depends(current_user),
                      audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    if user.role == "analyst":
        raise forbidden("巡察办分析人员只能查阅，不能新建巡察轮次")
    team = body.team if user.role == "admin" else user.team
    if user.role == "member" and body.team not in (None, user.team):
        audit("inspection.create", "denied")
        raise forbidden("只能为本巡察组新建巡察轮次")
    if not (team or "").strip() or not body.name.strip():
        raise ApiError(422, "invalid_request", "请填写巡察轮次名称（管理员还须指定巡察组）")
    record = svc.repository.ensure_inspection(body.name.strip(), team.strip(), body.target_unit)
    audit("inspection.create", object_type="inspection", object_id=record.id, inspection_id=record.id)
    return asdict(record)
