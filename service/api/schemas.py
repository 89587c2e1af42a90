"""Request and response bodies of the API (they also document it at /docs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from service.security import ROLE_LABELS, UserRecord


class ErrorOut(BaseModel):
    detail: str = Field(description="中文说明")
    code: str = Field(description="稳定的错误代码")


ERRORS = {status: {"model": ErrorOut} for status in (401, 403, 404)}


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class UserOut(BaseModel):
    id: int
    name: str
    team: str
    role: str
    role_label: str

    @classmethod
    def of(cls, user: UserRecord) -> UserOut:
        return cls(id=user.id, name=user.name, team=user.team, role=user.role, role_label=ROLE_LABELS[user.role])


class InspectionIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="巡察轮次名称")
    team: str | None = Field(None, min_length=1, max_length=100, description="巡察组；成员省略时为本组")
    target_unit: str | None = Field(None, max_length=200, description="被巡察单位")


class InspectionOut(BaseModel):
    id: int
    name: str
    team: str
    target_unit: str | None
    created_at: datetime
    demo: bool = Field(False, description="示例材料轮次（检索时默认不包含）")
    document_count: int | None = Field(None, description="文档数")
    finding_count: int | None = Field(None, description="候选问题数")


class InspectionDeletedOut(BaseModel):
    inspection_id: int
    documents: int = Field(description="删除的文档数")
    findings: int = Field(description="删除的候选问题数")


class DocumentSummaryOut(BaseModel):
    id: int
    inspection_id: int
    inspection: str
    team: str
    filename: str
    kind: str
    kind_score: float
    pages: int
    finding_count: int = Field(description="候选问题（切分出的片段）数")
    flagged_count: int | None = Field(None, description="其中被标为疑似问题的条数；未标注时为空")
    created_at: datetime
    year: int | None = Field(None, description="文档自身日期（会议、谈话、落款日期）的年份；没有时为导入年份")
    demo: bool = Field(False, description="属于示例材料轮次")


class DocumentKindIn(BaseModel):
    kind: Literal["minutes", "petition", "interview", "other"] = Field(
        description="文档类型：minutes 会议记录/纪要、petition 信访举报件、interview 个别谈话记录、other 其他")


class FindingOut(BaseModel):
    id: int
    document_id: int
    seq: int
    text: str
    start: int
    end: int
    source_start: int
    source_end: int
    page: int | None
    speaker: str | None
    role: str
    allegation: int | None
    entities: list[dict]
    tags: dict | None
    review: dict | None = Field(None, description="最近一次审核：action（confirm/reject/correct）、items、reviewer、at")


class DocumentDetailOut(DocumentSummaryOut):
    sha256: str
    size: int
    media_type: str
    kind_scores: dict
    kind_overridden: bool
    fields: dict
    encoding: str | None
    ocr_pages: list[int]
    warnings: list[str]
    text: str
    findings: list[FindingOut]


class JobFileOut(BaseModel):
    index: int
    filename: str
    size: int
    status: str = Field(description="queued | running | added | duplicate | error | cancelled")
    status_label: str = Field(description="排队中 / 处理中 / 已完成 / 失败 / 已取消")
    document_id: int | None = None
    kind: str | None = None
    pages: int = 0
    findings: int = Field(0, description="候选问题（切分出的片段）数")
    flagged: int | None = Field(None, description="其中被标为疑似问题的条数；未加载标注模型时为空")
    code: str | None = None
    message: str | None = None
    warnings: list[str] = []
    started_at: datetime | None = None
    finished_at: datetime | None = None


class JobOut(BaseModel):
    id: str
    inspection_id: int
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    status_label: str = Field(description="排队中 / 处理中 / 已完成 / 失败 / 已取消")
    retryable: bool
    cancellable: bool = Field(description="还可以取消（排队中或处理中，且尚未请求取消）")
    total: int
    processed: int
    progress: float = Field(description="0–1")
    error: str | None
    files: list[JobFileOut]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancelled_at: datetime | None = None


class ReviewIn(BaseModel):
    action: Literal["confirm", "reject", "correct"]
    items: list[Annotated[str, Field(max_length=20)]] = Field(default_factory=list, max_length=20,
                                                             description="更正后的负面清单条目编号")


class ReviewOut(BaseModel):
    feedback_id: int
    finding_id: int
    action: str
    items: list[str]


class BulkReviewIn(BaseModel):
    finding_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(
        min_length=1, max_length=500, description="候选问题编号（最多 500 个）")
    action: Literal["confirm", "reject"] = Field(description="confirm（确认）或 reject（驳回）")


class BulkSkippedOut(BaseModel):
    finding_id: int
    detail: str


class BulkReviewOut(BaseModel):
    action: str
    reviewed: list[ReviewOut]
    skipped: list[BulkSkippedOut] = Field(description="未能审核的候选问题及原因（如没有可确认的标签）")


class ReviewCountsOut(BaseModel):
    total: int = Field(description="候选问题总数")
    flagged: int = Field(description="模型判为疑似问题的条数")
    unreviewed: int = Field(description="待审核")
    confirm: int = Field(description="已确认")
    reject: int = Field(description="已驳回")
    correct: int = Field(description="已更正")


class ReviewFindingOut(FindingOut):
    filename: str
    kind: str = Field(description="所在文档的类型")


class ReviewListOut(BaseModel):
    counts: ReviewCountsOut = Field(description="本轮全部候选问题的审核统计（不受筛选影响）")
    matched: int = Field(description="符合筛选条件的条数")
    findings: list[ReviewFindingOut] = Field(description="符合条件的候选问题（最多 limit 条）")


class TagIn(BaseModel):
    texts: list[Annotated[str, Field(min_length=1, max_length=5000)]] = Field(min_length=1, max_length=256)
