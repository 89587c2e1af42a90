"""Token expiry and revocation (issue 14, item 7): API tokens expire after XUNCHA_TOKEN_DAYS, web
sessions after XUNCHA_SESSION_HOURS; ``xuncha users revoke`` ends every token and session of a user,
``xuncha users disable`` blocks the account until ``enable``, and a password reset revokes API tokens.
Over the real app on a socket; the CLI works on the same database."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

from sqlalchemy import update
from typer.testing import CliRunner

from api_fixtures import api  # noqa: F401  (module-scoped server fixture)
from service import context
from service.cli import app as cli
from service.security import SecurityStore
from service.storage.security_models import ApiToken

runner = CliRunner()


def _login(api, name: str, password: str):
    client = api.client()
    response = client.post("/api/auth/login", json={"username": name, "password": password})
    assert response.status_code == 200, response.text
    return client


def _me(api, token: str):
    with api.client(token) as client:
        return client.get("/api/me")


def _cli(*args: str):
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _audit(api, action: str) -> list[dict]:
    db = sqlite3.connect(api.home / "xuncha.db")
    db.row_factory = sqlite3.Row
    return [dict(r) for r in db.execute("select * from audit_log where action = ? order by id", (action,))]


def test_api_tokens_expire_after_the_configured_days(api):
    assert api.settings.token_days == 90 and api.settings.session_hours == 12  # the documented defaults
    old, fresh = api.add_user("过期用户", "甲巡察组"), api.add_user("新令牌用户", "甲巡察组")
    store = SecurityStore(context.repository(api.settings).engine)
    now = datetime.now(timezone.utc)
    with context.repository(api.settings).engine.begin() as connection:
        for name, age in (("过期用户", 91), ("新令牌用户", 89)):  # 89 days: still inside the lifetime
            connection.execute(update(ApiToken).where(ApiToken.user_id == store.get_user(name).id)
                               .values(created_at=now - timedelta(days=age)))
    expired = _me(api, old)
    assert expired.status_code == 401 and expired.json()["detail"] == "API 令牌已过期，请联系管理员重新生成"
    assert _me(api, fresh).status_code == 200
    refused = [r for r in _audit(api, "auth.token") if r["user_name"] == "过期用户"]
    assert [(r["outcome"], r["object_id"], r["client"]) for r in refused] == [("denied", "/api/me", "127.0.0.1")]


def test_users_revoke_ends_every_token_and_session_of_the_user(api):
    first = api.add_user("吊销用户", "甲巡察组", password="revoke-pass-1")
    second = _cli("users", "token", "吊销用户").split("API 令牌：")[1].split()[0]
    bystander = api.add_user("旁观用户", "甲巡察组")
    browser = _login(api, "吊销用户", "revoke-pass-1")
    assert _me(api, second).status_code == 200 and browser.get("/api/me").status_code == 200

    output = _cli("users", "revoke", "吊销用户")
    assert "2 个 API 令牌" in output and "1 个网页登录" in output
    for token in (first, second):
        response = _me(api, token)
        assert response.status_code == 401 and response.json()["detail"] == "API 令牌已被吊销，请联系管理员重新生成"
    assert browser.get("/api/me").status_code == 401
    browser.close()
    assert _me(api, bystander).status_code == 200  # other users keep theirs
    again = _login(api, "吊销用户", "revoke-pass-1")  # revoking is not disabling
    assert again.get("/api/me").json()["name"] == "吊销用户"
    again.close()
    assert _audit(api, "user.revoke")[-1]["client"] == "cli"
    missing = runner.invoke(cli, ["users", "revoke", "无此用户"])
    assert missing.exit_code == 1 and "没有名为 无此用户 的用户" in missing.output


def test_disabled_users_cannot_log_in_and_their_credentials_are_refused_until_enabled(api):
    token = api.add_user("停用用户", "甲巡察组", password="disable-pass-1")
    browser = _login(api, "停用用户", "disable-pass-1")
    _cli("users", "disable", "停用用户")

    refused = _me(api, token)
    assert refused.status_code == 401 and refused.json()["detail"] == "该账号已被停用，请联系管理员"
    assert browser.get("/api/me").status_code == 401
    login = browser.post("/api/auth/login", json={"username": "停用用户", "password": "disable-pass-1"})
    assert login.status_code == 403 and login.json() == {"detail": "该账号已被停用，无法登录，请联系管理员",
                                                         "code": "account_disabled"}
    wrong = browser.post("/api/auth/login", json={"username": "停用用户", "password": "not-the-password"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "用户名或密码错误"  # no hint without the password
    assert "停用" in _cli("users", "list")

    _cli("users", "enable", "停用用户")
    assert _me(api, token).status_code == 200  # an unrevoked, unexpired token works again
    assert browser.post("/api/auth/login", json={"username": "停用用户", "password": "disable-pass-1"}).status_code == 200
    browser.close()
    logins = [r["outcome"] for r in _audit(api, "auth.login") if r["user_name"] == "停用用户"]
    assert logins == ["ok", "denied", "failed", "ok"]


def test_a_password_reset_revokes_api_tokens_and_web_sessions(api):
    token = api.add_user("改密用户", "甲巡察组", password="before-reset-1")
    browser = _login(api, "改密用户", "before-reset-1")
    output = _cli("users", "password", "改密用户", "--password", "after-reset-1")
    assert "API 令牌已失效" in output
    assert _me(api, token).status_code == 401
    assert browser.get("/api/me").status_code == 401
    browser.close()
    new = _cli("users", "token", "改密用户").split("API 令牌：")[1].split()[0]
    assert _me(api, new).json()["name"] == "改密用户"
    _login(api, "改密用户", "after-reset-1").close()
