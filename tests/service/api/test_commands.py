"""``xuncha users``, ``xuncha audit`` and the demo set-up of ``xuncha serve``."""

import re
import shutil

from typer.testing import CliRunner

from service import context
from service.cli import app
from service.commands.serve import DEMO_TEAM, prepare_demo
from service.security import SecurityStore
from service.settings import PROJECT_ROOT, get_settings

runner = CliRunner()


def test_users_add_prints_a_token_and_a_generated_password(xuncha_home):
    result = runner.invoke(app, ["users", "add", "李组员", "--team", "第三巡察组", "--role", "member"])
    assert result.exit_code == 0, result.output
    password = re.search(r"初始密码：(\S+)", result.stdout).group(1)
    token = re.search(r"API 令牌：(\S+)", result.stdout).group(1)
    store = SecurityStore(context.repository().engine)
    assert store.authenticate("李组员", password).team == "第三巡察组"
    assert store.user_for_token(token).name == "李组员"

    chosen = runner.invoke(app, ["users", "add", "王分析", "--team", "巡察办", "--role", "analyst",
                                 "--password", "chosen-pass-1"])
    assert chosen.exit_code == 0 and "初始密码" not in chosen.stdout
    assert store.authenticate("王分析", "chosen-pass-1").role == "analyst"
    assert runner.invoke(app, ["users", "add", "李组员", "--team", "x"]).exit_code == 1
    bad_role = runner.invoke(app, ["users", "add", "赵", "--team", "x", "--role", "boss"])
    assert bad_role.exit_code == 1 and "未知的角色" in bad_role.output
    short = runner.invoke(app, ["users", "add", "钱", "--team", "x", "--password", "123"])
    assert short.exit_code == 1 and "至少需要 8 个字符" in short.output
    listed = runner.invoke(app, ["users", "list"])
    assert "李组员" in listed.stdout and "巡察办分析人员" in listed.stdout
    assert runner.invoke(app, ["audit", "--json"]).stdout.strip() == "[]"


def test_users_password_resets_the_password_and_ends_web_sessions(xuncha_home):
    runner.invoke(app, ["users", "add", "孙组员", "--team", "第一巡察组", "--password", "old-password-1"])
    store = SecurityStore(context.repository().engine)
    user = store.authenticate("孙组员", "old-password-1")
    session = store.open_session(user.id, 12)
    result = runner.invoke(app, ["users", "password", "孙组员"])
    assert result.exit_code == 0, result.output
    new = re.search(r"新密码：([A-Za-z0-9_-]+)", result.stdout).group(1)
    assert store.authenticate("孙组员", new) and store.authenticate("孙组员", "old-password-1") is None
    assert store.user_for_session(session) is None
    missing = runner.invoke(app, ["users", "password", "无此人"])
    assert missing.exit_code == 1 and "没有名为 无此人 的用户" in missing.output
    short = runner.invoke(app, ["users", "password", "孙组员", "--password", "short"])
    assert short.exit_code == 1 and "至少需要 8 个字符" in short.output


def test_serve_demo_setup_ingests_once_and_creates_the_admin_once(xuncha_home, monkeypatch, tmp_path):
    monkeypatch.setenv("XUNCHA_TAG_ON_INGEST", "false")
    get_settings.cache_clear()
    samples = tmp_path / "samples"
    samples.mkdir()
    for name in ("minutes_liuwan_liangwei_2024-02.txt", "petition_qingshi_anonymous.txt"):
        shutil.copy(PROJECT_ROOT / "corpora" / "samples" / name, samples / name)
    first = prepare_demo(get_settings(), samples, quiet=True)
    assert first.ingested == 2 and first.admin_password and first.admin_token
    store = SecurityStore(context.repository().engine)
    assert store.authenticate("admin", first.admin_password).role == "admin"
    again = prepare_demo(get_settings(), samples, quiet=True)
    assert again.ingested == 0 and again.admin_password is None and again.admin_token is None
    assert [i.team for i in context.repository().list_inspections()] == [DEMO_TEAM]


def test_serve_demo_takes_the_admin_password_from_the_environment(xuncha_home, monkeypatch, tmp_path):
    monkeypatch.setenv("XUNCHA_ADMIN_PASSWORD", "from-the-env-1")
    get_settings.cache_clear()
    setup = prepare_demo(get_settings(), tmp_path, quiet=True)
    assert setup.admin_password is None and setup.admin_token
    assert SecurityStore(context.repository().engine).authenticate("admin", "from-the-env-1") is not None


def test_serve_is_registered():
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--no-demo" in result.stdout
