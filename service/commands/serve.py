"""``xuncha serve``: run the HTTP API (with demo material and an admin account by default)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from service import context
from service.rounds import DEMO_DELETED
from service.commands.common import console, err
from service.ingest import collect_files
from service.security import SecurityStore
from service.security.credentials import generate_password
from service.settings import PROJECT_ROOT, Settings, get_settings

DEMO_TEAM = "示例巡察组"
DEMO_INSPECTION = "示例巡察（2024年第二轮）"
ADMIN = "admin"


@dataclass
class DemoSetup:
    inspection_id: int | None  # None when an admin deleted the demo round: it is not brought back
    ingested: int
    admin_password: str | None  # set only when the admin account was just created
    admin_token: str | None


def prepare_demo(settings: Settings, samples: Path = PROJECT_ROOT / "corpora" / "samples",
                 quiet: bool = False) -> DemoSetup:
    """Ingest ``samples`` into the demo inspection unless it has documents; ensure the admin user."""
    repository = context.repository(settings)
    ingested = 0
    inspection = None
    if not (settings.home / DEMO_DELETED).exists():
        # Its own round, marked as demo: kept out of search unless asked for, deletable like any round.
        inspection = repository.ensure_inspection(DEMO_INSPECTION, DEMO_TEAM, "清河县", demo=True)
    if inspection is not None and not repository.list_documents(inspection_id=inspection.id):
        ingestor = context.ingestor(settings, tag=settings.tag_on_ingest)
        files = collect_files([samples])
        with Progress(TextColumn("[bold]导入示例材料[/]"), BarColumn(), MofNCompleteColumn(),
                      console=err, disable=quiet) as progress:
            task = progress.add_task("", total=len(files))
            for path in files:
                ingested += ingestor.ingest_path(path, inspection.id).status == "added"
                progress.advance(task)
    store = SecurityStore(repository.engine)
    password = token = None
    if store.get_user(ADMIN) is None:
        password = settings.admin_password or generate_password()
        admin = store.add_user(ADMIN, "巡察办", "admin", password)
        token = store.issue_token(admin.id, "serve --demo")
        if settings.admin_password:
            password = None  # the operator chose it; never echo it
    return DemoSetup(inspection.id if inspection else None, ingested, password, token)


def serve(host: str = typer.Option("127.0.0.1", "--host", help="监听地址"),
          port: int = typer.Option(8000, "--port", help="端口"),
          demo: bool = typer.Option(True, "--demo/--no-demo", help="导入示例材料并确保管理员账号 admin 存在")) -> None:
    """启动 HTTP 接口服务（接口文档位于 /docs）。"""
    import uvicorn

    from service.api.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    console.print(f"数据目录：{settings.home}")
    if demo:
        setup = prepare_demo(settings)
        if setup.inspection_id is None:
            console.print("示例巡察轮次已被删除，不再自动导入示例材料（需要时运行 xuncha demo）")
        if setup.ingested:
            console.print(f"已将 {setup.ingested} 份示例材料导入“{DEMO_INSPECTION}”（{DEMO_TEAM}）；"
                          "检索默认不含示例材料，不需要时可删除该轮次（xuncha inspections delete）")
        if setup.admin_token:
            console.print("已创建管理员账号：用户名 [bold]admin[/]")
            typer.echo(f"管理员密码：{setup.admin_password}  （只显示这一次，请妥善保管）" if setup.admin_password
                       else "管理员密码：XUNCHA_ADMIN_PASSWORD 中设置的值")
            typer.echo(f"管理员 API 令牌：{setup.admin_token}（只显示这一次）")
        else:
            typer.echo("管理员账号 admin 已存在（密码见首次启动时的输出；忘记时运行 xuncha users password admin 重设）")
    with console.status("正在加载往届案例库并建立检索索引…"):
        search = context.search_service(settings)
    console.print(f"往届案例库 {len(search.cases.list_cases())} 条，检索索引已就绪")
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print("[yellow]注意：服务监听在非本机地址。请通过 HTTPS 反向代理访问，并设置 XUNCHA_COOKIE_SECURE=true。[/]")
    address = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    typer.echo(f"网页工作台：{address}/    （用浏览器打开，用户名 admin 和上面的密码登录）")
    typer.echo(f"接口文档：　{address}/docs（请求头加 Authorization: Bearer <API 令牌>，或先在网页登录）")
    typer.echo("忘记密码：xuncha users password admin；新建组员：xuncha users add 姓名 --team 巡察组 --role member")
    typer.echo("按 Ctrl+C 停止服务。")
    from service.security.proxies import UVICORN_OPTIONS

    uvicorn.run(create_app(settings), host=host, port=port, access_log=False, log_config=None, **UVICORN_OPTIONS)


def register(cli: typer.Typer) -> None:
    cli.command()(serve)
