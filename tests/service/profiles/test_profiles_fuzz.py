"""Property-based run of schemathesis over the 画像 endpoints: no unit or person name, query or flag
may cause a 500 (names with control characters, very long or percent-encoded ones included)."""

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from api_fixtures import api  # noqa: E402,F401  (module-scoped server fixture)
from conftest import PETITION_LINES  # noqa: E402

schemathesis = pytest.importorskip("schemathesis")


def test_profile_endpoints_never_answer_500(api, make_docx):
    token = api.add_user("画像模糊测试", "第一巡察组", role="member")
    with api.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "画像模糊测试轮次", "target_unit": "青石镇"}).json()["id"]
        files = [("files", ("信.docx", make_docx(PETITION_LINES, "信.docx").read_bytes()))]
        api.wait(client, client.post(f"/api/inspections/{inspection}/documents", files=files).json()["id"])
    schema = schemathesis.openapi.from_url(f"{api.base}/openapi.json").include(
        method="GET", path_regex=r"^/api/profiles/(units|people)(/\{[a-z]+\})?$")
    headers = {"Authorization": f"Bearer {token}"}
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(max_examples=30, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case):
            response = case.call(base_url=api.base, headers=headers, timeout=60)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} → {response.status_code}")

        call()
    assert operations == 4  # the lists and the profiles; the leads endpoints compute leads (see the API tests)
    assert not failures, failures[:5]
