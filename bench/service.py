"""Service benchmark: a real xuncha server under load, next to the same work done in-process.

    .venv/bin/python bench/service.py --quick     # small counts, ~1.5–2.5 min on 2 shared cores
    .venv/bin/python bench/service.py             # default, ~5–7 min on 2 shared cores
    .venv/bin/python bench/service.py --keep      # keep the temp dir (server.log, data) afterwards

Setup: a fresh temporary XUNCHA_HOME with the demo material loaded (``prepare_demo``; the scanned
samples are skipped unless ``--demo-ocr``: OCR would add 1–3 min of setup and is not measured), a
``member`` of the demo team with an API token (``SecurityStore``), and ``xuncha serve --no-demo``
started as a subprocess (its own interpreter, so the load-generating client does not share its
GIL; its own session, so Ctrl+C reaches only this script, which then stops it) with its log in
the temp dir. The trained tagger of ``models/`` is used by both sides through symlinks in private
model directories, each with its own *empty* embedding cache, so every text is really embedded
once on each side and the shared ``models/embedding-cache.sqlite`` is neither read nor written.

Measured, each as requests/s and p50/p99/max latency at concurrency 1, 4 and 16 (client threads,
one ``httpx.Client`` each, a fixed number of requests per level, capped in seconds):

1. ``POST /api/tag`` with one finding text per request (held-out findings of ``corpora/findings``,
   each made unique with a suffix so no cache can hide the model's cost).
2. ``GET /api/search?q=…&k=10`` with the queries of ``corpora/eval/retrieval/queries.jsonl``
   (one warm-up pass over all queries first on both sides, so query vectors come from the cache),
   and ``GET /api/me`` as the floor: token lookup + ASGI + JSON, no work.
3. Upload-to-tagged time of a generated 20-page Chinese PDF (party-group meeting minutes whose
   speeches are drawn from the finding corpus; each run has different text, so it is neither a
   duplicate nor served from the embedding cache): from the start of the multipart
   ``POST /api/inspections/{id}/documents`` until ``GET /api/jobs/{id}`` reports ``done``.
4. (not with ``--quick``) one more such upload while one client calls ``/api/tag`` and another
   ``/api/search`` back to back: what other users see during an ingest.

Baselines, in the same run and interleaved with the HTTP measurements: the same tagger call
(behind a lock, as the server's ``tag_lock``) and the same search call (``SyncedSearch``, which is
what the router calls, plus the bare ``SearchService`` at concurrency 1) made from threads in this
process, and ``Ingestor.ingest_path`` of the same PDF. The difference is the HTTP/ASGI/auth/audit
and threading overhead. "CPU ms/req srv+cli" is CPU time of the server process and of this
process (the client) per successful request over the level, read from /proc. Note the in-process
rows at concurrency 4/16 have worse tails than HTTP: among requests the lock is not fair, and a
thread that releases it and loops straight back often re-takes it before a waiter wakes.

The machine may be shared: the load average is printed at the start and the end; repeat a run
before trusting a difference of less than ~2×.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.dataset import load_examples, train_dev  # noqa: E402

FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
QUERIES = ROOT / "corpora" / "eval" / "retrieval" / "queries.jsonl"
LEVELS = (1, 4, 16)
PAGES = 20
MEMBER = "基准测试员"


# ---------------------------------------------------------------- load generation

@dataclass
class LevelResult:
    label: str
    concurrency: int
    latencies: list[float]  # seconds, successful requests only
    errors: Counter
    wall: float
    client_cpu: float = 0.0  # CPU seconds of this process (the client, or the in-process work)
    server_cpu: float = 0.0  # CPU seconds of the server process

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.ok / self.wall if self.wall else float("nan")

    def pct(self, q: float) -> float:
        return float(np.percentile(np.asarray(self.latencies) * 1000, q)) if self.latencies else float("nan")


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of this process (all threads) or of process ``pid``."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def run_level(label: str, make_worker: Callable[[], tuple[Callable, Callable]], items: list, concurrency: int,
              max_seconds: float, stop: threading.Event, server_pid: int | None = None) -> LevelResult:
    """``concurrency`` threads take items in order until all are done or ``max_seconds`` pass.

    ``make_worker()`` is called once per thread and returns ``(call, close)``; ``call(item)`` does
    one request and raises on failure (the exception's text is what is counted as the error).
    """
    counter = itertools.count()
    latencies: list[float] = []
    errors: Counter = Counter()
    guard = threading.Lock()
    ready = threading.Barrier(concurrency + 1)
    deadline: list[float] = [0.0]

    def worker() -> None:
        call, close = make_worker()
        try:
            ready.wait(120)
            while not stop.is_set() and time.perf_counter() < deadline[0]:
                index = next(counter)
                if index >= len(items):
                    return
                start = time.perf_counter()
                try:
                    call(items[index])
                except Exception as error:  # noqa: BLE001 - counted, reported
                    with guard:
                        errors[str(error)[:80] or type(error).__name__] += 1
                    continue
                elapsed = time.perf_counter() - start
                with guard:
                    latencies.append(elapsed)
        finally:
            close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + max_seconds + 3600  # not started yet
    ready.wait(120)
    began = time.perf_counter()
    cpu_client, cpu_server = cpu_seconds(), cpu_seconds(server_pid) if server_pid else 0.0
    deadline[0] = began + max_seconds
    for thread in threads:
        while thread.is_alive():  # short joins, so Ctrl+C is seen at once
            thread.join(0.2)
    wall = time.perf_counter() - began
    return LevelResult(label, concurrency, latencies, errors, wall, cpu_seconds() - cpu_client,
                       cpu_seconds(server_pid) - cpu_server if server_pid else 0.0)


def http_worker(base: str, token: str, request: Callable[[httpx.Client, object], None]):
    def make():
        client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=300)
        return (lambda item: request(client, item)), client.close
    return make


def local_worker(call: Callable[[object], None]):
    return lambda: (call, lambda: None)


def expect(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        try:
            code = response.json().get("code")
        except ValueError:
            code = None
        raise RuntimeError(f"HTTP {response.status_code}{' ' + code if code else ''}")
    return response


# ---------------------------------------------------------------- the test PDF

UNITS = ["水利局", "交通运输局", "住房和城乡建设局", "农业农村局", "自然资源局", "卫生健康局", "教育局", "市场监督管理局"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "建国志强秀英丽华明军海燕立新玉兰国栋晓东春梅文斌红霞永军德胜少华雪梅宏伟小燕建平敏玲桂芳伟东"
TOPICS = ["传达学习上级会议精神", "研究年度重点工程项目推进", "研究办公楼维修改造事项", "研究防汛物资采购事项",
          "研究干部选拔任用工作", "研究专项资金使用情况", "研究政府采购和工程招标事项", "研究公务接待和公车管理",
          "研究巡察整改落实情况", "研究意识形态工作责任制落实", "研究基层党组织建设", "研究年度部门预算调整",
          "研究惠民补贴发放情况", "研究信访积案化解工作"]
VOICES = ("minutes", "interview", "narrative", "petition")


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)) if rng.random() < 0.5 else \
        rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def statement_pool() -> list[str]:
    """Speech-like texts of the finding corpus (findings and non-findings), in a fixed shuffled order."""
    pool = [e.text for e in load_examples() if e.voice in VOICES and len(e.text) <= 160]
    random.Random(20240603).shuffle(pool)
    return pool


def minutes_paragraphs(run: int, pool: list[str]):
    """An endless stream of paragraphs of one party-group meeting record (run-specific people and
    unit), then the closing block: yields (text, size, centred) tuples; ``pool`` is consumed."""
    rng = random.Random(run)
    unit = f"清河县{UNITS[run % len(UNITS)]}"
    people = list(dict.fromkeys(person(rng) for _ in range(12)))
    chair, members, absent, attendee, recorder = people[0], people[1:6], people[6], people[7], people[8]
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    topics = rng.sample(TOPICS, 10)
    yield f"中共{unit}党组会议记录（2024年第{run + 3}次）", 15, True
    yield f"时间：2024年{month}月{day}日上午8:30", 12, False
    yield "地点：局四楼会议室", 12, False
    yield f"主持：{chair}（党组书记、局长）", 12, False
    yield f"出席：{'、'.join(members)}", 12, False
    yield f"缺席：{absent}（外出学习）", 12, False
    yield f"列席：{attendee}（办公室主任）", 12, False
    yield f"记录：{recorder}", 12, False
    yield "议题：", 12, False
    numerals = "一二三四五六七八九十"
    for i, topic in enumerate(topics):
        yield f"（{numerals[i]}）{topic}", 12, False
    yield "会议情况：", 12, False
    speakers = [chair, *members, attendee]
    for i in itertools.count():
        topic_no = min(i // 30, len(topics) - 1)
        if i % 30 == 0 and i // 30 < len(topics):
            yield f"（{numerals[topic_no]}）{topics[topic_no]}。", 12, False
        text = pool.pop()
        head = text[:8]
        yield (text if "：" in head else f"{rng.choice(speakers)}：{text}"), 12, False


def build_pdf(path: Path, run: int, pool: list[str], pages: int = PAGES) -> None:
    """A text-layer PDF of exactly ``pages`` A4 pages with a running header and page footer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "WQY" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("WQY", str(FONT_PATH), subfontIndex=0))
    width, height = A4
    left, right, top, bottom, leading = 64, 64, 90, 72, 22
    per_page = int((height - top - bottom) // leading)

    def wrap(text: str, size: int, indent: bool) -> list[str]:
        lines, line, used = [], "　　" if indent else "", 2 * size if indent else 0
        for ch in text:
            w = pdfmetrics.stringWidth(ch, "WQY", size)
            if used + w > width - left - right:
                lines.append(line)
                line, used = "", 0
            line += ch
            used += w
        return [*lines, line]

    laid: list[list[tuple[str, int, bool]]] = [[]]
    closing = [("会议决定：", 12, False), ("1. 原则同意上述事项，由分管领导牵头抓好落实。", 12, False),
               ("2. 相关科室按程序补齐审批手续，下次会议通报进展。", 12, False), ("记录人：（签名）　　审核：（签名）", 12, False)]
    for text, size, centred in minutes_paragraphs(run, pool):
        lines = [text] if centred else wrap(text, size, indent=not text.startswith(("时间", "地点", "主持", "出席",
                                                                                     "缺席", "列席", "记录", "议题", "会议", "（")))
        if len(laid) == pages and len(laid[-1]) + len(lines) > per_page - len(closing):
            break
        for line in lines:
            if len(laid[-1]) == per_page:
                laid.append([])
            laid[-1].append((line, size, centred))
    laid[-1].extend(closing)

    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setTitle("党组会议记录")
    for number, lines in enumerate(laid, 1):
        pdf.setFont("WQY", 9)
        pdf.drawCentredString(width / 2, height - 40, "党组会议记录　内部资料　注意保存")
        pdf.drawCentredString(width / 2, 36, f"第 {number} 页 共 {len(laid)} 页")
        y = height - top
        for line, size, centred in lines:
            pdf.setFont("WQY", size)
            if centred:
                pdf.drawCentredString(width / 2, y, line)
            else:
                pdf.drawString(left, y, line)
            y -= leading
        pdf.showPage()
    pdf.save()


# ---------------------------------------------------------------- the server

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``xuncha serve --no-demo`` in its own session (Ctrl+C in the terminal does not reach it; ``stop``
    ends it), logging to ``log_path``."""

    def __init__(self, env: dict, log_path: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        script = Path(sys.executable).with_name("xuncha")
        command = [str(script)] if script.exists() else [sys.executable, "-c", "from service.cli import app; app()"]
        self._log = log_path.open("ab")
        self.process = subprocess.Popen([*command, "serve", "--no-demo", "--host", "127.0.0.1", "--port",
                                         str(self.port)], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, token: str, timeout: float = 300) -> float:
        start = time.perf_counter()
        with httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {token}"}, timeout=5) as client:
            while time.perf_counter() - start < timeout:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited with code {self.process.returncode}:\n{self.log_tail()}")
                try:
                    if client.get("/api/me").status_code == 200:
                        return time.perf_counter() - start
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        raise RuntimeError(f"server not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # uvicorn: graceful shutdown
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


def private_models(directory: Path, cache_from: Path | None = None) -> Path:
    """A models directory using the trained tagger of ``models/`` (symlinked) with its own
    embedding cache: empty, or a consistent copy of ``cache_from``."""
    directory.mkdir(parents=True)
    for name in ("tagger.joblib", "tagger.json"):
        (directory / name).symlink_to(ROOT / "models" / name)
    if cache_from is not None and cache_from.exists():
        source = sqlite3.connect(f"file:{cache_from}?mode=ro", uri=True)
        target = sqlite3.connect(directory / "embedding-cache.sqlite")
        with target:
            source.backup(target)
        source.close()
        target.close()
    return directory


# ---------------------------------------------------------------- printing

def header(title: str) -> None:
    print(f"\n== {title}")
    print(f"{'path':23} {'conc':>4} {'ok':>5} {'err':>3} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'CPU ms/req srv+cli':>18}  vs in-process (same conc)")


def row(result: LevelResult, baseline: LevelResult | None = None, cpu: bool = True) -> None:
    compare = ""
    if baseline is not None and baseline.ok and result.ok:
        compare = f"{result.rate / baseline.rate:5.2f}× rate, p50 {result.pct(50) - baseline.pct(50):+7.1f} ms"
    done = max(result.ok, 1)
    if not cpu:
        cpu_text = "—"
    elif result.server_cpu:
        cpu_text = f"{result.server_cpu * 1000 / done:.1f}+{result.client_cpu * 1000 / done:.1f}"
    else:
        cpu_text = f"{result.client_cpu * 1000 / done:.1f} (in-proc)"
    print(f"{result.label:23} {result.concurrency:4d} {result.ok:5d} {sum(result.errors.values()):3d} "
          f"{result.rate:7.1f} {result.pct(50):8.1f} {result.pct(99):8.1f} {result.pct(100):8.1f} {cpu_text:>18}  "
          f"{compare}",
          flush=True)
    for message, count in result.errors.most_common(3):
        print(f"{'':23}      error ×{count}: {message}")


def machine() -> None:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    print(f"machine: {os.cpu_count()} cores ({usable} usable), {cpu}, {memory} MB RAM, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")
    print("load average at start (1/5/15 min): " + " / ".join(f"{x:.2f}" for x in os.getloadavg())
          + "  — the machine is shared, numbers are noisy")


def job_seconds(job: dict) -> tuple[float, float]:
    """(queued, processing) seconds from the job's server-side timestamps."""
    def when(key: str) -> datetime:
        return datetime.fromisoformat(str(job[key]).replace("Z", "+00:00"))
    try:
        return ((when("started_at") - when("created_at")).total_seconds(),
                (when("finished_at") - when("started_at")).total_seconds())
    except (KeyError, TypeError, ValueError):
        return float("nan"), float("nan")


# ---------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts (about 1.5–2 min)")
    parser.add_argument("--demo-ocr", action="store_true",
                        help="OCR the scanned demo samples while loading the demo (1–3 min more setup, not measured)")
    parser.add_argument("--tag-requests", type=int, help="requests per concurrency level for /api/tag")
    parser.add_argument("--search-requests", type=int, help="requests per concurrency level for /api/search")
    parser.add_argument("--uploads", type=int, help="upload runs of the 20-page PDF")
    parser.add_argument("--max-seconds", type=float, help="cap per concurrency level and path")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (server log, data) for inspection")
    args = parser.parse_args()
    tag_n = args.tag_requests or (30 if args.quick else 200)
    search_n = args.search_requests or (60 if args.quick else 400)
    uploads = args.uploads or (1 if args.quick else 3)
    cap = args.max_seconds or (5.0 if args.quick else 20.0)
    if not (ROOT / "models" / "tagger.joblib").exists():
        sys.exit("no trained tagger in models/: run `xuncha train` (or scripts/setup.sh) first")
    if not FONT_PATH.exists():
        sys.exit(f"CJK font {FONT_PATH} missing (apt-get install fonts-wqy-microhei)")

    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    signal.signal(signal.SIGTERM, interrupted)
    machine()
    started = time.perf_counter()
    temp = Path(tempfile.mkdtemp(prefix="xuncha-bench-service-"))
    stop = threading.Event()
    state: dict = {}  # run() puts the server here as soon as it exists
    try:
        run(args, temp, stop, state, tag_n, search_n, uploads, cap)
    except KeyboardInterrupt:
        print("\ninterrupted — stopping the server and removing the temp dir", file=sys.stderr)
    finally:
        stop.set()
        server = state.get("server")
        if server is not None:
            server.stop()
            summarise_log(server.log_path)
        if args.keep:
            print(f"kept: {temp}")
        else:
            shutil.rmtree(temp, ignore_errors=True)
        print("load average at end (1/5/15 min): " + " / ".join(f"{x:.2f}" for x in os.getloadavg())
              + f"; total {time.perf_counter() - started:.0f} s")


def interrupted(*_) -> None:
    raise KeyboardInterrupt


def summarise_log(path: Path) -> None:
    if not path.exists():
        return
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    bad = [line for line in lines if " ERROR " in line or " WARNING " in line or "Traceback" in line]
    statuses = Counter(line.split()[-2] for line in lines if " xuncha.access: " in line)
    print(f"server log: {len(lines)} lines, responses by status {dict(sorted(statuses.items()))}, "
          f"{len(bad)} warning/error lines")
    for line in bad[:5]:
        print(f"  {line[:160]}")


def run(args, temp: Path, stop: threading.Event, state: dict, tag_n: int, search_n: int, uploads: int,
        cap: float) -> None:
    home = temp / "home"
    for name in ("XUNCHA_DATABASE_URL", "XUNCHA_EMBEDDING_BACKEND", "XUNCHA_EMBEDDING_MODEL"):
        os.environ.pop(name, None)
    models_demo = private_models(temp / "models-demo", cache_from=ROOT / "models" / "embedding-cache.sqlite")
    models_bench = private_models(temp / "models-bench")
    models_server = private_models(temp / "models-server")
    os.environ.update(XUNCHA_HOME=str(home), XUNCHA_MODELS_DIR=str(models_bench), XUNCHA_OCR="true")

    from service import artefacts, context
    from service.api.searching import SyncedSearch
    from service.commands.serve import DEMO_TEAM, prepare_demo
    from service.model_lock import ModelLock
    from service.search import SearchFilters
    from service.security import SecurityStore
    from service.security.credentials import generate_password
    from service.settings import Settings, get_settings

    get_settings.cache_clear()
    settings = Settings()  # in-process baselines: private, empty embedding cache
    print(f"temp dir: {temp} (server log: {temp / 'server.log'})")

    # --- demo material (with a copy of the models' embedding cache: setup, not measured)
    t = time.perf_counter()
    demo = prepare_demo(Settings(models_dir=models_demo, ocr=args.demo_ocr), quiet=True)
    store = SecurityStore(context.repository(settings).engine)
    member = store.add_user(MEMBER, DEMO_TEAM, "member", generate_password())
    token = store.issue_token(member.id, "bench/service.py")
    repository = context.repository(settings)
    baseline_inspection = repository.ensure_inspection("基准测试（进程内导入）", DEMO_TEAM, "清河县").id
    print(f"demo material: {demo.ingested} documents ingested in {time.perf_counter() - t:.0f} s"
          f"{'' if args.demo_ocr else ' (scans skipped: no OCR, see --demo-ocr)'}; user {MEMBER} (member, {DEMO_TEAM})")

    # --- the server (own interpreter and embedding cache)
    env = {**os.environ, "XUNCHA_HOME": str(home), "XUNCHA_MODELS_DIR": str(models_server), "PYTHONUNBUFFERED": "1"}
    server = state["server"] = Server(env, temp / "server.log")
    tagger = artefacts.load_tagger(settings)  # meanwhile (nothing is measured yet)
    tagger.tag(["加载模型"])
    print(f"server: {server.base} (pid {server.process.pid}) ready in {server.wait_ready(token):.0f} s", flush=True)

    # --- in-process objects, loaded while nothing is measured (the search indexes after the server
    # has built and saved them)
    tag_lock = ModelLock()  # the server's Services.tag_lock
    synced = SyncedSearch(settings, embed_lock=tag_lock)
    synced.service()
    bare = context.search_service(settings, refresh=False)

    # --- inputs
    _, dev = train_dev(load_examples())
    base_texts = [e.text for e in dev]
    queries = [json.loads(line)["text"] for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.quick:
        queries = queries[:search_n]

    def tag_inputs(tag: str, n: int) -> list[str]:
        return [f"{base_texts[i % len(base_texts)]}（{tag}-{i}）" for i in range(n)]

    def local_tag(text: str) -> None:
        with tag_lock:
            results = tagger.tag([text])
        [r.as_json(i + 1) for i, r in enumerate(results)]

    def http_tag(client: httpx.Client, text: str) -> None:
        if len(expect(client.post("/api/tag", json={"texts": [text]})).json()) != 1:
            raise RuntimeError("wrong number of results")

    teams = {DEMO_TEAM}

    def local_search(query: str) -> None:
        synced.search(query, 10, SearchFilters(), teams, "all", "hybrid")

    def bare_search(query: str) -> None:
        bare.search(query, 10, SearchFilters(), teams, "all", "hybrid")

    def http_search(client: httpx.Client, query: str) -> None:
        if "hits" not in expect(client.get("/api/search", params={"q": query, "k": 10})).json():
            raise RuntimeError("no hits field")

    def http_me(client: httpx.Client, _item) -> None:
        expect(client.get("/api/me"))

    def local(label: str, call, items: list, level: int) -> LevelResult:
        return run_level(label, local_worker(call), items, level, cap, stop)

    def http(label: str, request, items: list, level: int, seconds: float = cap) -> LevelResult:
        return run_level(label, http_worker(server.base, token, request), items, level, seconds, stop,
                         server_pid=server.process.pid)

    # --- warm-up (not measured): models loaded, connections, query vectors cached on both sides
    warm = tag_inputs("预热", 8)
    local("warm", local_tag, warm, 1)
    http("warm", http_tag, warm, 2, 600)
    local("warm", local_search, queries, 1)
    http("warm", http_search, queries, 2, 600)

    # --- 1. tagging
    header(f"POST /api/tag — 1 text per request, up to {tag_n} requests or {cap:.0f} s per level")
    for level in LEVELS:
        texts = tag_inputs(f"c{level}", tag_n)  # same texts both sides; each side has its own cache
        baseline = local("in-process tagger+lock", local_tag, texts, level)
        row(baseline)
        row(http("HTTP /api/tag", http_tag, texts, level), baseline)

    # --- 2. search
    header(f"GET /api/search?q=…&k=10 — up to {search_n} requests or {cap:.0f} s per level")
    items = [queries[i % len(queries)] for i in range(search_n)]
    row(local("SearchService (bare)", bare_search, items, 1))
    for level in LEVELS:
        baseline = local("in-process SyncedSearch", local_search, items, level)
        row(baseline)
        row(http("HTTP /api/search", http_search, items, level), baseline)
    print("floor — GET /api/me (token lookup + ASGI, no work):")
    for level in (1, 16):
        row(http("HTTP /api/me", http_me, [None] * search_n, level))

    # --- 3. upload to tagged
    pool = statement_pool()
    pdfs = []
    for run_no in range(uploads + (0 if args.quick else 1)):  # the extra one: the probe run below
        path = temp / f"党组会议记录_{run_no + 1}.pdf"
        build_pdf(path, run_no, pool)
        pdfs.append(path)
    ingestor = context.ingestor(settings, tag=True)  # same tagger (own cache) as the baselines above
    inspection_id = demo.inspection_id
    print(f"\n== upload → tagged: {PAGES}-page text PDF (party-group minutes), {uploads} run(s), different text each run")
    print("   total = start of POST … job done (polled every 50 ms); queued/server = the job's own timestamps")
    print(f"{'run':>6} {'KB':>4} {'pages':>5} {'findings':>8} {'POST ms':>7} {'queued s':>8} {'server s':>8} "
          f"{'total s':>7} {'pages/s':>7} | {'in-process s':>12} {'pages/s':>7} {'findings':>8} | {'HTTP/in-proc':>12}")
    totals, locals_, rates = [], [], []
    client = httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {token}"}, timeout=300)

    def upload(path: Path) -> tuple[float, float, dict] | None:
        data = path.read_bytes()
        start = time.perf_counter()
        response = expect(client.post(f"/api/inspections/{inspection_id}/documents",
                                      files=[("files", (path.name, data, "application/pdf"))]))
        posted = time.perf_counter() - start
        job_id = response.json()["id"]
        while not stop.is_set():
            job = expect(client.get(f"/api/jobs/{job_id}")).json()
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.05)
        else:
            return None
        total = time.perf_counter() - start
        entry = job["files"][0]
        if job["status"] != "done" or entry.get("status") != "added":
            print(f"{path.name}: job {job['status']}: {entry.get('status')} {entry.get('code')} {entry.get('message')}")
            return None
        return posted, total, job

    with client:
        for run_no, path in enumerate(pdfs[:uploads], 1):
            if stop.is_set():
                break
            result = upload(path)
            if result is None:
                continue
            posted, total, job = result
            entry = job["files"][0]
            queued, processing = job_seconds(job)
            t = time.perf_counter()
            baseline = ingestor.ingest_path(path, baseline_inspection)
            local_s = time.perf_counter() - t
            if baseline.status != "added":
                print(f"{run_no:6d} in-process ingest: {baseline.status} {baseline.message}")
                continue
            totals.append(total)
            locals_.append(local_s)
            rates.append(entry["pages"] / total)
            print(f"{run_no:6d} {path.stat().st_size / 1024:4.0f} {entry['pages']:5d} {entry['findings']:8d} "
                  f"{posted * 1000:7.0f} {queued:8.2f} {processing:8.2f} {total:7.2f} {entry['pages'] / total:7.2f} | "
                  f"{local_s:12.2f} {baseline.pages / local_s:7.2f} {baseline.findings:8d} | {total / local_s:11.2f}×",
                  flush=True)
        if totals:
            print(f"{'median':>6} {'':>4} {'':>5} {'':>8} {'':>7} {'':>8} {'':>8} {statistics.median(totals):7.2f} "
                  f"{statistics.median(rates):7.2f} | {statistics.median(locals_):12.2f} "
                  f"{PAGES / statistics.median(locals_):7.2f} {'':>8} | "
                  f"{statistics.median(totals) / statistics.median(locals_):11.2f}×")

        # --- 4. what other users see while a document is being ingested (not in --quick)
        if len(pdfs) > uploads and not stop.is_set():
            probes: dict[str, LevelResult] = {}
            done = threading.Event()

            def probe(label: str, request, items: list) -> None:
                probes[label] = run_level(label, http_worker(server.base, token, request), items, 1, 600, done)

            tag_items = tag_inputs("probe", 10_000)
            threads = [threading.Thread(target=probe, args=("HTTP /api/tag", http_tag, tag_items), daemon=True),
                       threading.Thread(target=probe, args=("HTTP /api/search", http_search, items * 50),
                                        daemon=True)]
            for thread in threads:
                thread.start()
            try:
                time.sleep(1.0)
                result = upload(pdfs[uploads])
            finally:
                done.set()
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)
            if result is not None:
                print(f"\n== while another {PAGES}-page PDF is uploaded and ingested ({result[1]:.1f} s, "
                      f"{result[2]['files'][0]['findings']} findings): one client each, back to back")
                header("probes")
                for label in ("HTTP /api/tag", "HTTP /api/search"):
                    if label in probes:
                        row(probes[label], cpu=False)

if __name__ == "__main__":
    main()
