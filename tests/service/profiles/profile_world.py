"""The earlier round both the 画像 and the 回头看 page tests build on, through the API: the rectification
tests' round of 柳河镇 (``ledger_world``) finalised with a deadline four days after ``TODAY``, 冯某某
made 责任人 of the tender task, and the car task given evidence and submitted for 销号 (the caller's
approver approves it). Also a petition written for these tests about 冯某某 again, for round 2. Not a
test module."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

from ledger_world import CAR, EVIDENCE, TENDER, build_round, write_docx

UNIT, PERSON = "柳河镇", "冯某某"
TODAY = date(2025, 6, 1)
DEADLINE = "2025-06-05"
PETITION_2 = ["举报信", "县委巡察组：", "我反映柳河镇农业服务中心主任冯某某的问题：",
              "一是2026年春耕化肥采购又没有招标，交给他亲戚开的农资店，合同金额十八万元；",
              "二是他经常把单位的皮卡车开回自己家里用。", "举报人：一名群众", "2026年3月2日"]


def tag(db: Path, finding_id: int, item: str) -> None:
    """Store tags making ``finding_id`` a finding under ``item`` (tagging on ingest is off in these tests)."""
    tags = json.dumps({"is_finding": True, "finding_score": 0.9, "labels": [item],
                       "checklist": [{"id": item, "title": "", "score": 0.8}], "focus": 2})
    connection = sqlite3.connect(db)
    with connection:
        connection.execute("update findings set tags = ? where id = ?", (tags, finding_id))
    connection.close()


def first_round(client, wait, files: Path) -> tuple[dict, dict[str, int]]:
    """Round 1 built, finalised and worked on by ``client`` (a writer); returns it and its task ids by item."""
    first = build_round(client, wait, files, "柳河镇2025年第一轮")
    ledger = client.post(f"/api/inspections/{first['inspection']}/report/finalise", json={"deadline": DEADLINE})
    assert ledger.status_code == 200, ledger.text
    tasks = {t["item_id"]: t["id"] for t in ledger.json()["tasks"]}
    assert client.patch(f"/api/rectification-tasks/{tasks[TENDER]}",
                        json={"person": f"{PERSON}（农业服务中心主任）"}).status_code == 200
    evidence = write_docx(EVIDENCE, files / "公车整改说明.docx")
    assert client.post(f"/api/rectification-tasks/{tasks[CAR]}/evidence",
                       files=[("files", (evidence.name, evidence.read_bytes()))]).status_code == 200
    assert client.post(f"/api/rectification-tasks/{tasks[CAR]}/submit").status_code == 200
    return first, tasks


def upload(client, wait, inspection: int, path: Path) -> list[dict]:
    """Upload one document into ``inspection``; returns its stored findings."""
    job = wait(client, client.post(f"/api/inspections/{inspection}/documents",
                                   files=[("files", (path.name, path.read_bytes()))]).json()["id"])
    assert job["status"] == "done", job
    return client.get(f"/api/documents/{job['files'][0]['document_id']}").json()["findings"]


def tag_lines(db: Path, findings: list[dict], plan: dict[str, str]) -> dict[str, int]:
    """Tag the finding containing each key of ``plan`` with its item; returns their ids by key."""
    ids = {}
    for words, item in plan.items():
        ids[words] = next(f["id"] for f in findings if words in f["text"])
        tag(db, ids[words], item)
    return ids
