import sqlite3

import httpx

from api_fixtures import api  # noqa: F401  (module-scoped server fixture)


def test_login_sets_a_safe_session_cookie_and_logout_ends_it(api):
    api.add_user("张组员", "第一巡察组", password="secret-pass-1")
    with api.client() as client:
        assert client.get("/api/me").status_code == 401
        bad = client.post("/api/auth/login", json={"username": "张组员", "password": "wrong-pass"})
        assert bad.status_code == 401 and bad.json() == {"detail": "用户名或密码错误", "code": "bad_credentials"}
        ok = client.post("/api/auth/login", json={"username": "张组员", "password": "secret-pass-1"})
        assert ok.status_code == 200 and ok.json()["team"] == "第一巡察组"
        cookie = ok.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "xuncha_session=" in cookie
        me = client.get("/api/me")
        assert me.status_code == 200 and me.json()["name"] == "张组员" and me.json()["role_label"] == "巡察组成员"
        assert me.headers["cache-control"] == "no-store" and me.headers["x-content-type-options"] == "nosniff"
        stale = dict(client.cookies)
        assert client.post("/api/auth/logout").status_code == 204
        assert client.get("/api/me").status_code == 401
    with api.client(cookies=stale) as replay:  # the old session id is dead server-side too
        response = replay.get("/api/me")
        assert response.status_code == 401 and response.json()["detail"] == "登录已过期，请重新登录"


def test_login_accepts_a_form_and_throttles_guessing(api):
    api.add_user("表单用户", "第一巡察组", password="form-pass-12")
    with api.client() as client:
        ok = client.post("/api/auth/login", data={"username": "表单用户", "password": "form-pass-12"})
        assert ok.status_code == 200
        for _ in range(5):
            assert client.post("/api/auth/login", data={"username": "表单用户", "password": "x"}).status_code == 401
        blocked = client.post("/api/auth/login", data={"username": "表单用户", "password": "form-pass-12"})
        assert blocked.status_code == 429 and "登录失败次数过多" in blocked.json()["detail"]
        missing = client.post("/api/auth/login", json={"username": ""})
        assert missing.status_code == 422 and missing.json()["code"] == "invalid_request"
        huge = client.post("/api/auth/login", json={"username": "x", "password": "y" * 100_000})
        assert huge.status_code == 413
        text = client.post("/api/auth/login", content=b"admin", headers={"Content-Type": "text/plain"})
        assert text.status_code == 415 and "JSON" in text.json()["detail"]


def test_tokens_authenticate_and_bad_tokens_are_401(api):
    token = api.add_user("令牌用户", "第二巡察组", role="analyst")
    with api.client(token) as client:
        me = client.get("/api/me").json()
        assert me["role"] == "analyst" and me["team"] == "第二巡察组"
    for header in ({"Authorization": "Bearer xct_forged"}, {"Authorization": "Basic Zm9vOmJhcg=="}, {}):
        response = httpx.get(f"{api.base}/api/documents", headers=header)
        assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
        assert response.headers["www-authenticate"] == "Bearer"
    db = sqlite3.connect(api.home / "xuncha.db")
    stored = [row[0] for row in db.execute("select token_hash from api_tokens")]
    assert token not in stored and all(len(h) == 64 for h in stored)
    hashes = [row[0] for row in db.execute("select password_hash from users")]
    assert all(h.startswith("$argon2") for h in hashes)


def test_cookie_writes_from_another_origin_are_refused(api):
    api.add_user("跨站用户", "第一巡察组", password="origin-pass-1")
    with api.client() as client:
        client.post("/api/auth/login", json={"username": "跨站用户", "password": "origin-pass-1"})
        evil = client.post("/api/inspections", json={"name": "伪造"}, headers={"Origin": "https://evil.example"})
        assert evil.status_code == 403
        same = client.post("/api/inspections", json={"name": "本组轮次"},
                           headers={"Origin": api.base})
        assert same.status_code == 201 and same.json()["team"] == "第一巡察组"


def test_roles_are_enforced(api):
    analyst = api.add_user("分析员", "巡察办", role="analyst")
    admin = api.add_user("管理员甲", "巡察办", role="admin")
    with api.client(analyst) as client:
        refused = client.post("/api/inspections", json={"name": "分析员的轮次"})
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    with api.client(admin) as client:
        assert client.post("/api/inspections", json={"name": "无组"}).status_code == 422
        created = client.post("/api/inspections", json={"name": "管理员建的", "team": "第九巡察组"})
        assert created.status_code == 201 and created.json()["team"] == "第九巡察组"


def test_unknown_routes_and_errors_are_chinese_json(api):
    token = api.add_user("路由用户", "第一巡察组")
    with api.client(token) as client:
        missing = client.get("/api/nothing-here")
        assert missing.status_code == 404 and missing.json() == {"detail": "请求的地址不存在", "code": "not_found"}
        invalid = client.get("/api/documents/abc")
        assert invalid.status_code == 422 and invalid.json()["detail"].startswith("请求参数不合法")
        assert client.get("/docs").status_code == 200
        assert "/api/documents/{document_id}" in client.get("/openapi.json").json()["paths"]
