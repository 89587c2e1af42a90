"""Round leads are cached, and the cache never serves a round that changed since."""

import json
import sqlite3

from api_fixtures import api  # noqa: F401  (module-scoped server fixture)

BONUS, CAR = "C2-14", "C2-21"


def _tag(api, document_id: int, item: str) -> None:
    """Tagging on ingest is off in API tests: tag the document's findings as the tagger would."""
    tags = json.dumps({"is_finding": True, "finding_score": 0.9, "labels": [item],
                       "checklist": [{"id": item, "title": "", "score": 0.8}], "focus": 2})
    db = sqlite3.connect(api.home / "xuncha.db")
    with db:
        db.execute("update findings set tags = ? where document_id = ?", (tags, document_id))


def _upload(api, client, inspection: int, path) -> int:
    job = client.post(f"/api/inspections/{inspection}/documents", files=[("files", (path.name, path.read_bytes()))])
    return api.wait(client, job.json()["id"])["files"][0]["document_id"]


def _items(client, inspection: int) -> list[str]:
    response = client.get(f"/api/inspections/{inspection}/leads")
    assert response.status_code == 200, response.text
    return sorted(lead["item_id"] for lead in response.json())


def test_round_leads_are_cached_and_recomputed_when_the_round_changes(api, make_docx):
    token = api.add_user("线索缓存员", "线索缓存组")
    cache = api.app.state.services.leads
    bonus = make_docx(["举报信", "镇党委书记陈立国2023年12月决定给干部突击发放年终补助46.8万元，没有文件依据。"], "补助.docx")
    car = make_docx(["举报信", "镇长钱永军2024年春节期间长期公车私用，开公务车回老家探亲。"], "公车.docx")
    with api.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "线索缓存轮次"}).json()["id"]
        first = _upload(api, client, inspection, bonus)
        _tag(api, first, BONUS)
        assert _items(client, inspection) == [BONUS]  # the first search also loads the prior cases:
        assert cache.cached(inspection, {"线索缓存组"}) is None  # those changed while it computed
        assert _items(client, inspection) == [BONUS]
        cached = cache.cached(inspection, {"线索缓存组"})
        assert cached is not None and [lead.item_id for lead in cached] == [BONUS]
        assert _items(client, inspection) == [BONUS]
        document = client.get(f"/api/documents/{first}/leads").json()  # cut from the cached round
        assert [lead["item_id"] for lead in document] == [BONUS]

        second = _upload(api, client, inspection, car)
        assert cache.cached(inspection, {"线索缓存组"}) is None  # new document and findings: a new version
        _tag(api, second, CAR)
        assert _items(client, inspection) == [BONUS, CAR]

        assert client.delete(f"/api/documents/{second}").status_code == 204
        assert _items(client, inspection) == [BONUS]


def test_a_finished_upload_prepares_the_rounds_leads_in_the_background(api, make_docx, monkeypatch):
    import time

    services = api.app.state.services
    monkeypatch.setattr(services.runner, "on_job_done", services.prepare_leads)  # as with XUNCHA_PREPARE_LEADS on
    token = api.add_user("线索预备员", "线索预备组")
    path = make_docx(["举报信", "村会计周某2024年3月挪用集体资金12万元用于个人炒股。"], "挪用.docx")
    with api.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "线索预备轮次"}).json()["id"]
        _upload(api, client, inspection, path)
        deadline = time.monotonic() + 300
        while services.leads.cached(inspection, {"线索预备组"}) is None and time.monotonic() < deadline:
            time.sleep(0.5)
        prepared = services.leads.cached(inspection, {"线索预备组"})
        assert prepared is not None  # ready before anybody asked
        assert client.get(f"/api/inspections/{inspection}/leads").json() == [lead.as_json() for lead in prepared]
