"""Tagging free text against the negative checklist with the trained model."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from service import artefacts
from service.api.deps import Auditor, auditor, current_user, services
from service.api.errors import ApiError
from service.api.schemas import ERRORS, ErrorOut, TagIn
from service.api.services import Services
from service.security import UserRecord

router = APIRouter(prefix="/api", tags=["标注"])


@router.post("/tag", response_model=list[dict], responses={**ERRORS, 503: {"model": ErrorOut}},
             summary="标注文字：是否问题、负面清单条目、三个聚焦、纪律类别及依据")
def tag(body: TagIn, user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
        svc: Services = Depends(services)):
    try:
        results = svc.tag_batch(body.texts)
    except artefacts.ModelMissing:
        raise ApiError(503, "model_missing", "标注模型尚未训练，暂时无法标注。请管理员运行：xuncha train") from None
    audit("tag", object_type="texts", object_id=len(body.texts))
    return [result.as_json(index + 1) for index, result in enumerate(results)]
