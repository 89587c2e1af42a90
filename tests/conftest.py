"""Shared fixtures: an isolated data directory and builders for real DOCX/PDF/TXT files."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import docx
import pytest

from service import context
from service.settings import get_settings

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"

MINUTES_LINES = [
    "清河县水利局党组会议记录",
    "时间：2024年6月3日上午9:00  地点：二楼会议室",
    "主持人：高志远（党组书记、局长）",
    "出席：罗敏、何建平、钱小燕",
    "缺席：唐伟（外出学习）",
    "记录人：罗敏",
    "议题：",
    "一、研究防汛物资采购事项",
    "二、研究办公楼维修项目",
    "高志远：维修项目就交给老周的公司，不用招标了，下周签合同。",
    "何建平：同意高局长意见。",
    "会议决定：",
    "1. 办公楼维修由宏达公司承建，金额38万元；",
    "2. 防汛物资采购按程序报县财政局审批。",
]

PETITION_LINES = [
    "举报信",
    "县委巡察组：",
    "我实名举报青石镇党委书记陈立国的问题：",
    "一是2023年12月28日镇党委开会决定给干部突击发放年终补助46.8万元；",
    "二是副镇长钱永军长期把公车开回家私用，加油费在镇里报销。",
    "举报人：田富贵",
    "2024年4月23日",
]


@pytest.fixture
def xuncha_home(tmp_path, monkeypatch) -> Path:
    """A fresh data directory wired into the settings for this test only."""
    home = tmp_path / "home"
    monkeypatch.setenv("XUNCHA_HOME", str(home))
    monkeypatch.setenv("XUNCHA_MAX_FILE_MB", "2")
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()
    context._repository.cache_clear()


@pytest.fixture
def make_docx(tmp_path):
    def build(lines: list[str], name: str = "doc.docx", table: list[list[str]] | None = None) -> Path:
        document = docx.Document()
        document.add_heading(lines[0], level=1)
        for line in lines[1:]:
            document.add_paragraph(line)
        if table:
            grid = document.add_table(rows=len(table), cols=len(table[0]))
            for r, row in enumerate(table):
                for c, cell in enumerate(row):
                    grid.cell(r, c).text = cell
        path = tmp_path / name
        document.save(path)
        return path

    return build


@pytest.fixture
def make_pdf(tmp_path):
    """A text PDF, ``lines_per_page`` lines to a page, with a running header and page footer."""
    pytest.importorskip("reportlab")
    if not Path(FONT_PATH).exists():
        pytest.skip("CJK font fonts-wqy-microhei is not installed")
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("WQY", FONT_PATH, subfontIndex=0))

    def build(lines: list[str], name: str = "doc.pdf", lines_per_page: int = 8) -> Path:
        path = tmp_path / name
        pdf = canvas.Canvas(str(path), pagesize=A4)
        width, height = A4
        pages = [lines[i:i + lines_per_page] for i in range(0, len(lines), lines_per_page)]
        for number, page in enumerate(pages, 1):
            pdf.setFont("WQY", 9)
            pdf.drawCentredString(width / 2, height - 36, "清河县委第三巡察组 内部资料")
            pdf.drawCentredString(width / 2, 28, f"第 {number} 页 共 {len(pages)} 页")
            pdf.setFont("WQY", 12)
            y = height - 90
            for line in page:
                pdf.drawString(60, y, line)
                y -= 30
            pdf.showPage()
        pdf.save()
        return path

    return build


@contextmanager
def serve_app(app) -> Iterator[str]:
    """Serve ``app`` with a real uvicorn server in a thread on a free port; yields its base URL."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    from service.security.proxies import UVICORN_OPTIONS  # as ``xuncha serve`` runs it

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                                           **UVICORN_OPTIONS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def app_settings(patch: pytest.MonkeyPatch, home: Path, **env: str):
    """Settings for a server on its own data directory; ``env`` are XUNCHA_* values (without prefix)."""
    from service.settings import Settings

    patch.setenv("XUNCHA_HOME", str(home))
    env = {"prepare_leads": "false", **env}  # no background leads work competing with a test's own steps
    for name, value in env.items():
        patch.setenv(f"XUNCHA_{name.upper()}", value)
    get_settings.cache_clear()
    return Settings()
