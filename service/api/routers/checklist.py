"""Browsing the negative checklist (负面清单)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query

from nlp.checklist import ChecklistItem
from service.api.deps import current_user, services
from service.api.errors import ApiError
from service.api.schemas import ERRORS
from service.api.services import Services

router = APIRouter(prefix="/api/checklist", tags=["负面清单"], dependencies=[Depends(current_user)])


@router.get("", response_model=list[ChecklistItem], responses=ERRORS, summary="负面清单条目（可筛选）")
def list_items(group: str | None = Query(None, max_length=10, description="分组，如 C2"),
               focus: int | None = Query(None, ge=1, le=4, description="三个聚焦（1–4）"),
               q: str | None = Query(None, max_length=100, description="按文字查找"),
               limit: int = Query(400, ge=1, le=400), svc: Services = Depends(services)):
    checklist = svc.checklist
    items = checklist.search(q, len(checklist.items)) if q and q.strip() else checklist.items
    items = [i for i in items if (group is None or i.group == group.strip().upper())
             and (focus is None or i.focus == focus)]
    return items[:limit]


@router.get("/{item_id}", response_model=ChecklistItem, responses=ERRORS, summary="负面清单条目详情")
def get_item(item_id: str = Path(..., max_length=20), svc: Services = Depends(services)):
    try:
        return svc.checklist.get(item_id.strip().upper())
    except KeyError:
        raise ApiError(404, "not_found", f"负面清单中没有编号为 {item_id} 的条目") from None
