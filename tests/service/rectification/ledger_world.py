"""A round built through the API for the ledger tests: two documents written for these tests are
uploaded, a reviewer states their findings' checklist items (tagging on ingest is off), and the
writer settles the report wording. Not a test module; imported by the ledger tests."""

from __future__ import annotations

from pathlib import Path

import docx

GIFTS, CAR, TENDER = "C2-15", "C2-21", "C5-04"
INTERVIEW = ["个别谈话记录", "谈话对象：周某某（柳河镇财政所所长）", "时间：2025年3月12日", "谈话人：吴某、郑某",
             "周某某：镇里去年中秋节用公款买了四十箱月饼，发给各村干部，钱从办公经费里列支。",
             "周某某：镇政府那辆越野车，分管副镇长周末经常开回老家。"]
PETITION = ["举报信", "县委巡察组：", "我反映柳河镇农业服务中心主任冯某某的问题：",
            "一是2024年防汛物资采购没有招标，直接交给他亲戚开的五金店，合同金额二十六万元；",
            "二是他上班时间经常不在岗。", "举报人：一名群众", "2025年2月20日"]
EVIDENCE = ["整改情况说明", "柳河镇已于2025年5月建立公务用车节假日封存制度，", "越野车已加装行车轨迹监控，相关副镇长作出书面检讨。"]
WORDINGS = {GIFTS: "柳河镇用公款购买月饼向村干部发放节日福利，费用在办公经费中列支。",
            CAR: "柳河镇公务用车管理不严，分管领导节假日公车私用。",
            TENDER: "柳河镇农业服务中心防汛物资采购应招标未招标。"}
REVIEWS = (("interview", "月饼", GIFTS), ("interview", "越野车", CAR), ("petition", "防汛物资", TENDER))


def write_docx(lines: list[str], path: Path) -> Path:
    document = docx.Document()
    document.add_heading(lines[0], level=1)
    for line in lines[1:]:
        document.add_paragraph(line)
    document.save(path)
    return path


def build_round(client, wait, files: Path, name: str) -> dict:
    """Create the round, upload and review its documents, settle the wording; returns ids."""
    inspection = client.post("/api/inspections", json={"name": name, "target_unit": "柳河镇"}).json()["id"]
    upload = [("files", (p.name, p.read_bytes())) for p in
              (write_docx(INTERVIEW, files / "周某某谈话记录.docx"), write_docx(PETITION, files / "举报信.docx"))]
    job = wait(client, client.post(f"/api/inspections/{inspection}/documents", files=upload).json()["id"])
    assert job["status"] == "done", job
    docs = {f["filename"]: f["document_id"] for f in job["files"]}
    documents = {"interview": docs["周某某谈话记录.docx"], "petition": docs["举报信.docx"]}
    for kind, words, item in REVIEWS:
        findings = client.get(f"/api/documents/{documents[kind]}").json()["findings"]
        finding = next(f["id"] for f in findings if words in f["text"])
        response = client.post(f"/api/findings/{finding}/review", json={"action": "correct", "items": [item]})
        assert response.status_code == 201, response.text
    # The first draft builds the prior-case search index: minutes on a loaded machine.
    report = client.get(f"/api/inspections/{inspection}/report", timeout=600).json()
    problems = {p["item_id"]: p for g in report["groups"] for i in g["items"] for p in i["problems"]}
    assert set(problems) == set(WORDINGS) and all(p["included"] for p in problems.values())
    for item, wording in WORDINGS.items():
        assert client.patch(f"/api/report-problems/{problems[item]['id']}", json={"wording": wording}).status_code == 200
    return {"inspection": inspection, "problems": problems, "documents": documents}
