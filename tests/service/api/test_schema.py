"""Property-based run of schemathesis over the read-only endpoints: no input may cause a 500."""

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from api_fixtures import api  # noqa: F401  (module-scoped server fixture)
from conftest import PETITION_LINES

schemathesis = pytest.importorskip("schemathesis")


def test_read_only_endpoints_never_answer_500(api, make_docx):
    token = api.add_user("模糊测试", "第一巡察组", role="member")
    with api.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "模糊测试轮次"}).json()["id"]
        files = [("files", ("信.docx", make_docx(PETITION_LINES, "信.docx").read_bytes()))]
        api.wait(client, client.post(f"/api/inspections/{inspection}/documents", files=files).json()["id"])
    schema = schemathesis.openapi.from_url(f"{api.base}/openapi.json").include(method="GET")
    headers = {"Authorization": f"Bearer {token}"}
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(max_examples=25, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case):
            response = case.call(base_url=api.base, headers=headers, timeout=60)  # the first search builds the index
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} → {response.status_code}")

        call()
    assert operations >= 8
    assert not failures, failures[:5]
