"""``xuncha serve``: run the HTTP API (with demo material and an admin account by default).

The port opens first: the admin account is ensured before (its password is printed once), the
search index and the demo import are prepared in the background afterwards (``service.startup``),
with their progress in the web page's banner and ``GET /api/startup``.

``--workers N`` (N > 1) runs N server processes on one port (uvicorn's supervisor, with the
import-string factory ``service.startup:served_app``): this process migrates the database, makes
the admin account and plans the demo import once, then each worker builds its own app; what must
happen once across them (the demo import, the first replica build) takes a lock that holds across
processes, and each process's search replica follows the database's change log.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from service import context
from service.commands.common import console, err

if TYPE_CHECKING:
    from service.settings import Settings
    from service.storage import InspectionRecord

DEMO_TEAM = "示例巡察组"
DEMO_INSPECTION = "示例巡察（2024年第二轮）"
ADMIN = "admin"
HEALTHCHECK_SECONDS = 60
"""uvicorn's supervisor kills a worker that does not answer its ping for this long. Its default (5 s)
killed busy workers mid-document on 2 loaded cores (model loading and OCR hold the GIL for long)."""


def _samples() -> Path:
    from service.settings import PROJECT_ROOT

    return PROJECT_ROOT / "corpora" / "samples"


@dataclass
class DemoSetup:
    inspection_id: int | None  # None when an admin deleted the demo round: it is not brought back
    ingested: int
    admin_password: str | None  # set only when the admin account was just created
    admin_token: str | None


@dataclass
class DemoPlan:
    """What the demo set-up still has to import: ``files`` into ``inspection`` (empty when done)."""
    inspection: InspectionRecord | None
    files: list[Path]


def plan_demo(settings: Settings, samples: Path | None = None) -> DemoPlan:
    """The demo round (created if missing, unless an admin deleted it) and the sample files to
    import into it: none once it has documents."""
    from service.ingest import collect_files
    from service.rounds import DEMO_DELETED

    repository = context.repository(settings)
    if (settings.home / DEMO_DELETED).exists():
        return DemoPlan(None, [])
    # Its own round, marked as demo: kept out of search unless asked for, deletable like any round.
    inspection = repository.ensure_inspection(DEMO_INSPECTION, DEMO_TEAM, "清河县", demo=True)
    if repository.list_documents(inspection_id=inspection.id):
        return DemoPlan(inspection, [])
    return DemoPlan(inspection, collect_files([samples or _samples()]))


def ensure_admin(settings: Settings) -> tuple[str | None, str | None]:
    """Create the admin account unless it exists: (password to show once, API token), else (None, None)."""
    from service.security import SecurityStore
    from service.security.credentials import generate_password

    store = SecurityStore(context.repository(settings).engine)
    if store.get_user(ADMIN) is not None:
        return None, None
    password = settings.admin_password or generate_password()
    admin = store.add_user(ADMIN, "巡察办", "admin", password)
    token = store.issue_token(admin.id, "serve --demo")
    if settings.admin_password:
        password = None  # the operator chose it; never echo it
    return password, token


def prepare_demo(settings: Settings, samples: Path | None = None, quiet: bool = False) -> DemoSetup:
    """Ingest ``samples`` into the demo inspection unless it has documents; ensure the admin user
    (synchronously, as ``xuncha demo`` and the benchmarks do; ``xuncha serve`` imports in the background)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    plan = plan_demo(settings, samples)
    ingested = 0
    if plan.files:
        ingestor = context.ingestor(settings, tag=settings.tag_on_ingest)
        with Progress(TextColumn("[bold]导入示例材料[/]"), BarColumn(), MofNCompleteColumn(),
                      console=err, disable=quiet) as progress:
            task = progress.add_task("", total=len(plan.files))
            for path in plan.files:
                ingested += ingestor.ingest_path(path, plan.inspection.id).status == "added"
                progress.advance(task)
    password, token = ensure_admin(settings)
    return DemoSetup(plan.inspection.id if plan.inspection else None, ingested, password, token)


def serve(host: str = typer.Option("127.0.0.1", "--host", help="监听地址"),
          port: int = typer.Option(8000, "--port", help="端口"),
          demo: bool = typer.Option(True, "--demo/--no-demo", help="导入示例材料并确保管理员账号 admin 存在"),
          workers: int = typer.Option(1, "--workers", min=1, max=64,
                                      help="服务进程数（多个进程共用端口；多于 1 个时建议使用 PostgreSQL）")) -> None:
    """启动 HTTP 接口服务（接口文档位于 /docs）。"""
    # One OpenMP thread per model call: the server runs two ingestion workers and requests at once on
    # few cores, and a 2-thread e5 team whose threads wait for each other under that load answered a
    # single query in 2.8 s instead of 0.19 s (2 cores, load 7). Set before any model library loads.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from service.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    console.print(f"数据目录：{settings.home}")
    context.repository(settings)  # created and migrated here, once, before any worker process starts
    plan = DemoPlan(None, [])
    if demo:
        plan = plan_demo(settings)
        if plan.inspection is None:
            console.print("示例巡察轮次已被删除，不再自动导入示例材料（需要时运行 xuncha demo）")
        if plan.files:
            console.print(f"将在后台把 {len(plan.files)} 份示例材料导入“{DEMO_INSPECTION}”（{DEMO_TEAM}），"
                          "进度见网页首页；检索默认不含示例材料，不需要时可删除该轮次（xuncha inspections delete）")
        password, token = ensure_admin(settings)
        if token:
            console.print("已创建管理员账号：用户名 [bold]admin[/]")
            typer.echo(f"管理员密码：{password}  （只显示这一次，请妥善保管）" if password
                       else "管理员密码：XUNCHA_ADMIN_PASSWORD 中设置的值")
            typer.echo(f"管理员 API 令牌：{token}（只显示这一次）")
        else:
            typer.echo("管理员账号 admin 已存在（密码见首次启动时的输出；忘记时运行 xuncha users password admin 重设）")
    console.print("往届案例库和检索索引在后台载入，就绪前检索会提示“索引建立中”")
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print("[yellow]注意：服务监听在非本机地址。请通过 HTTPS 反向代理访问，并设置 XUNCHA_COOKIE_SECURE=true。[/]")
    address = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    typer.echo(f"网页工作台：{address}/    （用浏览器打开，用户名 admin 和上面的密码登录）")
    typer.echo(f"接口文档：　{address}/docs（请求头加 Authorization: Bearer <API 令牌>，或先在网页登录）")
    typer.echo("忘记密码：xuncha users password admin；新建组员：xuncha users add 姓名 --team 巡察组 --role member")
    if workers > 1:
        if settings.db_url.startswith("sqlite"):
            err.print("[yellow]注意：多个服务进程共用一个 SQLite 文件时写入依次进行；进程多或数据量大时请改用 PostgreSQL"
                      "（见 docs/deploy.md）。[/]")
        typer.echo(f"共 {workers} 个服务进程。按 Ctrl+C 停止服务。")
        _serve_processes(host, port, workers, plan)
        return
    typer.echo("按 Ctrl+C 停止服务。")
    _serve_one(settings, host, port, plan)


def _serve_one(settings: Settings, host: str, port: int, plan: DemoPlan) -> None:
    """One process: the app object itself, the preparation watching this server's state."""
    import uvicorn

    from service.api.app import create_app
    from service.security.proxies import UVICORN_OPTIONS
    from service.startup import STOP_WAIT_SECONDS, Preparation, StartupState

    app = create_app(settings)
    state = StartupState()
    if plan.files:
        state.update(demo="pending", demo_total=len(plan.files))
    app.state.startup = state
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, access_log=False, log_config=None,
                                           **UVICORN_OPTIONS))
    preparation = Preparation(app, state, plan.files, plan.inspection.id if plan.files else None,
                              report=lambda message: console.print(message))
    background = preparation.start(started=lambda: server.started, stopping=lambda: server.should_exit)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    if background.is_alive():  # let the file being imported finish: native code must not die mid-call at exit
        console.print("正在结束后台准备（当前文件导入完成后退出，再按 Ctrl+C 立即退出）…")
        try:
            background.join(STOP_WAIT_SECONDS)
        except KeyboardInterrupt:
            pass
    if not server.started:  # e.g. the port is taken: uvicorn logged why
        raise typer.Exit(3)


def _serve_processes(host: str, port: int, workers: int, plan: DemoPlan) -> None:
    """N processes sharing one socket under uvicorn's supervisor (which restarts a process that dies)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from service.security.proxies import UVICORN_OPTIONS
    from service.startup import PLAN_ENV, demo_plan_json

    # The workers are spawned: they inherit the environment (this plan, OMP_NUM_THREADS), not memory.
    os.environ[PLAN_ENV] = demo_plan_json(plan.inspection.id if plan.files else None, plan.files)
    config = uvicorn.Config("service.startup:served_app", factory=True, host=host, port=port, workers=workers,
                            access_log=False, log_config=None, timeout_worker_healthcheck=HEALTHCHECK_SECONDS,
                            **UVICORN_OPTIONS)
    try:
        sock = config.bind_socket()
    except SystemExit:  # e.g. the port is taken: uvicorn logged why
        raise typer.Exit(3) from None
    supervisor = Multiprocess(config, sockets=[sock])
    try:
        supervisor.run()
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    if any(process.exitcode == 3 for process in supervisor.processes):  # uvicorn's STARTUP_FAILURE
        raise typer.Exit(3)


def register(cli: typer.Typer) -> None:
    cli.command()(serve)
