import os
import sqlite3
from urllib.parse import quote

import pytest

from api_fixtures import api  # noqa: F401  (module-scoped server fixture)
from conftest import MINUTES_LINES, PETITION_LINES


def _counts(api) -> tuple[int, int]:
    db = sqlite3.connect(api.home / "xuncha.db")
    return (db.execute("select count(*) from documents").fetchone()[0],
            db.execute("select count(*) from findings").fetchone()[0])


@pytest.fixture(scope="module")
def member(api):
    token = api.add_user("上传员", "第三巡察组")
    with api.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "2024年第二轮", "target_unit": "县水利局"}).json()
        yield client, inspection["id"]


def _upload(client, inspection_id, *paths, name=None):
    files = [("files", (name or p.name, p.read_bytes())) for p in paths]
    return client.post(f"/api/inspections/{inspection_id}/documents", files=files)


def test_docx_and_pdf_upload_runs_a_job_and_yields_structured_documents(api, member, make_docx, make_pdf):
    client, inspection_id = member
    docx = make_docx(MINUTES_LINES, "会议记录.docx")
    pdf = make_pdf(PETITION_LINES, "举报信.pdf", lines_per_page=4)
    response = _upload(client, inspection_id, docx, pdf)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] in ("queued", "running") and job["total"] == 2
    assert response.headers["location"] == f"/api/jobs/{job['id']}"
    done = api.wait(client, job["id"])
    assert done["status"] == "done" and done["progress"] == 1.0
    by_name = {f["filename"]: f for f in done["files"]}
    assert by_name["会议记录.docx"]["status"] == "added" and by_name["会议记录.docx"]["kind"] == "minutes"
    assert by_name["举报信.pdf"]["kind"] == "petition" and by_name["举报信.pdf"]["pages"] == 2
    assert by_name["举报信.pdf"]["findings"] > 0 and by_name["举报信.pdf"]["flagged"] is None  # no model here

    detail = client.get(f"/api/documents/{by_name['举报信.pdf']['document_id']}").json()
    assert detail["kind"] == "petition" and detail["fields"]["complainant"] == "田富贵"
    assert detail["findings"] and "original_path" not in detail
    for finding in detail["findings"]:
        assert detail["text"][finding["start"]:finding["end"]] == finding["text"]
        assert finding["page"] in (1, 2) and finding["tags"] is None
    minutes = client.get(f"/api/documents/{by_name['会议记录.docx']['document_id']}").json()
    assert minutes["fields"]["chair"] == "高志远"
    findings = client.get(f"/api/documents/{minutes['id']}/findings").json()
    assert [f["id"] for f in findings] == [f["id"] for f in minutes["findings"]]

    listed = client.get("/api/documents", params={"inspection_id": inspection_id, "kind": "minutes"}).json()
    assert [d["filename"] for d in listed] == ["会议记录.docx"]


def test_duplicate_upload_is_a_no_op(api, member, make_docx):
    client, inspection_id = member
    path = make_docx(MINUTES_LINES + ["补充：重复上传测试"], "重复.docx")
    first = api.wait(client, _upload(client, inspection_id, path).json()["id"])
    before = _counts(api)
    second = api.wait(client, _upload(client, inspection_id, path).json()["id"])
    assert second["files"][0]["status"] == "duplicate"
    assert second["files"][0]["document_id"] == first["files"][0]["document_id"]
    assert "未重复导入" in second["files"][0]["message"]
    assert _counts(api) == before


def test_progress_is_streamed_as_server_sent_events(api, member, make_docx):
    client, inspection_id = member
    job = _upload(client, inspection_id, make_docx(PETITION_LINES + ["（事件流测试）"], "事件.docx")).json()
    with client.stream("GET", f"/api/jobs/{job['id']}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = [line.split(": ", 1)[1] for line in stream.iter_lines() if line.startswith("event:")]
    assert events[0] == "progress" and events[-1] == "end"
    assert client.get(f"/api/jobs/{job['id']}").json()["status"] == "done"


def test_original_download_keeps_the_chinese_name(api, member, make_docx):
    client, inspection_id = member
    path = make_docx(MINUTES_LINES + ["（下载测试）"], "党组会议记录 2024.docx")
    document_id = api.wait(client, _upload(client, inspection_id, path).json()["id"])["files"][0]["document_id"]
    response = client.get(f"/api/documents/{document_id}/original")
    assert response.status_code == 200 and response.content == path.read_bytes()
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="document.docx"')
    assert f"filename*=UTF-8''{quote('党组会议记录 2024.docx', safe='')}" in disposition


@pytest.mark.parametrize("name, content, status, code, words", [
    ("空.txt", b"", 400, "empty", "为空"),
    ("假的.pdf", "这其实是一段文本".encode(), 415, "mismatched_type", "扩展名与实际内容不符"),
    ("表格.docx", b"%PDF-1.4\n%fake", 415, "mismatched_type", "内容是PDF 文档"),
    ("程序.exe", b"MZ\x90\x00binary", 415, "unsupported_type", "不支持的文件类型"),
])
def test_bad_files_are_refused_in_chinese_and_nothing_is_stored(api, member, tmp_path, name, content, status,
                                                                   code, words):
    client, inspection_id = member
    before = _counts(api)
    path = tmp_path / name
    path.write_bytes(content)
    response = _upload(client, inspection_id, path)
    assert response.status_code == status and response.json()["code"] == code
    assert words in response.json()["detail"] and name in response.json()["detail"]
    assert _counts(api) == before
    assert not any((api.home / "uploads").glob("*/*"))


def test_oversize_file_is_413_and_nothing_is_stored(api, member, make_docx, tmp_path):
    client, inspection_id = member
    before = _counts(api)
    big = tmp_path / "大文件.txt"
    big.write_bytes("巡察".encode() * (api.settings.max_file_bytes // 6 + 1000))
    small = make_docx(MINUTES_LINES + ["（与大文件同批）"], "小文件.docx")
    response = _upload(client, inspection_id, small, big)
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert "大文件.txt" in response.json()["detail"] and "1 MB" in response.json()["detail"]
    assert _counts(api) == before and not any((api.home / "uploads").glob("*/*"))


def test_corrupt_file_fails_in_its_job_result(api, member, tmp_path):
    client, inspection_id = member
    before = _counts(api)
    path = tmp_path / "损坏.pdf"
    path.write_bytes(b"%PDF-1.5 garbage that is no pdf")
    job = api.wait(client, _upload(client, inspection_id, path).json()["id"])
    entry = job["files"][0]
    assert job["status"] == "done" and entry["status"] == "error" and "PDF" in entry["message"]
    assert _counts(api) == before


def test_upload_without_files_or_multipart_is_400(api, member):
    client, inspection_id = member
    no_files = client.post(f"/api/inspections/{inspection_id}/documents", files={"note": (None, "1")})
    assert no_files.status_code == 400 and no_files.json()["code"] == "no_files"
    assert client.post(f"/api/inspections/{inspection_id}/documents", json={}).status_code == 400


def test_delete_removes_the_document_and_its_findings(api, member, make_docx):
    client, inspection_id = member
    path = make_docx(PETITION_LINES + ["（删除测试）"], "待删除.docx")
    document_id = api.wait(client, _upload(client, inspection_id, path).json()["id"])["files"][0]["document_id"]
    assert client.delete(f"/api/documents/{document_id}").status_code == 204
    assert client.get(f"/api/documents/{document_id}").status_code == 404
    assert client.delete(f"/api/documents/{document_id}").status_code == 404
    db = sqlite3.connect(api.home / "xuncha.db")
    assert db.execute("select count(*) from findings where document_id = ?", (document_id,)).fetchone()[0] == 0


def test_tag_without_a_model_is_503(api, member, monkeypatch, tmp_path):
    client, _ = member
    monkeypatch.setattr(api.app.state.services.settings, "models_dir", tmp_path)  # an empty models folder
    response = client.post("/api/tag", json={"texts": ["公务接待超标准"]})
    assert response.status_code == 503
    assert response.json()["code"] == "model_missing" and "xuncha train" in response.json()["detail"]


def test_tag_returns_the_checklist_items_with_evidence(api, member):
    if not (api.settings.models_dir / "tagger.joblib").exists():
        if os.environ.get("CI"):
            pytest.fail("CI must train the tagger before the tests (scripts/setup.sh)")
        pytest.skip("no trained tagger (run xuncha train)")
    client, _ = member
    response = client.post("/api/tag", json={"texts": ["局长把办公楼维修项目直接交给亲戚的公司，没有招标，金额38万元。",
                                                       "会议由张书记主持，全体班子成员参加。"]})
    assert response.status_code == 200, response.text
    first, second = response.json()
    assert first["is_finding"] and not second["is_finding"]
    assert first["checklist"] and first["checklist"][0]["id"] in {i["id"] for i in first["checklist"]}
    assert first["evidence"] and all("start" in e for e in first["evidence"])


def test_concurrent_tag_requests_each_get_their_own_answers_through_the_batcher(api, member):
    if not (api.settings.models_dir / "tagger.joblib").exists():
        pytest.skip("no trained tagger (run xuncha train)")
    from concurrent.futures import ThreadPoolExecutor

    client, _ = member
    finding = "局长把办公楼维修项目直接交给亲戚的公司，没有招标，金额38万元。"
    procedure = "会议由张书记主持，全体班子成员参加。"
    bodies = [[finding] * (n % 3 + 1) + [procedure] for n in range(12)]
    batcher = api.app.state.services.tag_batch
    calls_before = batcher.calls
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda texts: client.post("/api/tag", json={"texts": texts}), bodies))
    for texts, answer in zip(bodies, answers):
        assert answer.status_code == 200, answer.text
        results = answer.json()
        assert len(results) == len(texts)
        assert [r["is_finding"] for r in results] == [True] * (len(texts) - 1) + [False]
        assert [r["id"] for r in results] == list(range(1, len(texts) + 1))
    assert batcher.calls > calls_before
