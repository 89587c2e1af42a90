"""Legacy Word (.doc): convert to DOCX with LibreOffice, then parse the DOCX."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from nlp.types import ParsedDocument, ParseError

from .docx import parse_docx

TIMEOUT_S = 120
NO_LIBREOFFICE = "无法读取旧版 Word（.doc）文件：本机未安装 LibreOffice。请另存为 .docx 后再上传，或安装 LibreOffice。"


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def parse_doc(data: bytes, filename: str) -> ParsedDocument:
    soffice = soffice_path()
    if soffice is None:
        raise ParseError("needs_libreoffice", NO_LIBREOFFICE)
    with tempfile.TemporaryDirectory(prefix="xuncha-doc-") as tmp:
        source = Path(tmp, "input.doc")
        source.write_bytes(data)
        profile = Path(tmp, "profile").as_uri()  # own profile: parallel conversions do not lock each other
        command = [
            soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
            "--convert-to", "docx", "--outdir", tmp, str(source),
        ]  # fmt: skip
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "HOME": tmp},
            start_new_session=True,  # so a timeout can kill soffice.bin as well as the wrapper
        )
        try:
            process.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise ParseError("corrupt", "旧版 Word（.doc）文件转换超时，文件可能已损坏。", repr(exc)) from exc
        target = Path(tmp, "input.docx")
        if not target.is_file() or target.stat().st_size == 0:
            raise ParseError("corrupt", "旧版 Word（.doc）文件无法转换，文件可能已损坏或已加密。")
        converted = target.read_bytes()
    return parse_docx(converted, filename, media_type="doc")
