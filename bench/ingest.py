"""Ingestion speed on the sample corpus: pages/s and documents/s per format, OCR pages/s, peak memory.

Each format is timed three ways in the same run: the bare library read (baseline: pdfplumber
``extract_text``, python-docx paragraphs, ``bytes.decode``), our parser, and our parser plus the
understanding stages (normalise, kind, fields, segmentation). Run: ``python bench/ingest.py``.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp import parsing  # noqa: E402
from nlp.pipeline import analyse  # noqa: E402

SAMPLES = ROOT / "corpora" / "samples"
REPEATS = 3


def baseline_read(path: Path, fmt: str, encoding: str | None) -> int:
    """The plain library read our parser is compared with; returns characters read."""
    if fmt == "pdf":
        import pdfplumber

        with pdfplumber.open(path) as pdf:
            return sum(len(page.extract_text() or "") for page in pdf.pages)
    if fmt == "docx":
        import docx

        return sum(len(p.text) for p in docx.Document(str(path)).paragraphs)
    if fmt == "txt":
        return len(path.read_bytes().decode(encoding or "utf-8", errors="replace"))
    return 0


def timed(function, repeats: int = REPEATS) -> float:
    best = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best.append(time.perf_counter() - start)
    return statistics.median(best)


def main() -> None:
    manifest = [json.loads(line) for line in (SAMPLES / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in manifest:
        ocr = row.get("scan") or row.get("text_layer") is False or row["format"] in ("png", "jpg")
        groups["ocr" if ocr else row["format"]].append(row)

    print(f"{'format':6} {'docs':>4} {'pages':>5} | {'baseline p/s':>12} {'parse p/s':>10} {'parse+nlp p/s':>13} "
          f"{'docs/s':>7} | parse vs baseline")
    for fmt, rows in sorted(groups.items()):
        paths = [SAMPLES / r["file"] for r in rows]
        parsed = [parsing.parse_file(p) for p in paths]
        pages = sum(p.pages for p in parsed)
        repeats = 1 if fmt == "ocr" else REPEATS
        parse_s = timed(lambda: [parsing.parse_file(p) for p in paths], repeats)
        full_s = timed(lambda: [analyse(parsing.parse_file(p)) for p in paths], repeats)
        if fmt == "ocr":
            base = "—"
            ratio = "—"
        else:
            base_s = timed(lambda: [baseline_read(p, fmt, r.get("encoding")) for p, r in zip(paths, rows)])
            base = f"{pages / base_s:12.1f}"
            ratio = f"{parse_s / base_s:.2f}× the baseline's time"
        print(f"{fmt:6} {len(rows):4d} {pages:5d} | {base:>12} {pages / parse_s:10.1f} {pages / full_s:13.1f} "
              f"{len(rows) / full_s:7.2f} | {ratio}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
