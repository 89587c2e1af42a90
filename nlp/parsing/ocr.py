"""OCR with rapidocr-onnxruntime (models ship in the wheel: no network at run time)."""

from __future__ import annotations

import functools
import threading
from typing import Any

import numpy as np
from PIL import Image

from nlp.types import ParseError

from ._layout import Fragment, Line, group_lines

MAX_SIDE = 2500  # longer images are downscaled before OCR


@functools.lru_cache(maxsize=1)
def _engine() -> tuple[Any, threading.Lock]:
    """The RapidOCR engine, created on first use (~1 s) and kept; the lock serialises calls."""
    try:
        from rapidocr_onnxruntime import RapidOCR

        return RapidOCR(), threading.Lock()
    except Exception as exc:  # missing package, broken model files, onnxruntime errors
        raise ParseError("ocr_failed", "文字识别（OCR）组件无法加载，请联系管理员。", repr(exc)) from exc


def ocr_lines(image: Image.Image) -> list[Line]:
    """OCR ``image`` and return its text lines, in the pixel coordinates of ``image``.

    Raises ParseError("ocr_failed") when the engine fails.
    """
    image = to_rgb(image)
    scale = 1.0
    longest = max(image.size)
    if longest > MAX_SIDE:
        scale = MAX_SIDE / longest
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    engine, lock = _engine()
    try:
        with lock:
            result, _elapsed = engine(image)
    except Exception as exc:
        raise ParseError("ocr_failed", "文字识别（OCR）失败，请确认文件未损坏后重试。", repr(exc)) from exc
    fragments = []
    for box, text, score in result or []:
        xs = [float(p[0]) / scale for p in box]
        ys = [float(p[1]) / scale for p in box]
        fragments.append(Fragment(str(text), min(xs), min(ys), max(xs), max(ys), score=float(score)))
    return group_lines(fragments)


def to_rgb(image: Image.Image) -> Image.Image:
    """An RGB copy of ``image``; transparency is flattened onto white, 16-bit greys are scaled."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):  # 16/32-bit greys, e.g. TIFF scans
        values = np.asarray(image, dtype=np.float32)
        peak = float(values.max()) if values.size else 0.0
        if peak > 255:
            values = values * (255.0 / peak)
        image = Image.fromarray(values.clip(0, 255).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
