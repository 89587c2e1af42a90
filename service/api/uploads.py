"""Receiving uploads: the multipart body is streamed to a staging folder part by part, so an
oversize file is refused (413) once it passes the limit — it is never held in memory whole.
Staged files are then checked (empty, type by content and extension) before a job is created."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import BinaryIO

from fastapi import Request
from starlette.requests import ClientDisconnect
from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header

from nlp.parsing import SUPPORTED_SUFFIXES, sniff
from nlp.parsing.sniffing import IMAGE_KINDS, KIND_LABELS
from service.jobs import estimate_cost
from service.security.files import BIDI_CONTROLS

_TEXT = {None}
_EXPECTED: dict[str, set] = {".pdf": {"pdf"}, ".docx": {"docx", "doc"}, ".doc": {"doc", "docx", "rtf"},
                             ".txt": _TEXT, ".md": _TEXT, ".csv": _TEXT,
                             **{s: set(IMAGE_KINDS) for s in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")}}
_BY_CONTENT = {"pdf", "docx", "doc", *IMAGE_KINDS}
_SLACK = 64 * 1024  # multipart headers and boundaries


class UploadRejected(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(code)
        self.status, self.code, self.detail = status, code, detail


@dataclass
class StagedFile:
    index: int
    filename: str
    path: Path
    size: int = 0
    cost: int = 1
    """Estimated work (service.jobs.estimate_cost), set by :func:`check`: the scheduler runs small files first."""


def _megabytes(limit: int) -> str:
    return f"{limit / 1048576:g} MB"


def _clean_name(raw: bytes) -> str:
    name = raw.decode("utf-8", "replace").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f" and ch not in BIDI_CONTROLS).strip()
    return name[-200:] or "未命名文件"


class _Collector:
    """Multipart callbacks writing each file part to ``directory/<index>`` with a size cap."""

    def __init__(self, directory: Path, max_bytes: int, max_files: int) -> None:
        self.directory, self.max_bytes, self.max_files = directory, max_bytes, max_files
        self.files: list[StagedFile] = []
        self.error: UploadRejected | None = None
        self._headers: dict[bytes, bytes] = {}
        self._field = self._value = b""
        self._current: StagedFile | None = None
        self._handle: BinaryIO | None = None

    def callbacks(self) -> dict:
        return {"on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished, "on_part_data": self._data,
                "on_part_end": self.close}

    def _begin(self) -> None:
        self._headers, self._current = {}, None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b"").decode("latin-1"))
        if b"filename" not in options or self.error:
            return  # a plain form field: ignored
        if len(self.files) >= self.max_files:
            self.error = UploadRejected(413, "too_many_files", f"每次最多上传 {self.max_files} 个文件")
            return
        self._current = StagedFile(len(self.files), _clean_name(options[b"filename"]),
                                   self.directory / str(len(self.files)))
        self.files.append(self._current)
        self._handle = self._current.path.open("wb")

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._current is None or self.error:
            return
        self._current.size += end - start
        if self._current.size > self.max_bytes:
            self.error = UploadRejected(413, "too_large", f"文件“{self._current.filename}”过大，"
                                                          f"超过单个文件上限 {_megabytes(self.max_bytes)}")
            self.close()
            return
        self._handle.write(data[start:end])

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


async def stage(request: Request, directory: Path, max_bytes: int, max_files: int) -> list[StagedFile]:
    """Stream the multipart body of ``request`` into ``directory``; raise UploadRejected."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise UploadRejected(400, "bad_request", "请以 multipart/form-data 格式上传文件（字段名 files）")
    cap = max_files * (max_bytes + _SLACK)
    declared = request.headers.get("content-length")
    declared = int(declared) if declared and declared.isdigit() else None
    if declared is not None and declared > cap:
        raise UploadRejected(413, "too_large", f"上传内容过大：单个文件不能超过 {_megabytes(max_bytes)}，"
                                               f"每次最多 {max_files} 个文件")
    directory.mkdir(parents=True, exist_ok=True)
    collector = _Collector(directory, max_bytes, max_files)
    parser = MultipartParser(params[b"boundary"], collector.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > cap:
                collector.error = collector.error or UploadRejected(413, "too_large", "上传内容过大")
                break
            if collector.error is None:
                parser.write(chunk)
            # after an error the rest is drained (bounded by the declared length) so the client reads our answer
        if collector.error is None:
            parser.finalize()
    except MultipartParseError:
        raise UploadRejected(400, "bad_request", "上传内容格式不正确，无法解析") from None
    except ClientDisconnect:
        raise UploadRejected(400, "incomplete", "上传未完成：连接已中断") from None
    finally:
        collector.close()
    if collector.error:
        raise collector.error
    if not collector.files:
        raise UploadRejected(400, "no_files", "没有收到文件，请选择要上传的文件")
    return collector.files


def check(staged: StagedFile) -> None:
    """Refuse an empty file or one whose extension and content disagree (content is sniffed); estimate
    the work of one that passes."""
    if staged.size == 0:
        raise UploadRejected(400, "empty", f"文件“{staged.filename}”为空（0 字节）")
    suffix = PurePath(staged.filename).suffix.lower()
    kind = sniff(staged.path.read_bytes())
    if suffix not in SUPPORTED_SUFFIXES and (suffix or kind not in _BY_CONTENT):
        raise UploadRejected(415, "unsupported_type",
                             f"不支持的文件类型：{staged.filename}。目前支持 PDF、Word（.docx/.doc）、"
                             "文本（.txt/.md/.csv）和图片（.png/.jpg/.tif/.bmp）")
    if suffix in _EXPECTED and kind not in _EXPECTED[suffix]:
        content = KIND_LABELS.get(kind, "无法识别的格式") if kind else "纯文本或无法识别的格式"
        raise UploadRejected(415, "mismatched_type",
                             f"文件“{staged.filename}”的扩展名与实际内容不符：扩展名为 {suffix}，内容是{content}")
    staged.cost = estimate_cost(staged.path)
