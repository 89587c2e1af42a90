"""Progress of what ``xuncha serve`` prepares in the background (search index, demo import)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from service.api.deps import current_user
from service.api.schemas import ERRORS
from service.security import UserRecord
from service.startup import state_of

router = APIRouter(prefix="/api", tags=["服务状态"])


class StepOut(BaseModel):
    state: str = Field(description="索引：pending/building/ready/failed；示例数据：off/pending/running/done/failed")
    label: str = Field(description="中文状态")


class DemoOut(StepOut):
    done: int = Field(description="已处理的示例文件数")
    total: int = Field(description="示例文件总数")
    added: int = Field(description="新入库的示例文件数")


class StartupOut(BaseModel):
    ready: bool = Field(description="后台准备工作是否都已结束")
    index: StepOut
    demo: DemoOut
    message: str | None = Field(description="给人看的进度，如“示例数据导入中 3/12；检索索引已就绪”；全部就绪时为空")
    seconds: float = Field(description="服务启动以来的秒数")


READY = {"ready": True, "index": {"state": "ready", "label": "已就绪"},
         "demo": {"state": "off", "label": "不导入", "done": 0, "total": 0, "added": 0}, "message": None, "seconds": 0}


@router.get("/startup", response_model=StartupOut, responses=ERRORS,
            summary="服务启动后的后台准备进度（检索索引、示例数据导入）")
def startup(request: Request, user: UserRecord = Depends(current_user)) -> dict:
    state = state_of(request.app)
    return READY if state is None else state.as_json()
