"""共性问题分析: counts of findings across units and rounds within the reader's team scope.

Members see their team's rounds, admins and analysts every team's; a round of another team named by
``inspection_id`` answers 404 as if it did not exist. Audit rows carry ids only.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from service.api.deps import Auditor, OptionalId, auditor, current_user, services
from service.api.routers.documents import content_disposition
from service.api.routers.leads import _teams
from service.api.routers.reports import XLSX_TYPE, _inspection
from service.api.schemas import ERRORS
from service.api.services import Services
from service.security import UserRecord

router = APIRouter(prefix="/api", tags=["共性问题分析"])


class CountOut(BaseModel):
    key: int | str | None
    label: str
    count: int


class RecurringOut(BaseModel):
    item_id: str
    title: str
    focus: int | None
    focus_label: str
    rounds: int = Field(description="涉及的巡察轮次数")
    units: int = Field(description="涉及的被巡察单位数")
    findings: int
    unit_names: list[str]
    round_names: list[str]


class RepeatUnitOut(BaseModel):
    unit: str
    unit_type: str
    repeats: int = Field(description="在本单位两轮及以上巡察中都发现的清单条目数")
    rounds: int
    items: list[str]
    findings: int


class AnalysisOut(BaseModel):
    inspection_id: int | None
    year: int | None
    include_demo: bool
    totals: dict[str, int]
    by_focus: list[CountOut]
    by_item: list[CountOut]
    by_discipline: list[CountOut]
    by_unit_type: list[CountOut]
    by_year: list[CountOut]
    by_unit: list[CountOut]
    by_round: list[CountOut]
    recurring: list[RecurringOut] = Field(description="在两个及以上轮次或单位发现的清单条目（共性问题）")
    repeat_units: list[RepeatUnitOut] = Field(description="问题反复出现最多的单位")


def _analysis(svc: Services, user: UserRecord, audit: Auditor, action: str, inspection_id: int | None,
              year: int | None, include_demo: bool):
    from service.analysis import analyse

    if inspection_id is not None:
        _inspection(svc, user, audit, inspection_id, action)
    result = analyse(svc.repository, svc.checklist, _teams(user), inspection_id, year,
                     include_demo or inspection_id is not None)
    audit(action, object_type="inspection" if inspection_id else None, object_id=inspection_id,
          inspection_id=inspection_id)
    return result


Year = Query(None, ge=1900, le=2100, description="只统计该年份的材料（按文档年份）")
Demo = Query(False, description="包括示例巡察轮次")


@router.get("/analysis", response_model=AnalysisOut, responses=ERRORS,
            summary="共性问题分析：按三个聚焦、清单条目、纪律类别、单位类型和年份统计问题，列出共性问题")
def get_analysis(inspection_id: OptionalId = None, year: int | None = Year, include_demo: bool = Demo,
                 user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
                 svc: Services = Depends(services)):
    result = _analysis(svc, user, audit, "analysis.read", inspection_id, year, include_demo)
    return {"inspection_id": inspection_id, "year": year, "include_demo": include_demo, **result.as_json()}


@router.get("/analysis/export.xlsx", response_class=Response,
            responses={200: {"content": {XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}},
                             "description": "附件下载"}, **ERRORS},
            summary="导出共性问题分析（Excel，每种统计一个工作表）")
def export_analysis(inspection_id: OptionalId = None, year: int | None = Year, include_demo: bool = Demo,
                    user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
                    svc: Services = Depends(services)) -> Response:
    from service.analysis.export import workbook_bytes

    result = _analysis(svc, user, audit, "analysis.export", inspection_id, year, include_demo)
    return Response(workbook_bytes(result), media_type=XLSX_TYPE,
                    headers={"Content-Disposition": content_disposition("共性问题分析.xlsx")})
