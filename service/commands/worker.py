"""``xuncha worker``: a Celery worker ingesting uploaded files from the broker (``service.workers``)."""

from __future__ import annotations

from typing import Optional

import typer

from service.commands.common import console, err

POOLS = ("prefork", "threads", "solo")


def worker(
    concurrency: Optional[int] = typer.Option(None, "--concurrency", "-c", min=1,
                                              help="同时导入的文件数（默认取 XUNCHA_JOB_WORKERS）"),
    pool: str = typer.Option("prefork", "--pool", help="并发方式：prefork（多进程，默认）、threads（多线程）或 solo（单个）"),
    resend: bool = typer.Option(False, "--resend",
                                help="启动前为数据库中全部排队中的文件重新投递任务（消息队列数据丢失后使用；重复投递不会重复导入）"),
) -> None:
    """启动导入工作进程：从消息队列（XUNCHA_BROKER_URL）领取上传的文件并导入，可在多台机器上各启动若干个。"""
    from service.settings import get_settings

    settings = get_settings()
    if not settings.broker_url:
        err.print("[red]未设置消息队列地址：请设置 XUNCHA_BROKER_URL（如 redis://127.0.0.1:6379/0），"
                  "并让接口服务使用同一地址。未设置时 xuncha serve 在本进程内导入，无需启动工作进程。[/]")
        raise typer.Exit(2)
    if pool not in POOLS:
        err.print(f"[red]不支持的并发方式：{pool}（可选 {'、'.join(POOLS)}）[/]")
        raise typer.Exit(2)
    from service.workers.app import run_worker

    count = concurrency or settings.job_workers
    console.print(f"导入工作进程启动：并发 {count}，数据目录 {settings.files_dir}；按 Ctrl+C 停止"
                  "（正在导入的文件完成后退出）。")
    run_worker(settings, count, pool=pool, resend=resend)


def register(cli: typer.Typer) -> None:
    cli.command()(worker)
