#!/usr/bin/env python
"""Check the built corpus in corpora/samples/ against its sources.

Usage:  /work/main/.venv/bin/python corpora/sample_sources/verify.py
Exits non-zero on any failure.
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build  # noqa: E402

OUT = build.OUT
CJK = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff]")
fails = []


def fail(msg):
    fails.append(msg)
    print("FAIL", msg)


def squash(s):
    return re.sub(r"\s+", "", s)


def source_lines(body):
    """Plain text units expected to survive in the output (markup removed)."""
    out = []
    for typ, payload in build.blocks(body):
        if typ == "table":
            for row in payload:
                out.extend(c for c in row if c)
        elif typ != "page":
            out.append(payload)
    return out


def check_units(name, units, got):
    g = squash(got)
    missing = [u for u in units if squash(u) and squash(u) not in g]
    if missing:
        fail(f"{name}: {len(missing)}/{len(units)} source lines not found, e.g. {missing[:2]}")


def main():
    import docx
    import pdfplumber
    from PIL import Image

    manifest = [json.loads(l) for l in open(OUT / "manifest.jsonl", encoding="utf-8")]
    srcs = {}
    for sp in sorted(build.SRC.glob("*.txt")):
        meta, body = build.parse_source(sp)
        srcs[sp.name] = (meta, body)
    on_disk = {p.name for p in OUT.iterdir() if p.name != "manifest.jsonl"}
    listed = {r["file"] for r in manifest}
    if on_disk != listed:
        fail(f"manifest/disk mismatch: {on_disk ^ listed}")

    for r in manifest:
        meta, body = srcs[r["source"].split("/", 1)[1]]
        p = OUT / r["file"]
        n_cjk = len(CJK.findall(body))
        if not (400 <= len(body) and n_cjk <= 3000):
            fail(f"{r['file']}: length {len(body)} chars / {n_cjk} CJK outside 400-3000")
        fmt = r["format"]
        if fmt == "pdf" and r.get("text_layer", True):
            with pdfplumber.open(p) as pdf:
                pages = pdf.pages
                texts = [pg.extract_text() or "" for pg in pages]
                tables = [t for pg in pages for t in pg.extract_tables()]
                ntab = len(tables)
            if len(pages) < 2:
                fail(f"{r['file']}: only {len(pages)} page")
            for i, t in enumerate(texts, 1):
                if meta.get("header") and meta["header"] not in t:
                    fail(f"{r['file']}: header missing on page {i}")
                foot = f"第 {i} 页 共 {len(pages)} 页" if meta.get("footer", "cn") == "cn" else f"- {i} -"
                if foot not in t:
                    fail(f"{r['file']}: footer '{foot}' missing on page {i}")
            # drop running header/footer lines before joining pages
            foots = {f"第 {i} 页 共 {len(pages)} 页" for i in range(1, len(pages) + 1)} | \
                {f"- {i} -" for i in range(1, len(pages) + 1)}
            body_text = "".join(
                "\n".join(l for l in t.splitlines() if l.strip() not in foots and l.strip() != meta.get("header"))
                for t in texts)
            table_cells = "\n".join(c or "" for t in tables for row in t for c in row)
            plain = [u for typ, pl in build.blocks(body) if typ not in ("table", "page") for u in [pl]]
            cells = [c for typ, pl in build.blocks(body) if typ == "table" for row in pl for c in row if c]
            check_units(r["file"], plain, body_text)
            check_units(r["file"] + " [table cells]", cells, table_cells)
            want_tab = sum(1 for t, _ in build.blocks(body) if t == "table")
            if want_tab and ntab < want_tab:
                fail(f"{r['file']}: pdfplumber found {ntab} tables, expected {want_tab}")
            print(f"ok  {r['file']:48s} pdf pages={len(pages)} tables={ntab} chars={sum(map(len, texts))}")
        elif fmt == "pdf":
            with pdfplumber.open(p) as pdf:
                t = "".join((pg.extract_text() or "") for pg in pdf.pages)
                nchars = sum(len(pg.chars) for pg in pdf.pages)
                nimg = sum(len(pg.images) for pg in pdf.pages)
            if t.strip() or nchars or not nimg:
                fail(f"{r['file']}: image-only pdf has text={t[:30]!r} chars={nchars} images={nimg}")
            print(f"ok  {r['file']:48s} image-only pdf, images={nimg}, text layer empty")
        elif fmt == "docx":
            d = docx.Document(str(p))
            paras = [x.text for x in d.paragraphs]
            cells = [c.text for t in d.tables for row in t.rows for c in row.cells]
            heads = [x.style.name for x in d.paragraphs if x.style.name.startswith("Heading")]
            check_units(r["file"], source_lines(body), "\n".join(paras + cells))
            if not heads:
                fail(f"{r['file']}: no Heading styles")
            print(f"ok  {r['file']:48s} docx paras={len(paras)} tables={len(d.tables)} headings={Counter(heads)}")
        elif fmt == "txt":
            raw = p.read_bytes()
            text = raw.decode(r["encoding"])  # strict
            crlf = "\r\n" in text
            if crlf != (meta.get("newline") == "crlf"):
                fail(f"{r['file']}: CRLF={crlf} but newline={meta.get('newline')}")
            if text.replace("\r\n", "\n").rstrip("\n") != body.rstrip("\n"):
                fail(f"{r['file']}: decoded text differs from source")
            if r["encoding"] == "gbk":
                try:
                    raw.decode("utf-8")
                    fail(f"{r['file']}: gbk file also decodes as utf-8")
                except UnicodeDecodeError:
                    pass
            if r["encoding"] == "gb18030":
                try:
                    text.encode("gbk")
                    fail(f"{r['file']}: gb18030 file has no char outside GBK")
                except UnicodeEncodeError:
                    pass
            bom = {"utf-8-sig": b"\xef\xbb\xbf", "utf-16": b"\xff\xfe"}.get(r["encoding"])
            if bom and not raw.startswith(bom):
                fail(f"{r['file']}: missing BOM")
            print(f"ok  {r['file']:48s} txt {r['encoding']:9s} crlf={crlf} chars={len(text)}")
        elif fmt in ("png", "jpg"):
            im = Image.open(p)
            im.load()
            if p.stat().st_size > 1.5 * 1024 * 1024:
                fail(f"{r['file']}: image larger than 1.5 MB")
            print(f"ok  {r['file']:48s} {fmt} {im.size} {im.mode} {p.stat().st_size // 1024} KB")
        else:
            fail(f"{r['file']}: unknown format {fmt}")

    total = sum(p.stat().st_size for p in OUT.iterdir())
    if total > 8 * 1024 * 1024:
        fail(f"corpus {total} bytes > 8 MB")
    docs = {r["source"]: r for r in manifest}
    print("documents per kind:", dict(Counter(r["kind"] for r in docs.values())))
    print("files per format:", dict(Counter(r["format"] + ("(scan)" if r.get("scan") else "") for r in manifest)))
    print("txt encodings:", dict(Counter(r["encoding"] for r in manifest if "encoding" in r)))
    print("units:", len({r["unit"] for r in manifest}))
    print(f"total size {total / 1024 / 1024:.2f} MB; failures: {len(fails)}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
