"""``xuncha users …`` (accounts and API tokens) and ``xuncha audit`` (the audit log)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import typer
from rich.markup import escape

from service import context
from service.commands.common import console, err, print_json, table

if TYPE_CHECKING:  # the security store (SQLAlchemy, argon2) loads when a command runs, not for --help
    from service.security import SecurityStore

app = typer.Typer(help="管理用户和 API 令牌", no_args_is_help=True)
OUTCOME_LABELS = {"ok": "成功", "denied": "拒绝", "not_found": "不存在", "failed": "失败", "invalid": "无效请求"}


def _store() -> SecurityStore:
    from service.security import SecurityStore
    from service.settings import get_settings

    return SecurityStore(context.repository().engine, get_settings().token_days)


def _lifetime(store: SecurityStore) -> str:
    return f"令牌有效期 {store.token_days} 天（XUNCHA_TOKEN_DAYS），到期后用 xuncha users token 重新生成"


@app.command("add")
def add(name: str = typer.Argument(..., help="用户名"),
        team: str = typer.Option(..., "--team", help="所属巡察组（分析人员、管理员可填“巡察办”）"),
        role: str = typer.Option("member", "--role", help="admin（管理员）、analyst（巡察办分析人员）或 member（巡察组成员）"),
        password: Optional[str] = typer.Option(None, "--password", help="登录密码（至少 8 位）；省略时自动生成")) -> None:
    """新建用户并生成一个 API 令牌。"""
    from service.security import ROLE_LABELS
    from service.security.credentials import generate_password
    from service.security.store import SecurityError

    store = _store()
    chosen = password or generate_password()
    try:
        user = store.add_user(name, team, role.strip().lower(), chosen)
    except SecurityError as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(1)
    token = store.issue_token(user.id, "cli")
    console.print(f"已创建用户 {user.name}（{ROLE_LABELS[user.role]}，{user.team}）")
    if password is None:
        typer.echo(f"初始密码：{chosen}")
    typer.echo(f"API 令牌：{token}")
    console.print(_lifetime(store))
    console.print("密码和令牌只显示这一次，请妥善保管。令牌用法：Authorization: Bearer <令牌>")


def _audited(action: str, user) -> None:
    """Account changes made at the command line go into the audit log (client ``cli``)."""
    from service.security import AuditLog

    AuditLog(context.repository().engine).append(action, "ok", object_type="user", object_id=user.id, client="cli")


def _user(store: SecurityStore, name: str):
    user = store.get_user(name)
    if user is None:
        err.print(f"[red]没有名为 {escape(name)} 的用户[/]")
        raise typer.Exit(1)
    return user


@app.command("token")
def token(name: str = typer.Argument(..., help="用户名")) -> None:
    """为已有用户再生成一个 API 令牌。"""
    store = _store()
    user = _user(store, name)
    typer.echo(f"API 令牌：{store.issue_token(user.id, 'cli')}")
    console.print(_lifetime(store))
    _audited("user.token", user)


@app.command("password")
def password(name: str = typer.Argument(..., help="用户名"),
             new: Optional[str] = typer.Option(None, "--password", help="新密码（至少 8 位）；省略时自动生成")) -> None:
    """重设用户的登录密码（该用户已登录的网页会话随之失效，API 令牌一并吊销）。"""
    from service.security.credentials import generate_password
    from service.security.store import SecurityError

    chosen = new or generate_password()
    try:
        user = _store().set_password(name, chosen)
    except SecurityError as error:
        err.print(f"[red]{escape(str(error))}[/]")
        raise typer.Exit(1)
    _audited("user.password", user)
    console.print(f"已重设用户 {escape(name)} 的密码；其网页登录和全部 API 令牌已失效（需要时用 xuncha users token 重新生成）")
    if new is None:
        typer.echo(f"新密码：{chosen}（只显示这一次）")


@app.command("revoke")
def revoke(name: str = typer.Argument(..., help="用户名")) -> None:
    """吊销用户的全部 API 令牌并结束其全部网页登录（账号仍可用密码重新登录）。"""
    store = _store()
    user = _user(store, name)
    revoked = store.revoke(name)
    _audited("user.revoke", user)
    console.print(f"已吊销用户 {escape(name)} 的 {revoked.tokens} 个 API 令牌，结束 {revoked.sessions} 个网页登录")


def _set_active(name: str, active: bool, done: str) -> None:
    store = _store()
    user = store.set_active(_user(store, name).name, active)
    _audited("user.enable" if active else "user.disable", user)
    console.print(f"已{done}用户 {escape(name)}" + ("" if active else "：不能登录，其 API 令牌和网页登录一律拒绝"))


@app.command("disable")
def disable(name: str = typer.Argument(..., help="用户名")) -> None:
    """停用用户：不能登录，已有的 API 令牌和网页登录一律拒绝（xuncha users enable 恢复）。"""
    _set_active(name, False, "停用")


@app.command("enable")
def enable(name: str = typer.Argument(..., help="用户名")) -> None:
    """重新启用被停用的用户（未吊销且未过期的 API 令牌恢复有效）。"""
    _set_active(name, True, "启用")


@app.command("list")
def list_users(as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """列出用户。"""
    from service.security import ROLE_LABELS

    users = _store().list_users()
    if as_json:
        print_json([u.__dict__ for u in users])
        return
    result = table(f"用户（{len(users)} 个）", "编号", "用户名", "巡察组", "角色", "状态")
    for u in users:
        result.add_row(str(u.id), escape(u.name), escape(u.team), ROLE_LABELS.get(u.role, u.role),
                       "启用" if u.active else "停用")
    console.print(result)


def audit(user: Optional[str] = typer.Option(None, "--user", "-u", help="只看该用户"),
          limit: int = typer.Option(50, "--limit", "-n", min=1, help="最多显示条数（最新的在前）"),
          as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """查看审计日志：谁在何时从哪里对哪个对象做了什么，结果如何（不含文档内容）。"""
    from service.security import AuditLog

    entries = AuditLog(context.repository().engine).entries(user, limit)
    if as_json:
        print_json([e.__dict__ for e in entries])
        return
    result = table(f"审计日志（最新 {len(entries)} 条）", "时间（UTC）", "用户", "操作", "对象", "巡察轮次", "客户端", "结果")
    for e in entries:
        target = f"{e.object_type}:{e.object_id}" if e.object_type else (e.object_id or "")
        result.add_row(e.at.strftime("%Y-%m-%d %H:%M:%S"), escape(e.user_name or "—"), e.action, escape(target),
                       str(e.inspection_id or ""), escape(e.client or ""), OUTCOME_LABELS.get(e.outcome, e.outcome))
    console.print(result)


def register(cli: typer.Typer) -> None:
    cli.add_typer(app, name="users")
    cli.command("audit")(audit)


