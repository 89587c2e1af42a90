"""画像: unit and person profiles across documents and rounds, within the reader's team scope.

Members see their team's rounds, admins and analysts every team's. A unit or person the reader sees
nothing of answers 404 exactly like one that does not exist. Audit rows never carry a name: the
object is recorded as a SHA-256 digest of the unit or person name (``name_digest``), so an auditor
who has the name can find who looked it up.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from service.api.deps import Auditor, auditor, current_user, services
from service.api.errors import ApiError
from service.api.routers.leads import LeadOut, _teams
from service.api.routers.rectification import ledger_of
from service.api.schemas import ERRORS
from service.profiles.models import (PersonDocument, PersonSummary, ProfileFinding, ProfileRound, ProfileTask,
                                     UnitSummary)
from service.api.services import Services
from service.security import UserRecord

router = APIRouter(prefix="/api/profiles", tags=["画像"])
Name = Annotated[str, Path(min_length=1, max_length=200, description="单位名称或人员姓名（与材料中的写法一致）")]
Demo = Query(False, description="包括示例巡察轮次")
Search = Query(None, max_length=100, description="名称包含的文字")
UNIT_MISSING = "没有找到该单位的画像（本人可见范围内没有相关巡察轮次、问题或整改任务）"
PERSON_MISSING = "没有找到该人员的画像（本人可见范围内的材料没有涉及此人）"


class CountOut(BaseModel):
    key: int | str
    count: int


class RepeatedItemOut(BaseModel):
    item_id: str
    title: str
    rounds: int


class UnitProfileOut(BaseModel):
    unit: str
    unit_type: str
    today: date = Field(description="计算整改预警所用的日期")
    totals: dict[str, int]
    rounds: list[ProfileRound] = Field(description="巡察该单位的轮次（本人可见范围内）")
    findings: list[ProfileFinding]
    tasks: list[ProfileTask] = Field(description="该单位各轮次的整改任务，以及责任单位为该单位的任务")
    task_counts: dict[str, int]
    by_focus: list[CountOut]
    by_item: list[CountOut]
    repeated_items: list[RepeatedItemOut] = Field(description="在该单位两轮及以上巡察中都发现的清单条目")
    mentions_limited: bool


class RoleCountOut(BaseModel):
    role: str
    count: int


class PersonProfileOut(BaseModel):
    name: str
    today: date
    roles: list[RoleCountOut] = Field(description="被反映人、谈话对象、问题涉及、整改责任人各出现几次")
    positions: list[str] = Field(description="材料中写明的单位和职务")
    units: list[str] = Field(description="涉及的被巡察单位")
    totals: dict[str, int]
    documents: list[PersonDocument]
    findings: list[ProfileFinding]
    tasks: list[ProfileTask]
    task_counts: dict[str, int]
    rounds: list[ProfileRound]
    by_focus: list[CountOut]
    by_item: list[CountOut]


class PeopleOut(BaseModel):
    total: int = Field(description="符合条件的人员数")
    people: list[PersonSummary]


class ProfileLeadOut(LeadOut):
    inspection_id: int
    inspection: str


def name_digest(name: str) -> str:
    """What the audit log records instead of a unit or person name."""
    return "sha256:" + hashlib.sha256(" ".join(name.split()).encode("utf-8")).hexdigest()[:32]


def _scope(user: UserRecord, include_demo: bool):
    from service.profiles import Scope

    return Scope.of(_teams(user), include_demo)


MISSING = {"unit": UNIT_MISSING, "person": PERSON_MISSING}


def _profile(request: Request, svc: Services, user: UserRecord, audit: Auditor, what: str, name: str,
             include_demo: bool, action: str):
    """The profile of unit or person ``name`` as ``user`` sees it; 404 (audited) when they see nothing of it."""
    from service.profiles import person_profile, unit_profile

    profile = None
    if name.isprintable():  # control characters name nothing (and PostgreSQL refuses NUL)
        ledger = ledger_of(request, svc)
        build = unit_profile if what == "unit" else person_profile
        profile = build(svc.repository, svc.checklist, name, _scope(user, include_demo), ledger.clock(),
                        ledger.thresholds)
    if profile is None or profile.empty:
        audit(action, "not_found", object_type=what, object_id=name_digest(name))
        raise ApiError(404, "not_found", MISSING[what])
    return profile


def _read(request: Request, svc: Services, user: UserRecord, audit: Auditor, what: str, name: str,
          include_demo: bool) -> dict:
    profile = _profile(request, svc, user, audit, what, name, include_demo, "profile.read")
    audit("profile.read", object_type=what, object_id=name_digest(name))
    return profile.as_json()


def _leads(request: Request, svc: Services, user: UserRecord, audit: Auditor, what: str, name: str,
           include_demo: bool) -> list[dict]:
    """The leads of the profile's rounds (a person's: only those about them), from the leads cache."""
    from service.leads import round_leads
    from service.profiles import lead_rounds, person_leads

    profile = _profile(request, svc, user, audit, what, name, include_demo, "profile.leads")
    names = {r.id: r.name for r in profile.rounds}
    teams = _teams(user)
    out = []
    for inspection_id in lead_rounds(profile):
        try:
            found = svc.leads.round(inspection_id, teams, lambda i=inspection_id: round_leads(
                i, svc.search.synced(), svc.search.e5_embed, teams))
        except LookupError:  # deleted in between
            continue
        if what == "person":
            found = person_leads(found, profile.name)
        out.extend({**lead.as_json(), "inspection_id": inspection_id, "inspection": names[inspection_id]}
                   for lead in found)
    audit("profile.leads", object_type=what, object_id=name_digest(name))
    return out


def _list(request: Request, svc: Services, user: UserRecord, include_demo: bool):
    ledger = ledger_of(request, svc)
    return svc.repository, _scope(user, include_demo), ledger.clock(), ledger.thresholds


@router.get("/units", response_model=list[UnitSummary], responses=ERRORS,
            summary="单位画像列表：本人可见的被巡察单位及其轮次数、问题数、整改任务数")
def units(request: Request, q: str | None = Search, include_demo: bool = Demo,
          user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    from service.profiles import list_units

    found = list_units(*_list(request, svc, user, include_demo), q)
    audit("profile.list", object_type="unit")
    return [vars(u) for u in found]


@router.get("/units/{unit}", response_model=UnitProfileOut, responses=ERRORS,
            summary="单位画像：各轮次巡察发现的问题、整改情况（红黄绿灯）和反复出现的问题")
def unit(unit: Name, request: Request, include_demo: bool = Demo, user: UserRecord = Depends(current_user),
         audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    return _read(request, svc, user, audit, "unit", unit, include_demo)


@router.get("/units/{unit}/leads", response_model=list[ProfileLeadOut], responses=ERRORS,
            summary="单位画像中的问题线索（该单位各巡察轮次的线索建议）")
def unit_leads(unit: Name, request: Request, include_demo: bool = Demo, user: UserRecord = Depends(current_user),
               audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    return _leads(request, svc, user, audit, "unit", unit, include_demo)


@router.get("/people", response_model=PeopleOut, responses=ERRORS,
            summary="人员画像列表：材料中的被反映人、谈话对象、问题涉及人员和整改责任人")
def people(request: Request, q: str | None = Search, limit: int = Query(200, ge=1, le=1000),
           include_demo: bool = Demo, user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
           svc: Services = Depends(services)):
    from service.profiles import list_people

    found, total = list_people(*_list(request, svc, user, include_demo), q, limit)
    audit("profile.list", object_type="person")
    return {"total": total, "people": [vars(p) for p in found]}


@router.get("/people/{name}", response_model=PersonProfileOut, responses=ERRORS,
            summary="人员画像：被反映、谈话、问题涉及和整改责任的全部记录")
def person(name: Name, request: Request, include_demo: bool = Demo, user: UserRecord = Depends(current_user),
           audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    return _read(request, svc, user, audit, "person", name, include_demo)


@router.get("/people/{name}/leads", response_model=list[ProfileLeadOut], responses=ERRORS,
            summary="人员画像中的问题线索（涉及此人的线索建议）")
def person_leads(name: Name, request: Request, include_demo: bool = Demo, user: UserRecord = Depends(current_user),
                 audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    return _leads(request, svc, user, audit, "person", name, include_demo)
