"""Issue 14 items 4 and 5 over HTTP: ids are never reused, the search index never drifts from the
database (not after a delete + upload by another team, not after a restart), and a reviewed
finding's case leaves search with its document.

Each server is a real uvicorn server over a real SQLite file with real faiss indexes; a "restart"
is a second app on the same data directory with every in-process cache dropped.
"""

from __future__ import annotations

from contextlib import contextmanager

import docx
import pytest
from api_fixtures import running_api

from service import context

A_TEXT = "柳湾村会计孙某某挪用扶贫专项资金12万元用于个人炒股，至今没有归还。"
A_QUERY = "村会计挪用扶贫专项资金炒股"
B_TEXT = "县交通局副局长钱某某多次在高档酒店接受工程承包商宴请并收受购物卡。"
B_QUERY = "副局长接受工程承包商宴请收受购物卡"


@contextmanager
def running(home):
    """An app on ``home`` as a fresh process would build it (no search replica in memory)."""
    context._search_services.clear()
    context._repository.cache_clear()
    try:
        with running_api(home) as api:
            yield api
    finally:
        context._search_services.clear()


def _docx(folder, name: str, text: str):
    document = docx.Document()
    document.add_paragraph(text)
    path = folder / name
    document.save(path)
    return path


def _upload(api: Api, client, inspection: int, path) -> int:
    response = client.post(f"/api/inspections/{inspection}/documents",
                           files=[("files", (path.name, path.read_bytes()))])
    assert response.status_code in (200, 201, 202), response.text
    job = api.wait(client, response.json()["id"])
    assert job["files"][0]["document_id"], job
    return job["files"][0]["document_id"]


def _findings(client, document_id: int) -> dict[int, str]:
    response = client.get(f"/api/documents/{document_id}/findings")
    assert response.status_code == 200, response.text
    return {f["id"]: f["text"] for f in response.json()}


def _hits(client, query: str, **params) -> list[dict]:
    response = client.get("/api/search", params={"q": query, "k": 20, **params})
    assert response.status_code == 200, response.text
    return response.json()["hits"]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("drift-home")


def test_ids_are_never_reused_and_search_never_drifts_even_after_a_restart(home, tmp_path):
    with running(home) as api:
        tokens = {"a": api.add_user("漂移甲", "漂移甲组"), "b": api.add_user("漂移乙", "漂移乙组"),
                  "admin": api.add_user("漂移管理员", "巡察办", role="admin")}
        with api.client(tokens["a"]) as a, api.client(tokens["b"]) as b:
            round_a = a.post("/api/inspections", json={"name": "甲组一轮"}).json()["id"]
            round_b = b.post("/api/inspections", json={"name": "乙组一轮"}).json()["id"]
            doc_a = _upload(api, a, round_a, _docx(tmp_path, "甲.docx", A_TEXT))
            found_a = _findings(a, doc_a)
            hits = _hits(a, A_QUERY, collection="findings")
            assert hits and hits[0]["document_id"] == doc_a and hits[0]["text"] in found_a.values()

            # the newest document goes; another team uploads; SQLite would hand out the same ids
            assert a.delete(f"/api/documents/{doc_a}").status_code == 204
            doc_b = _upload(api, b, round_b, _docx(tmp_path, "乙.docx", B_TEXT))
            found_b = _findings(b, doc_b)
            assert doc_b != doc_a and not set(found_b) & set(found_a), "ids of deleted rows were reused"

        def no_drift(api: Api) -> None:
            with api.client(tokens["admin"]) as admin, api.client(tokens["b"]) as b:
                for mode in ("hybrid", "keyword", "vector"):
                    for hit in _hits(admin, A_QUERY, collection="findings", mode=mode):
                        assert hit["document_id"] != doc_a and hit["id"] not in found_a, (mode, hit["id"])
                        assert "扶贫专项资金" not in hit["text"], (mode, hit["id"])
                        if hit["document_id"] == doc_b:  # only the floor-less vector ranking lists B,
                            assert mode == "vector", hit["id"]  # with B's own text and similarity
                            assert hit["text"] == found_b[hit["id"]] and hit["vector_score"] < 0.95
                hits = _hits(b, B_QUERY, collection="findings")
                assert hits and hits[0]["document_id"] == doc_b and hits[0]["text"] == found_b[hits[0]["id"]]

        no_drift(api)
    with running(home) as again:
        no_drift(again)
        assert (home / "index").glob("findings-*.replica")


def test_a_reviewed_findings_case_is_withdrawn_with_its_document(home, tmp_path):
    with running(home) as api:
        token = api.add_user("案例甲", "案例甲组")
        with api.client(token) as a:
            inspection = a.post("/api/inspections", json={"name": "案例一轮"}).json()["id"]
            document = _upload(api, a, inspection, _docx(tmp_path, "案例.docx", A_TEXT))
            (finding_id,) = [i for i, text in _findings(a, document).items() if "扶贫" in text]
            review = a.post(f"/api/findings/{finding_id}/review", json={"action": "correct", "items": ["C2-14"]})
            assert review.status_code == 201, review.text
            cases = _hits(a, A_QUERY, collection="cases")
            assert [h for h in cases if h["external_id"] == f"finding-{finding_id}"], "the review makes a case"

            assert a.delete(f"/api/documents/{document}").status_code == 204
            for mode in ("hybrid", "keyword", "vector"):
                left = [h for h in _hits(a, A_QUERY, collection="cases", mode=mode) if "扶贫专项资金" in h["text"]]
                assert left == [], mode
    with running(home) as again:
        with again.client(token) as a:
            assert not [h for h in _hits(a, A_QUERY, collection="cases", mode="keyword") if "扶贫专项资金" in h["text"]]
