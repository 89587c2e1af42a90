"""Images (PNG, JPEG, TIFF, BMP): OCR every frame, one block per recognised line."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from nlp.types import Block, ParsedDocument, ParseError

from .limits import NO_LIMITS, Checkpoint, OcrBudget, ParseLimits, too_many_ocr_pages
from .ocr import MAX_SIDE, ocr_lines, to_rgb

MAX_FRAMES = 200  # multi-page TIFF fax bundles; beyond this we stop and warn


def parse_image(data: bytes, filename: str, *, ocr: bool = True, limits: ParseLimits = NO_LIMITS,
                checkpoint: Checkpoint | None = None) -> ParsedDocument:
    if not ocr:
        raise ParseError("empty", "图片文件需要文字识别（OCR）才能提取文字，但当前未启用文字识别。")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format == "JPEG":
                image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decode huge photos at reduced scale
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ParseError("too_large", "图片像素过大，无法识别。请缩小图片后再上传。", str(exc)) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ParseError("corrupt", "图片文件已损坏或格式无法识别。", repr(exc)) from exc

    total = getattr(image, "n_frames", 1) or 1
    if limits.max_ocr_pages is not None and min(total, MAX_FRAMES) > limits.max_ocr_pages:
        raise too_many_ocr_pages(total, limits.max_ocr_pages)
    budget = OcrBudget(limits, min(total, MAX_FRAMES), checkpoint)
    blocks: list[Block] = []
    ocr_pages: list[int] = []
    warns: list[str] = []
    frames = 0
    try:
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if index >= MAX_FRAMES:
                warns.append(f"图片共有超过 {MAX_FRAMES} 帧，只识别了前 {MAX_FRAMES} 帧。")
                break
            frames += 1
            page = index + 1
            ocr_pages.append(page)
            budget.check()
            try:
                lines = ocr_lines(_prepare(frame))
            finally:
                budget.page_done()
            for line in lines:
                blocks.append(
                    Block(text=line.text, page=page, bbox=line.bbox, ocr=True, confidence=line.confidence)
                )
    except (OSError, ValueError, SyntaxError) as exc:
        if not blocks:
            raise ParseError("corrupt", "图片文件已损坏，无法读取。", repr(exc)) from exc
        warns.append(f"第 {frames} 帧图片已损坏，其后内容未能识别。")
    if not blocks:
        raise ParseError("empty", "图片中未识别到文字。请确认图片清晰、方向正确后重新上传。")
    return ParsedDocument(
        filename=filename, media_type="image", blocks=blocks, pages=max(frames, 1), ocr_pages=ocr_pages, warnings=warns
    )


def _prepare(frame: Image.Image) -> Image.Image:
    """Upright, RGB, at most MAX_SIDE pixels on the longer side (bbox then refers to this size)."""
    frame = to_rgb(ImageOps.exif_transpose(frame) or frame)
    if max(frame.size) > MAX_SIDE:
        frame = frame.copy()
        frame.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return frame
