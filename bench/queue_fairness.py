"""Queue starvation and fairness, measured over HTTP on a real server (issue 14 item 3, issue 11).

    python bench/queue_fairness.py                      # this tree
    python bench/queue_fairness.py --tree /tmp/old      # another checkout of the code (e.g. before the change)

Scenarios, each in its own round on one fresh data directory (2 ingestion workers, OCR and tagging as
configured by XUNCHA_* variables; defaults: both on):

1. ``report+petition``: a 12-page text PDF report, then a 1-page petition uploaded right after it:
   the petition's upload→done; then both in one upload (the report listed first): which ends first.
2. ``drawing+petition``: a 20,000-page drawing-only PDF (no text layer), uploaded twice, then a
   petition: when the petition is done, and when the drawings end (capped at --wait seconds).
3. ``seven small``: seven small sample files in one upload: time to the first document and to all.
4. ``two teams``: team X uploads seven files, team Y one right after: how many of X's ran before Y's.

Figures are wall-clock seconds on this machine (2 shared cores: noisy); compare within one run.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "corpora" / "samples"
SMALL = ["petition_qingshi_anonymous.txt", "minutes_liuwan_liangwei_2024-02.txt", "interview_yizhong_lin_xiaoyan.txt",
         "petition_chengtou_phone.txt", "minutes_qingshi_dangwei_2024-05_fullwidth.txt",
         "interview_qingshi_xu_jing.txt", "petition_ziranziyuan_repeat.txt"]
PETITION = "petition_qingshi_anonymous.txt"
LINE = "第{page}页第{line}行：县水利局推进农田水利工程建设，落实工程项目资金管理制度，加强监督检查。"


def text_pdf(pages: int) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("WQY", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", subfontIndex=0))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for page in range(1, pages + 1):
        pdf.setFont("WQY", 11)
        for line in range(1, 26):
            pdf.drawString(50, 800 - 30 * line, LINE.format(page=page, line=line))
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def drawing_pdf(pages: int) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for page in range(pages):
        pdf.rect(80 + page % 50, 120, 400, 300)
        pdf.line(80, 500, 480, 700)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


class Server:
    def __init__(self, home: Path) -> None:
        os.environ["XUNCHA_HOME"] = str(home)
        os.environ.setdefault("XUNCHA_MAX_FILE_MB", "20")
        import uvicorn

        from service.api.app import create_app
        from service.security import SecurityStore
        from service import context

        self.app = create_app()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=self.server.run, daemon=True).start()
        while not self.server.started:
            time.sleep(0.05)
        self.base = f"http://127.0.0.1:{port}"
        self._store = SecurityStore(context.repository().engine)

    def token(self, name: str, team: str) -> str:
        return self._store.issue_token(self._store.add_user(name, team, "member", "correct-horse-1").id)

    def stop(self) -> None:
        self.server.should_exit = True


class Team:
    def __init__(self, server: Server, name: str, team: str, round_name: str) -> None:
        import httpx

        self.client = httpx.Client(base_url=server.base, timeout=120,
                                   headers={"Authorization": f"Bearer {server.token(name, team)}"})
        self.inspection = self.client.post("/api/inspections", json={"name": round_name}).json()["id"]

    def upload(self, files: list[tuple[str, bytes]]) -> tuple[str, float]:
        sent = time.monotonic()
        response = self.client.post(f"/api/inspections/{self.inspection}/documents",
                                    files=[("files", f) for f in files])
        response.raise_for_status()
        return response.json()["id"], sent

    def job(self, job_id: str) -> dict:
        return self.client.get(f"/api/jobs/{job_id}").json()

    def wait(self, job_id: str, limit: float, ends: dict | None = None) -> tuple[dict, float | None]:
        """The job when it ended (or as it stood at ``limit`` seconds) and when it ended; ``ends``
        collects when each file was first seen ended (older versions record no per-file times)."""
        start = time.monotonic()
        ends = {} if ends is None else ends
        while time.monotonic() - start < limit:
            job = self.job(job_id)
            now = time.monotonic()
            for entry in job["files"]:
                if entry["status"] not in ("queued", "running"):
                    ends.setdefault(entry["index"], now)
            if job["status"] in ("done", "failed", "cancelled"):
                return job, now
            time.sleep(0.1)
        return self.job(job_id), None


def _since(end: float | None, start: float, limit: float) -> str:
    return f"{end - start:6.1f} s" if end is not None else f"> {limit:.0f} s (still running)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, help="run another checkout of the code")
    parser.add_argument("--wait", type=float, default=90.0, help="longest wait for one scenario (s)")
    args = parser.parse_args()
    if args.tree:
        sys.path.insert(0, str(args.tree.resolve()))
    else:
        sys.path.insert(0, str(ROOT))
    import service

    print(f"code: {Path(service.__file__).parent.parent}")
    home = Path(tempfile.mkdtemp(prefix="xuncha-queue-bench-"))
    server = Server(home)
    samples = {name: (SAMPLES / name).read_bytes() for name in SMALL}
    try:
        warm = Team(server, "预热", "预热组", "预热轮次")  # loads the models once, outside the figures
        warm.wait(warm.upload([("预热.txt", samples[SMALL[1]])])[0], 300)

        a = Team(server, "甲", "甲组", "报告与信访件")
        report, report_sent = a.upload([("工作报告.pdf", text_pdf(12))])
        petition, petition_sent = a.upload([("信访件.txt", samples[PETITION])])
        job, done = a.wait(petition, args.wait)
        wait = job["files"][0].get("started_at")
        print(f"1 report+petition: petition upload→done {_since(done, petition_sent, args.wait)}"
              f" ({job['files'][0]['status']})" + ("" if wait else " [no per-file start time in this version]"))
        _, report_done = a.wait(report, args.wait)
        print(f"  12-page report upload→done {_since(report_done, report_sent, args.wait)}")
        both, sent = a.upload([("工作报告二.pdf", text_pdf(12) + b"\n%2\n"), ("信访件二.txt", samples[PETITION] + b"\n2")])
        ends: dict[int, float] = {}
        job, done = a.wait(both, args.wait, ends)
        print(f"  the two in one upload (report listed first): petition done {_since(ends.get(1), sent, args.wait)},"
              f" report done {_since(ends.get(0), sent, args.wait)}")

        b = Team(server, "乙", "乙组", "图纸")
        drawing = drawing_pdf(20_000)
        print(f"2 drawing PDF: {len(drawing) / 1048576:.1f} MB, 20,000 pages")
        first, first_sent = b.upload([("图纸一.pdf", drawing)])
        second, _ = b.upload([("图纸二.pdf", drawing + b"\n%second copy\n")])
        petition, petition_sent = b.upload([("信访件.txt", samples[PETITION])])
        job, done = b.wait(petition, args.wait)
        print(f"  petition upload→done {_since(done, petition_sent, args.wait)} ({job['files'][0]['status']})")
        job, done = b.wait(first, args.wait)
        print(f"  drawing upload→end {_since(done, first_sent, args.wait)} ({job['files'][0]['status']}:"
              f" {job['files'][0].get('message')})")
        for job_id in (first, second):  # do not leave hours of OCR behind in the old code's pool
            b.client.post(f"/api/jobs/{job_id}/cancel")

        c = Team(server, "丙", "丙组", "七个小文件")
        files = [(f"小文件{n}{Path(name).suffix}", samples[name] + f"\n（第{n}份）".encode()) for n, name in
                 enumerate(SMALL)]
        job_id, sent = c.upload(files)
        first_doc = None
        start = time.monotonic()
        while time.monotonic() - start < args.wait:
            job = c.job(job_id)
            if first_doc is None and any(f["status"] == "added" for f in job["files"]):
                first_doc = time.monotonic()
            if job["status"] in ("done", "failed", "cancelled"):
                break
            time.sleep(0.1)
        print(f"3 seven small files: first document {_since(first_doc, sent, args.wait)},"
              f" all {_since(time.monotonic() if job['status'] == 'done' else None, sent, args.wait)}")

        x, y = Team(server, "丁", "X组", "轮流X"), Team(server, "戊", "Y组", "轮流Y")
        x_job, _ = x.upload([(f"X{n}{Path(name).suffix}", samples[name] + b"\nX") for n, name in enumerate(SMALL)])
        y_job, y_sent = y.upload([("Y.txt", samples[PETITION] + b"\nY")])
        x_ends: dict[int, float] = {}
        y_final, y_done = y.wait(y_job, args.wait)
        x.wait(x_job, 0.01, x_ends)  # X's files ended by the time Y's did
        print(f"4 two teams: Y's file upload→done {_since(y_done, y_sent, args.wait)};"
              f" X's files ended before it: {len(x_ends) if y_done else 'n/a'} of {len(SMALL)}")
    finally:
        server.stop()
        sys.stdout.flush()
        os._exit(0)  # the old code's pool would otherwise keep the process alive through hours of OCR


if __name__ == "__main__":
    main()
