"""Per-document caps (pages, OCR pages, OCR time) and the checkpoint hook of long parses.

A parse that hits a cap fails with a ParseError whose message tells the user what to do; nothing is
stored. ``checkpoint`` (optional) is called between pages: it may raise a ParseError (a timeout, a
cancel) to stop the parse, or briefly run other work (a scheduler letting a small file through).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from nlp.types import ParseError

Checkpoint = Callable[[], None]


@dataclass(frozen=True)
class ParseLimits:
    max_pages: int | None = None
    """Pages of one PDF (checked before any page is read)."""
    max_ocr_pages: int | None = None
    """Pages or image frames of one document that need OCR."""
    ocr_seconds: float | None = None
    """OCR time budget of one document."""


NO_LIMITS = ParseLimits()


def too_many_pages(pages: int, cap: int) -> ParseError:
    return ParseError("too_many_pages", f"文件共 {pages} 页，超过单个文档 {cap} 页的上限，未导入。"
                                        "请拆分成较小的文件后再上传。")


def too_many_ocr_pages(pages: int, cap: int) -> ParseError:
    return ParseError("too_many_ocr_pages", f"文件中有 {pages} 页没有文字层，需要文字识别（OCR），超过单个文档 "
                                            f"{cap} 页的识别上限，未导入。请拆分文件，或上传带文字层的版本。")


class OcrBudget:
    """Counts OCR time of one document against ``limits.ocr_seconds``; call :meth:`check` before each page."""

    def __init__(self, limits: ParseLimits, total: int, checkpoint: Checkpoint | None = None) -> None:
        self.limits, self.total, self.checkpoint = limits, total, checkpoint
        self.spent = 0.0
        self.done = 0
        self._started: float | None = None

    def check(self) -> None:
        if self.checkpoint is not None:
            self.checkpoint()  # outside the page's timing: work run in between is not OCR time
        seconds = self.limits.ocr_seconds
        if seconds is not None and self.spent > seconds:
            raise ParseError("ocr_timeout", f"文字识别（OCR）用时超过单个文档 {seconds:g} 秒的上限"
                                            f"（已识别 {self.done}/{self.total} 页），未导入。请拆分文件后再上传。")
        self._started = time.monotonic()

    def page_done(self) -> None:
        if self._started is not None:
            self.spent += time.monotonic() - self._started
            self._started = None
        self.done += 1
