"""Where the time of one upload goes: every ingestion stage, per document and in total, beside raw
``pdfplumber`` ``extract_text`` of the same files measured in the same run.

Run: ``python bench/pipeline.py FILE…`` or ``python bench/pipeline.py --sample`` (writes a 21-page
text PDF of minutes whose sentences the embedding cache has never seen, and times that).
``--cold --no-index`` times files seen before with an empty embedding cache; ``--no-gate`` tags every
segment through e5 (the tagger before its gate) for the comparison.
Stages: parse (our parser; OCR pages counted), normalise, kind, structure, entities (document
level), segment (with each finding's entities), tag, store (a real SQLite file), index (search
replica sync, which runs after the document is tagged and stored).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
SPEAKERS = ["周明远", "吴海燕", "郑家豪", "冯雪梅", "韩立新"]


def sample_pdf(path: Path, pages: int = 21, seed: int | None = None) -> Path:
    """A minutes-style PDF (header fields, speakers, long paragraphs) built from training sentences
    made unique per run, so no cache can answer for them."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from nlp.dataset import load_examples

    rng = random.Random(seed)
    run = rng.randint(100, 999)
    sentences = [e.text for e in load_examples()]
    rng.shuffle(sentences)
    lines = ["县水务局党组会议记录", f"时间：2025年{rng.randint(1, 12)}月{rng.randint(1, 28)}日上午", "地点：局三楼会议室",
             f"主持人：{SPEAKERS[0]}", f"出席：{'、'.join(SPEAKERS)}", "记录：林小青"]
    per_line, per_page = 40, 30
    chosen = iter(sentences)
    while len(lines) < pages * per_page:
        speaker = rng.choice(SPEAKERS)
        paragraph = f"{speaker}：" + "".join(
            f"{next(chosen).rstrip('。；;')}（第{run}-{len(lines)}-{i}项）。" for i in range(rng.randint(1, 3)))
        lines += [paragraph[i:i + per_line] for i in range(0, len(paragraph), per_line)]
    pdfmetrics.registerFont(TTFont("WQY", FONT_PATH, subfontIndex=0))
    pdf = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    for number in range(pages):
        pdf.setFont("WQY", 11)
        y = height - 60
        for line in lines[number * per_page:(number + 1) * per_page]:
            pdf.drawString(50, y, line)
            y -= 24
        pdf.drawCentredString(width / 2, 30, f"第 {number + 1} 页")
        pdf.showPage()
    pdf.save()
    return path


def pdfplumber_seconds(path: Path) -> float:
    """Raw ``extract_text`` of every page, as bench/ingest.py's baseline reads a PDF (0 for other files)."""
    from bench.ingest import baseline_read

    start = time.perf_counter()
    if path.suffix.lower() == ".pdf":
        baseline_read(path, "pdf", None)
    return time.perf_counter() - start


MIN_BASELINE = 0.01  # seconds of pdfplumber below which a file has no PDF text layer to compare with


def ratio(seconds: float, baseline: float) -> float:
    """``seconds`` as a multiple of the pdfplumber baseline; NaN without one."""
    return seconds / baseline if baseline > MIN_BASELINE else float("nan")


class Clock:
    def __init__(self) -> None:
        self.stages: dict[str, float] = defaultdict(float)

    def run(self, stage: str, function, *args, **kwargs):
        start = time.perf_counter()
        out = function(*args, **kwargs)
        self.stages[stage] += time.perf_counter() - start
        return out


def ingest_timed(path: Path, clock: Clock, repository, originals, inspection_id: int, tagger) -> int:
    """The stages of ``Ingestor.ingest_bytes`` and ``nlp.pipeline.analyse``, each timed."""
    from nlp import entities, parsing, registers, segment, structure
    from nlp.kinds import detect_kind
    from nlp.normalize import normalize
    from nlp.pipeline import DocumentAnalysis
    from service.ingest import to_new_document

    data = path.read_bytes()
    parsed = clock.run("parse", parsing.parse_bytes, data, path.name)
    normalized = clock.run("normalise", normalize, parsed.text)
    kind = clock.run("kind", detect_kind, normalized.text)
    fields = clock.run("structure", structure.extract_fields, normalized.text, kind.kind)
    year = structure.default_year(normalized.text, fields)
    found = clock.run("entities", entities.extract, normalized.text, year, entities.RoleContext.from_fields(fields))
    findings = clock.run("segment", segment.segment, normalized.text, kind.kind, fields.interviewee, year, fields)
    analysis = DocumentAnalysis(parsed, normalized, kind, fields.as_dict(kind.kind), found, findings)
    tags = clock.run("tag", lambda: registers.gate_by_role(
        tagger([f.text for f in findings], kind.kind.value), [f.role for f in findings]) if findings else None)
    sha = hashlib.sha256(data).hexdigest()
    original = originals.put(data, sha, path.suffix)
    clock.run("store", repository.add_document, inspection_id,
              to_new_document(analysis, path.name, data, sha, original, tags))
    return len(findings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--sample", action="store_true", help="time a generated 21-page minutes PDF")
    parser.add_argument("--no-index", action="store_true", help="skip the search replica sync")
    parser.add_argument("--cold", action="store_true",
                        help="an empty embedding cache, so files seen before are embedded again (use with --no-index)")
    parser.add_argument("--no-gate", action="store_true",
                        help="every segment through e5, as the tagger did before its gate (the baseline)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xuncha-bench-"))
    files = list(args.files) + ([sample_pdf(work / "minutes-21p.pdf")] if args.sample else [])
    if not files:
        parser.error("give files or --sample")

    import os

    os.environ.setdefault("XUNCHA_HOME", str(work / "home"))
    os.environ.setdefault("XUNCHA_MODELS_DIR", str(ROOT / "models"))
    if args.cold:
        models = work / "models"
        models.mkdir()
        for artefact in (ROOT / "models").glob("tagger.*"):
            (models / artefact.name).symlink_to(artefact)
        os.environ["XUNCHA_MODELS_DIR"] = str(models)
    from service import context
    from service.originals import OriginalStore
    from service.settings import get_settings

    settings = get_settings()
    repository = context.repository(settings)
    originals = OriginalStore(settings.originals_dir)
    inspection = repository.ensure_inspection("流程计时", "基准测试组").id
    tagger = context.finding_tagger(settings)
    tagger(["加载模型"])  # load models outside the timings
    if args.no_gate:
        from service import artefacts

        artefacts.load_tagger(settings).gate_threshold = 0.0  # the instance the ingest tagger uses
    if not args.no_index:  # build the search service (models, the cases library) outside the timings too:
        context.search_service(settings)  # a running server has it; "index" is then the per-document sync

    totals = Clock()
    baseline_total = 0.0
    order = ["parse", "normalise", "kind", "structure", "entities", "segment", "tag", "store", "index"]
    print(f"{'file':28} {'find.':>5} " + " ".join(f"{s:>9}" for s in order) + f" {'total':>7} {'pdfplumber':>10} {'ratio':>6}")
    for path in files:
        clock = Clock()
        baseline = pdfplumber_seconds(path)
        count = ingest_timed(path, clock, repository, originals, inspection, tagger)
        if not args.no_index:
            clock.run("index", context.search_service, settings)
        total = sum(clock.stages.values())
        for stage, seconds in clock.stages.items():
            totals.stages[stage] += seconds
        baseline_total += baseline
        print(f"{path.name[:28]:28} {count:5d} " + " ".join(f"{clock.stages.get(s, 0):9.2f}" for s in order)
              + f" {total:7.2f} {baseline:10.2f} {ratio(total, baseline):6.1f}")
    total = sum(totals.stages.values())
    tagged = total - totals.stages.get("index", 0.0)
    print(f"{'all':28} {'':5} " + " ".join(f"{totals.stages.get(s, 0):9.2f}" for s in order)
          + f" {total:7.2f} {baseline_total:10.2f} {ratio(total, baseline_total):6.1f}")
    if baseline_total > MIN_BASELINE:
        print(f"upload→tagged (parse…store) = {tagged:.2f} s = {ratio(tagged, baseline_total):.1f}× raw pdfplumber "
              f"({baseline_total:.2f} s); with the index sync {ratio(total, baseline_total):.1f}×")


if __name__ == "__main__":
    main()
