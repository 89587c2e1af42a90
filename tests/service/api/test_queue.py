"""The ingestion queue cannot be starved: files are scheduled one by one (teams take turns, small
files first, a large running file lets small ones through), a job can be cancelled, and a file that
is too long or takes too long fails alone with a Chinese reason while the rest of its upload goes on.

Real servers (uvicorn, real SQLite), real PDF/DOCX files built here; one ingestion worker so the
order is the scheduler's, not the luck of two threads.
"""

from __future__ import annotations

import time
import uuid

import pytest
from api_fixtures import Api, running_api
from conftest import MINUTES_LINES, PETITION_LINES, app_settings

from service import context
from service.jobs import JobRunner
from service.settings import get_settings
from service.storage.jobs import JobStore

LINE = "第{page}页第{line}行：县水利局推进农田水利工程建设，落实工程项目资金管理制度。"


def _server(home, **env):
    return running_api(home, max_file_mb="2", job_workers="1", **env)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    with _server(tmp_path_factory.mktemp("queue-home")) as running:
        yield running


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    """A server with a 100-page cap and a 2-second budget per file."""
    with _server(tmp_path_factory.mktemp("capped-home"), max_pages="100", file_timeout_seconds="2") as running:
        yield running


@pytest.fixture
def long_pdf(make_pdf):
    """A text PDF of ``pages`` pages (0.07–0.3 s a page to parse here, plus its analysis)."""
    def build(pages: int, name: str) -> bytes:
        lines = [LINE.format(page=p, line=n) + name for p in range(1, pages + 1) for n in range(1, 21)]
        return make_pdf(lines, name, lines_per_page=20).read_bytes()
    return build


def _round(api: Api, token: str, name: str) -> int:
    with api.client(token) as client:
        return client.post("/api/inspections", json={"name": name}).json()["id"]


def _upload(client, inspection: int, files: list[tuple[str, bytes]]) -> dict:
    response = client.post(f"/api/inspections/{inspection}/documents", files=[("files", f) for f in files])
    assert response.status_code == 202, response.text
    return response.json()


def _until(client, job_id: str, test, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if test(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached the state: {job}")


def _text(lines: list[str], tag: str) -> bytes:
    return "\n".join(lines + [tag]).encode("utf-8")


def test_a_small_file_submitted_after_a_large_one_finishes_first(api, long_pdf):
    token = api.add_user("大小文件用户", "甲巡察组")
    inspection = _round(api, token, "大小文件轮次")
    with api.client(token) as client:
        big = _upload(client, inspection, [("会议记录汇编.pdf", long_pdf(40, "汇编"))])
        _until(client, big["id"], lambda job: job["files"][0]["status"] == "running")
        small = _upload(client, inspection, [("举报信.txt", _text(PETITION_LINES, "（大小文件测试）"))])
        small_done = api.wait(client, small["id"])
        big_now = client.get(f"/api/jobs/{big['id']}").json()
        # the small document is listed while the large one is still being processed
        listed = client.get("/api/documents", params={"inspection_id": inspection}).json()
        big_done = api.wait(client, big["id"])
    assert small_done["files"][0]["status"] == "added", small_done
    assert big_now["status"] == "running" and big_now["status_label"] == "处理中"
    assert [d["filename"] for d in listed] == ["举报信.txt"]
    assert big_done["files"][0]["status"] == "added" and big_done["files"][0]["pages"] == 40
    assert small_done["files"][0]["finished_at"] < big_done["files"][0]["finished_at"]


def test_teams_take_turns_and_smaller_files_go_first(tmp_path, make_docx):
    """Team X queues 5 files, then team Y 1: Y's file runs second, not sixth; within X the smaller first."""
    home = tmp_path / "home"
    with pytest.MonkeyPatch.context() as patch:
        settings = app_settings(patch, home, tag_on_ingest="false", ocr="false")
        repository = context.repository(settings)
        store = JobStore(repository.engine)
        x = repository.ensure_inspection("轮流轮次", "X巡察组").id
        y = repository.ensure_inspection("轮流轮次", "Y巡察组").id
        runner = JobRunner(store, context.ingestor(settings, tag=False), settings.uploads_dir, workers=1)
        jobs = {}
        for team, inspection, count in (("X", x, 5), ("Y", y, 1)):
            job_id = uuid.uuid4().hex
            (settings.uploads_dir / job_id).mkdir(parents=True)
            files = []
            for index in range(count):
                extra = [f"（{team}组第 {index} 份）"] + ["会议补充记录：各科室汇报工作进展。"] * (60 * index)
                path = make_docx(MINUTES_LINES + extra, f"{team}{index}.docx")
                (settings.uploads_dir / job_id / str(index)).write_bytes(path.read_bytes())
                # X's files are queued largest first: the smallest must still run first
                files.append({"index": index, "filename": path.name, "size": path.stat().st_size,
                              "cost": 10 * (count - index) if team == "X" else 10})
            store.create(job_id, inspection, None, files)
            jobs[team] = job_id
        try:
            runner.start()
            deadline = time.monotonic() + 120
            while store.interrupted() and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            runner.shutdown()
            get_settings.cache_clear()
            context._repository.cache_clear()
    started = sorted(((f["started_at"], team, f["index"]) for team, job_id in jobs.items()
                      for f in store.get(job_id).files))
    order = [f"{team}{index}" for _, team, index in started]
    assert order == ["X4", "Y0", "X3", "X2", "X1", "X0"], order
    assert all(f["status"] == "added" for job_id in jobs.values() for f in store.get(job_id).files)


def test_cancel_stops_queued_files_at_once_and_the_running_one_at_its_next_page(api, long_pdf):
    token = api.add_user("取消用户", "乙巡察组")
    other = api.add_user("他组用户", "丙巡察组")
    inspection = _round(api, token, "取消轮次")
    with api.client(token) as client:
        job = _upload(client, inspection, [("卷一.pdf", long_pdf(25, "卷一")), ("卷二.pdf", long_pdf(30, "卷二"))])
        _until(client, job["id"], lambda j: j["files"][0]["status"] == "running")
        with api.client(other) as stranger:
            assert stranger.post(f"/api/jobs/{job['id']}/cancel").status_code == 404
        asked = time.monotonic()
        response = client.post(f"/api/jobs/{job['id']}/cancel")
        assert response.status_code == 200, response.text
        at_once = response.json()
        ended = api.wait(client, job["id"], timeout=60)
        stopped_after = time.monotonic() - asked
        again = client.post(f"/api/jobs/{job['id']}/cancel")
        documents = client.get("/api/documents", params={"inspection_id": inspection}).json()
    assert at_once["files"][1]["status"] == "cancelled" and at_once["files"][1]["status_label"] == "已取消"
    assert not at_once["cancellable"]
    assert ended["status"] == "cancelled" and ended["status_label"] == "已取消", ended
    assert [f["status"] for f in ended["files"]] == ["cancelled", "cancelled"]
    assert stopped_after < 3.0  # a page, not the ~10 s the whole file takes
    assert again.status_code == 409 and again.json()["code"] == "not_cancellable"
    assert documents == []
    assert not (api.home / "uploads" / job["id"]).exists()


def test_page_cap_and_file_timeout_fail_one_file_and_the_upload_goes_on(capped, long_pdf):
    token = capped.add_user("上限用户", "丁巡察组")
    inspection = _round(capped, token, "上限轮次")
    with capped.client(token) as client:
        first = capped.wait(client, _upload(client, inspection, [("纪要.txt", _text(MINUTES_LINES, "（先导入）"))])["id"])
        kept = client.get(f"/api/documents/{first['files'][0]['document_id']}").json()
        job = _upload(client, inspection, [("超长.pdf", long_pdf(101, "超长")),  # over the 100-page cap
                                           ("超时.pdf", long_pdf(80, "超时")),  # within it, but 6–20 s of work
                                           ("举报.txt", _text(PETITION_LINES, "（上限测试）"))])
        done = capped.wait(client, job["id"])
        after = client.get(f"/api/documents/{kept['id']}").json()
        listed = client.get("/api/documents", params={"inspection_id": inspection}).json()
    too_long, too_slow, fine = done["files"]
    assert done["status"] == "done" and fine["status"] == "added"
    assert too_long["status"] == "error" and too_long["code"] == "too_many_pages"
    assert too_long["message"] == "文件共 101 页，超过单个文档 100 页的上限，未导入。请拆分成较小的文件后再上传。"
    assert too_slow["status"] == "error" and too_slow["code"] == "timeout" and too_slow["status_label"] == "失败"
    assert "处理时间超过单个文件 2 秒的上限" in too_slow["message"]
    assert sorted(d["filename"] for d in listed) == ["举报.txt", "纪要.txt"]
    assert after == kept  # what was stored before stays as it was
