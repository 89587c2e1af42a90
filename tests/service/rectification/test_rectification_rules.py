"""Ledger rules on a real SQLite database (migrated to every head): warning thresholds from the
XUNCHA_ settings, finalising from report sections, the status flow and its refusals, and the
ledger going with its round."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from service import context
from service.rectification import Approver, Ledger, RuleError, Thresholds, warning
from service.reports.outline import FocusSection, ItemSection, ReportDocument
from service.reports.store import ProblemRecord
from service.settings import Settings

TODAY = date(2025, 9, 1)


def _problem(problem_id: int, item_id: str, wording: str) -> ProblemRecord:
    return ProblemRecord(problem_id, item_id, 2, wording, wording, [], [], True, False, None, None)


def _report() -> ReportDocument:
    return ReportDocument("第二轮", "石桥村", TODAY, [FocusSection(2, "聚焦二", [
        ItemSection("C2-21", "公车私用", "廉洁纪律", "落实公务用车节假日封存。", [_problem(7, "C2-21", "村里的车被开回家。")]),
        ItemSection("C2-15", "节日福利", "廉洁纪律", "清退违规发放的福利。", [_problem(8, "C2-15", "节日发购物卡。")])])])


@pytest.fixture
def round_ledger(xuncha_home):
    repository = context.repository()
    inspection = repository.ensure_inspection("第二轮", "石桥组", "石桥村")
    now = {"today": TODAY}
    ledger = Ledger.from_settings(repository.engine, Settings(), clock=lambda: now["today"])
    return repository, inspection, ledger, now


@pytest.mark.parametrize(("left", "status", "expected"), [
    (30, "in_progress", None), (21, "not_started", None), (20, "not_started", "green"), (11, "in_progress", "green"),
    (10, "in_progress", "yellow"), (0, "pending_closure", "yellow"), (-1, "not_started", "red"),
    (-40, "closed", None)])
def test_default_warnings_by_days_left(left, status, expected):
    assert warning(TODAY + timedelta(days=left), status, TODAY) == expected


def test_thresholds_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("XUNCHA_RECTIFICATION_GREEN_DAYS", "30")
    monkeypatch.setenv("XUNCHA_RECTIFICATION_YELLOW_DAYS", "15")
    monkeypatch.setenv("XUNCHA_RECTIFICATION_RED_DAYS", "3")
    thresholds = Thresholds.from_settings(Settings())
    assert thresholds == Thresholds(30, 15, 3)
    assert [warning(TODAY + timedelta(days=d), "in_progress", TODAY, thresholds) for d in (31, 30, 15, 3, 2)] == \
        [None, "green", "yellow", "yellow", "red"]


def test_finalise_builds_tasks_and_the_flow_refuses_shortcuts(round_ledger):
    _repository, inspection, ledger, now = round_ledger
    added, kept = ledger.finalise(inspection.id, _report(), "石桥村", "撰稿人", date(2025, 10, 31))
    assert len(added) == 2 and kept == []
    entries = {e.task.item_id: e for e in ledger.entries(inspection.id)}
    car = entries["C2-21"].task
    assert (car.problem, car.measures, car.unit, car.deadline, car.status, car.problem_id) == \
        ("村里的车被开回家。", "落实公务用车节假日封存。", "石桥村", date(2025, 10, 31), "not_started", 7)
    assert entries["C2-21"].days_left == 60 and entries["C2-21"].warning is None
    now["today"] = date(2025, 10, 25)
    assert ledger.entries(inspection.id)[0].warning == "yellow"
    assert ledger.finalise(inspection.id, _report(), "石桥村", "撰稿人") == ([], sorted(added))

    with pytest.raises(RuleError) as no_evidence:
        ledger.submit(car.id, "组员甲")
    assert no_evidence.value.status == 409
    with pytest.raises(RuleError) as not_submitted:
        ledger.approve(car.id, Approver("主任", "admin"))
    assert not_submitted.value.code == "not_submitted"
    with pytest.raises(RuleError):
        ledger.edit(car.id, "组员甲", {"status": "closed"})
    with pytest.raises(RuleError):
        ledger.finalise(inspection.id, ReportDocument("第二轮", None, TODAY, []), None, "撰稿人")


def test_the_ledger_goes_with_its_round(round_ledger):
    repository, inspection, ledger, _now = round_ledger
    ledger.finalise(inspection.id, _report(), "石桥村", "撰稿人")
    assert len(ledger.store.tasks(inspection.id)) == 2
    assert repository.delete_inspection(inspection.id)
    assert ledger.store.tasks(inspection.id) == [] and ledger.store.ledger(inspection.id) is None
