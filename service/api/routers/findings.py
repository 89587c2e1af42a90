"""Reviewing findings' tags (confirm / reject / correct, one at a time or confirm / reject in bulk);
the reviewer is the current user."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from service import feedback
from service.api.deps import Auditor, ObjectId, auditor, authorize, current_user, services
from service.api.errors import ApiError
from service.api.schemas import ERRORS, BulkReviewIn, BulkReviewOut, ErrorOut, ReviewIn, ReviewOut
from service.api.services import Services
from service.security import UserRecord

router = APIRouter(prefix="/api/findings", tags=["候选问题"])


@router.post("/review", response_model=BulkReviewOut, responses={**ERRORS, 400: {"model": ErrorOut}},
             summary="批量审核候选问题（确认或驳回）")
def review_many(body: BulkReviewIn, user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
                svc: Services = Depends(services)):
    """Every id is checked first: one the user may not change (another team's, or missing) fails the
    whole request with nothing recorded. A finding that cannot be confirmed (no tags) is skipped."""
    ids = list(dict.fromkeys(body.finding_ids))
    owners = {finding_id: authorize(svc.scopes.finding(finding_id), user, audit, "finding.review", "finding",
                                    finding_id, write=True) for finding_id in ids}
    reviewed, skipped = [], []
    for finding_id in ids:
        try:
            feedback_id = feedback.record(svc.repository, finding_id, body.action, user.name)
        except feedback.FeedbackError as error:
            skipped.append({"finding_id": finding_id, "detail": str(error)})
            continue
        audit("finding.review", object_type="finding", object_id=finding_id,
              inspection_id=owners[finding_id].inspection_id)
        items = list((svc.repository.get_finding(finding_id).tags or {}).get("labels") or []) \
            if body.action == "confirm" else []
        reviewed.append(ReviewOut(feedback_id=feedback_id, finding_id=finding_id, action=body.action, items=items))
    return BulkReviewOut(action=body.action, reviewed=reviewed, skipped=skipped)


@router.post("/{finding_id}/review", response_model=ReviewOut, status_code=201,
             responses={**ERRORS, 400: {"model": ErrorOut}}, summary="审核候选问题的标注")
def review(body: ReviewIn, finding_id: ObjectId, user: UserRecord = Depends(current_user),
           audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    owner = authorize(svc.scopes.finding(finding_id), user, audit, "finding.review", "finding", finding_id,
                      write=True)
    items = [i.strip().upper() for i in body.items if i.strip()]
    items = [svc.checklist.resolve_or_none(i) or i for i in items]  # an old (merged) id means its current item
    known = set(svc.checklist.by_id)
    try:
        feedback_id = feedback.record(svc.repository, finding_id, body.action, user.name, items, known)
    except feedback.FeedbackError as error:
        audit("finding.review", "invalid", object_type="finding", object_id=finding_id,
              inspection_id=owner.inspection_id)
        raise ApiError(400, "invalid_review", str(error)) from None
    audit("finding.review", object_type="finding", object_id=finding_id, inspection_id=owner.inspection_id)
    if body.action == "confirm":
        items = list((svc.repository.get_finding(finding_id).tags or {}).get("labels") or [])
    return ReviewOut(feedback_id=feedback_id, finding_id=finding_id, action=body.action,
                     items=[] if body.action == "reject" else items)
