#!/usr/bin/env python
"""Build the fictional sample corpus corpora/samples/ from corpora/sample_sources/docs/.

Usage:  /work/main/.venv/bin/python corpora/sample_sources/build.py

Every source in docs/*.txt is UTF-8 with a small front-matter block:

    ---
    file: minutes_xxx.pdf          # output name (scans with <<<PAGE>>> get _p1/_p2 suffixes)
    kind: minutes|petition|interview|other
    format: pdf|docx|txt|png|jpg|pdf-image
    unit: 清河县自然资源局
    title: ...
    encoding: gbk|gb18030|utf-8|utf-8-sig|utf-16   (txt only)
    newline: crlf|lf                              (txt only, default lf)
    header: running header text                   (pdf only)
    footer: cn|dash                               (pdf only: 第 X 页 共 Y 页 / - X -)
    fontsize: 13                                  (pdf only)
    ---

Body markup (pdf/docx only; txt bodies are written verbatim):
    # title      ## heading     ### sub-heading     > right-aligned line
    |a|b|c|      table row (consecutive rows form one table; first row is the header)
    <<<PAGE>>>   page break (scans)
    any other non-empty line is one paragraph.

Output is deterministic: no timestamps, seeded randomness, fixed zip dates.
All people, units and events are fictional.
"""
import hashlib
import io
import json
import math
import random
import sys
import zipfile
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "docs"
OUT = HERE.parent / "samples"
FONT_DIR = Path("/usr/share/fonts/truetype/wqy")
FONT_MICRO = FONT_DIR / "wqy-microhei.ttc"
FONT_ZEN = FONT_DIR / "wqy-zenhei.ttc"
FIXED_DT = datetime(2024, 6, 1, 9, 0, 0)


# ----------------------------------------------------------------------------- parsing
def parse_source(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), path
    _, fm, body = text.split("---\n", 2)
    meta = {}
    for line in fm.splitlines():
        if not line.strip():
            continue
        k, v = line.split(":", 1)
        meta[k.strip()] = v.strip()
    meta["source"] = path.name
    return meta, body.strip("\n")


def blocks(body):
    """Turn marked-up body into a list of (type, payload)."""
    out = []
    table = None
    for raw in body.splitlines():
        line = raw.rstrip()
        if line.startswith("|") and line.endswith("|") and len(line) > 1:
            cells = [c.strip() for c in line[1:-1].split("|")]
            if table is None:
                table = []
                out.append(("table", table))
            table.append(cells)
            continue
        table = None
        if not line.strip():
            continue
        if line.strip() == "<<<PAGE>>>":
            out.append(("page", None))
        elif line.startswith("### "):
            out.append(("h3", line[4:]))
        elif line.startswith("## "):
            out.append(("h2", line[3:]))
        elif line.startswith("# "):
            out.append(("title", line[2:]))
        elif line.startswith("> "):
            out.append(("right", line[2:]))
        else:
            out.append(("para", line))
    return out


def seed_for(name):
    return int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:12], 16)


# ----------------------------------------------------------------------------- PDF (text layer)
_rl_ready = False


def _rl_setup():
    global _rl_ready
    if _rl_ready:
        return
    from reportlab import rl_config
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    rl_config.invariant = 1
    pdfmetrics.registerFont(TTFont("WQY", str(FONT_MICRO), subfontIndex=0))
    pdfmetrics.registerFont(TTFont("WQYZen", str(FONT_ZEN), subfontIndex=0))
    _rl_ready = True


def _col_widths(rows, ncol, size, avail):
    """Natural widths from the text; narrow columns keep theirs, wide ones share the rest."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    pad = 12
    nat = []
    for j in range(ncol):
        col = [r[j] if j < len(r) else "" for r in rows]
        nat.append(max(stringWidth(c, "WQY", size) for c in col) + pad + 2)
    if sum(nat) <= avail:
        extra = (avail - sum(nat)) / ncol
        return [w + extra for w in nat]
    share = avail / ncol
    narrow = [j for j in range(ncol) if nat[j] <= share]
    while True:
        rest = avail - sum(nat[j] for j in narrow)
        wide = [j for j in range(ncol) if j not in narrow]
        tot = sum(nat[j] for j in wide)
        new = [j for j in wide if nat[j] <= rest / len(wide)]
        if not new:
            break
        narrow += new
    widths = []
    for j in range(ncol):
        widths.append(nat[j] if j in narrow else rest * nat[j] / tot)
    return widths


def build_pdf(meta, body, out_path):
    _rl_setup()
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT, TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (PageBreak, Paragraph, SimpleDocTemplate,
                                    Spacer, Table, TableStyle)
    from xml.sax.saxutils import escape

    fs = float(meta.get("fontsize", 12.5))
    base = ParagraphStyle("base", fontName="WQY", fontSize=fs, leading=fs * 1.75,
                          wordWrap="CJK", alignment=TA_JUSTIFY, spaceAfter=fs * 0.35)
    st = {
        "para": base,
        "title": ParagraphStyle("title", parent=base, fontName="WQYZen", fontSize=fs + 5,
                                leading=(fs + 5) * 1.5, alignment=TA_CENTER, spaceAfter=fs),
        "h2": ParagraphStyle("h2", parent=base, fontName="WQYZen", fontSize=fs + 1.5,
                             leading=(fs + 1.5) * 1.7, spaceBefore=fs * 0.6),
        "h3": ParagraphStyle("h3", parent=base, fontName="WQYZen", fontSize=fs + 0.5,
                             leading=(fs + 0.5) * 1.7),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "cell": ParagraphStyle("cell", parent=base, fontSize=fs - 2, leading=(fs - 2) * 1.45,
                               alignment=0, spaceAfter=0),
        "hcell": ParagraphStyle("hcell", parent=base, fontName="WQYZen", fontSize=fs - 2,
                                leading=(fs - 2) * 1.45, alignment=TA_CENTER, spaceAfter=0),
    }
    page_w, page_h = A4
    margin_x = 25 * mm
    avail = page_w - 2 * margin_x

    def story():
        s = []
        for typ, payload in blocks(body):
            if typ == "page":
                s.append(PageBreak())
            elif typ == "table":
                rows = payload
                ncol = max(len(r) for r in rows)
                data = []
                for i, r in enumerate(rows):
                    r = r + [""] * (ncol - len(r))
                    data.append([Paragraph(escape(c), st["hcell" if i == 0 else "cell"]) for c in r])
                widths = _col_widths(rows, ncol, fs - 2, avail)
                t = Table(data, colWidths=widths, repeatRows=1)
                t.setStyle(TableStyle([
                    ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("LEFTPADDING", (0, 0), (-1, -1), 4),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ]))
                s.append(Spacer(1, fs * 0.3))
                s.append(t)
                s.append(Spacer(1, fs * 0.6))
            else:
                s.append(Paragraph(escape(payload), st[typ]))
        return s

    header = meta.get("header", "")
    footer = meta.get("footer", "cn")

    def make_doc(total, buf):
        def on_page(canv, doc):
            canv.saveState()
            if header:
                canv.setFont("WQY", 9)
                canv.drawCentredString(page_w / 2, page_h - 15 * mm, header)
                canv.setLineWidth(0.5)
                canv.line(margin_x, page_h - 17 * mm, page_w - margin_x, page_h - 17 * mm)
            canv.setFont("WQY", 9.5)
            n = canv.getPageNumber()
            txt = f"第 {n} 页 共 {total} 页" if footer == "cn" else f"- {n} -"
            canv.drawCentredString(page_w / 2, 12 * mm, txt)
            canv.restoreState()

        doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=margin_x, rightMargin=margin_x,
                                topMargin=26 * mm, bottomMargin=22 * mm,
                                title=meta["title"], author="", subject="", creator="xuncha sample corpus",
                                invariant=1)
        doc.build(story(), onFirstPage=on_page, onLaterPages=on_page)
        return doc.page

    total = make_doc(0, io.BytesIO())
    buf = io.BytesIO()
    total2 = make_doc(total, buf)
    assert total2 == total
    out_path.write_bytes(buf.getvalue())
    return {"pages": total}


# ----------------------------------------------------------------------------- DOCX
def _set_run_font(run, east="宋体", ascii_font="Times New Roman", size=None, bold=None):
    from docx.oxml.ns import qn
    from docx.shared import Pt
    run.font.name = ascii_font
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    rfonts.set(qn("w:eastAsia"), east)
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold


def _fix_zip(path):
    """Rewrite a zip container with fixed timestamps so the output is byte-stable."""
    src = zipfile.ZipFile(path)
    items = [(i.filename, src.read(i.filename)) for i in src.infolist()]
    src.close()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items:
            zi = zipfile.ZipInfo(name, date_time=(2024, 6, 1, 9, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data)


def build_docx(meta, body, out_path):
    import docx
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    d = docx.Document()
    normal = d.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(12)
    from docx.oxml.ns import qn
    rpr = normal.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    rfonts.set(qn("w:eastAsia"), "宋体")

    cp = d.core_properties
    cp.title = meta["title"]
    cp.author = "清河县委巡察办（样例）"
    cp.last_modified_by = ""
    cp.created = FIXED_DT
    cp.modified = FIXED_DT
    cp.revision = 1
    cp.comments = "fictional sample for xuncha"

    for typ, payload in blocks(body):
        if typ == "title":
            h = d.add_heading("", level=1)
            h.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _set_run_font(h.add_run(payload), east="黑体", size=18)
        elif typ == "h2":
            h = d.add_heading("", level=2)
            _set_run_font(h.add_run(payload), east="黑体", size=14)
        elif typ == "h3":
            h = d.add_heading("", level=3)
            _set_run_font(h.add_run(payload), east="楷体", size=12.5)
        elif typ == "right":
            p = d.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _set_run_font(p.add_run(payload))
        elif typ == "page":
            d.add_page_break()
        elif typ == "table":
            rows = payload
            ncol = max(len(r) for r in rows)
            t = d.add_table(rows=len(rows), cols=ncol)
            t.style = "Table Grid"
            t.alignment = WD_TABLE_ALIGNMENT.CENTER
            for i, r in enumerate(rows):
                for j in range(ncol):
                    cell = t.cell(i, j)
                    cell.text = ""
                    run = cell.paragraphs[0].add_run(r[j] if j < len(r) else "")
                    _set_run_font(run, size=10.5, bold=(i == 0 and ncol > 2) or None)
            d.add_paragraph()
        else:
            p = d.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(24)
            p.paragraph_format.line_spacing = 1.3
            _set_run_font(p.add_run(payload))
    d.save(str(out_path))
    _fix_zip(out_path)
    return {}


# ----------------------------------------------------------------------------- TXT
def build_txt(meta, body, out_path):
    enc = meta["encoding"]
    text = body.rstrip("\n") + "\n"
    if meta.get("newline", "lf") == "crlf":
        text = text.replace("\n", "\r\n")
    out_path.write_bytes(text.encode(enc))
    return {"encoding": enc, "newline": meta.get("newline", "lf")}


# ----------------------------------------------------------------------------- scans
def render_pages(meta, body):
    """Render the body as one or more 'scanned' page images (PIL, RGB)."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    rng = random.Random(seed_for(meta["file"]))
    W, H = 1240, 1754  # A4 @150dpi
    size = int(meta.get("pxsize", 32))
    font = ImageFont.truetype(str(FONT_ZEN if meta.get("face") == "zen" else FONT_MICRO), size, index=0)
    line_h = int(size * 1.75)
    left, top, right = 110, 150, W - 110
    pages_text = [[]]
    for line in body.splitlines():
        if line.strip() == "<<<PAGE>>>":
            pages_text.append([])
        elif line.strip():
            pages_text[-1].append(line.rstrip())
    imgs = []
    for pi, lines in enumerate(pages_text):
        bg = (246 - rng.randint(0, 6), 241 - rng.randint(0, 6), 228 - rng.randint(0, 8))
        img = Image.new("RGB", (W, H), bg)
        dr = ImageDraw.Draw(img)
        # faint ruled letter-paper lines
        if meta.get("ruled", "yes") == "yes":
            y = top + line_h - 6
            while y < H - 120:
                dr.line([(left - 20, y), (right + 20, y)], fill=(222, 200, 195), width=2)
                y += line_h
        y = top
        for line in lines:
            # wrap to width
            cur = ""
            wrapped = []
            for ch in line:
                if font.getlength(cur + ch) > right - left and ch not in "，。、；：！？）」”』》,.;:!?)":
                    wrapped.append(cur)
                    cur = ch
                else:
                    cur += ch
            wrapped.append(cur)
            for wl in wrapped:
                ink = 25 + rng.randint(0, 25)
                x = left + rng.randint(-2, 2)
                dr.text((x, y + rng.randint(-1, 1)), wl, font=font, fill=(ink, ink, ink + 15))
                y += line_h
        # page number like a paginated letter
        if len(pages_text) > 1:
            dr.text((W // 2 - 40, H - 100), f"第{pi + 1}页", font=ImageFont.truetype(str(FONT_MICRO), 24), fill=(80, 80, 90))
        # mild noise: speckles and a few faint streaks
        px = img.load()
        for _ in range(2500):
            xx, yy = rng.randrange(W), rng.randrange(H)
            v = rng.randint(120, 200)
            px[xx, yy] = (v, v, v)
        for _ in range(3):
            xx = rng.randrange(W)
            dr.line([(xx, 0), (xx + rng.randint(-8, 8), H)], fill=(bg[0] - 12, bg[1] - 12, bg[2] - 12), width=1)
        img = img.filter(ImageFilter.GaussianBlur(0.6))
        angle = rng.uniform(-1.8, 1.8)
        if abs(angle) < 0.4:
            angle = 0.7 if angle >= 0 else -0.7
        img = img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=(70, 70, 70))
        imgs.append(img)
    return imgs


def _png_bytes(img):
    # grayscale keeps scanned PNGs small; quantize noise away a bit
    g = img.convert("L")
    g = g.point(lambda v: (v // 4) * 4)
    buf = io.BytesIO()
    g.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def _jpg_bytes(img, q=72):
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=q, optimize=True, subsampling=2)
    return buf.getvalue()


def build_scan(meta, body, out_path):
    imgs = render_pages(meta, body)
    fmt = meta["format"]
    outs = []
    if fmt == "pdf-image":
        _rl_setup()
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.utils import ImageReader
        from reportlab.pdfgen import canvas

        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=A4, invariant=1)
        c.setTitle(meta["title"])
        c.setCreator("xuncha sample corpus (scan)")
        for img in imgs:
            jb = _jpg_bytes(img.convert("L"), q=70)
            c.drawImage(ImageReader(io.BytesIO(jb)), 0, 0, width=A4[0], height=A4[1])
            c.showPage()
        c.save()
        out_path.write_bytes(buf.getvalue())
        return [(out_path, {"pages": len(imgs), "scan": True, "text_layer": False})]
    stem, ext = out_path.stem, out_path.suffix
    for i, img in enumerate(imgs, 1):
        p = out_path if len(imgs) == 1 else out_path.with_name(f"{stem}_p{i}{ext}")
        p.write_bytes(_png_bytes(img) if fmt == "png" else _jpg_bytes(img))
        extra = {"scan": True}
        if len(imgs) > 1:
            extra.update({"page": i, "pages": len(imgs)})
        outs.append((p, extra))
    return outs


# ----------------------------------------------------------------------------- main
def main():
    OUT.mkdir(parents=True, exist_ok=True)
    # clear only files we generate (keep nothing stale)
    for p in OUT.iterdir():
        if p.is_file():
            p.unlink()
    sources = sorted(SRC.glob("*.txt"))
    manifest = []
    for sp in sources:
        meta, body = parse_source(sp)
        fmt = meta["format"]
        out_path = OUT / meta["file"]
        rows = []
        if fmt == "pdf":
            rows = [(out_path, {**build_pdf(meta, body, out_path), "scan": False, "text_layer": True})]
        elif fmt == "docx":
            rows = [(out_path, build_docx(meta, body, out_path))]
        elif fmt == "txt":
            rows = [(out_path, build_txt(meta, body, out_path))]
        elif fmt in ("png", "jpg", "pdf-image"):
            rows = build_scan(meta, body, out_path)
        else:
            raise SystemExit(f"unknown format {fmt} in {sp}")
        for p, extra in rows:
            rec = {"file": p.name, "kind": meta["kind"], "format": p.suffix.lstrip(".")}
            if "encoding" in extra:
                rec["encoding"] = extra.pop("encoding")
            rec["unit"] = meta["unit"]
            rec["title"] = meta["title"]
            rec.update(extra)
            rec["source"] = "docs/" + sp.name
            manifest.append(rec)
    manifest.sort(key=lambda r: r["file"])
    with open(OUT / "manifest.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for r in manifest:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"built {len(manifest)} files from {len(sources)} sources into {OUT} ({total/1024/1024:.2f} MB)")


if __name__ == "__main__":
    sys.exit(main())
