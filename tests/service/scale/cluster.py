"""A small xuncha cluster of real processes, for the scale tests and ``bench/scale.py``: ``xuncha serve``
and ``xuncha worker`` subprocesses on one database, each in its own session (so one can be stopped
with SIGINT or killed with SIGKILL alone) and logging to its own file; and the documents they ingest,
written here: short petitions (TXT, and every third one DOCX) whose project names, places and people
are made up from lists, so every document is different and every finding can be found by its text.

Not a conftest.py (a second conftest module would shadow tests/conftest.py); import from here.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[3]
TEAM = "扩展测试组"
PASSWORD = "scale-test-pass-1"


def command() -> list[str]:
    script = Path(sys.executable).with_name("xuncha")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from service.cli import app; app()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(home: Path, database_url: str | None = None, **settings: str) -> dict[str, str]:
    """The environment of a cluster process: this one's without any XUNCHA_* variable, plus the data
    directory, the database and ``settings`` (XUNCHA_* names without the prefix, lower case)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")}
    env.update(XUNCHA_HOME=str(home), XUNCHA_OCR="false", XUNCHA_PREPARE_LEADS="false", OMP_NUM_THREADS="1",
               PYTHONUNBUFFERED="1")
    if database_url:
        env["XUNCHA_DATABASE_URL"] = database_url
    env.update({f"XUNCHA_{name.upper()}": str(value) for name, value in settings.items()})
    return env


@dataclass
class Process:
    """One cluster process (``base`` is set for an API server)."""

    name: str
    process: subprocess.Popen
    log_path: Path
    base: str | None = None
    _log: io.BufferedWriter | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        if self._log is not None:
            self._log.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return f"--- {self.name} ({self.log_path}) ---\n" + "\n".join(text[-lines:])

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, wait: float = 30) -> None:
        """SIGINT (graceful: the file being ingested finishes or goes back to the queue), then SIGKILL."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(wait)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """SIGKILL to the whole session (a worker and any child it forked)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(30)


def start(name: str, arguments: list[str], env: dict[str, str], directory: Path, base: str | None = None) -> Process:
    log_path = directory / f"{name}.log"
    log = log_path.open("ab")
    process = subprocess.Popen([*command(), *arguments], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    return Process(name, process, log_path, base, log)


def start_api(name: str, env: dict[str, str], directory: Path, workers: int = 1) -> Process:
    """``xuncha serve --no-demo`` on a free port."""
    port = free_port()
    arguments = ["serve", "--no-demo", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        arguments += ["--workers", str(workers)]
    return start(name, arguments, env, directory, base=f"http://127.0.0.1:{port}")


def start_worker(name: str, env: dict[str, str], directory: Path, *arguments: str) -> Process:
    """``xuncha worker`` (a Celery worker on ``XUNCHA_BROKER_URL``)."""
    return start(name, ["worker", *arguments], env, directory)


def wait_worker(worker: Process, timeout: float = 120) -> float:
    """Seconds until the Celery worker says it is ready to take tasks."""
    started = time.monotonic()
    while " ready." not in worker.log_text():
        if not worker.alive() or time.monotonic() - started > timeout:
            raise RuntimeError(f"{worker.name} did not start\n{worker.log_tail()}")
        time.sleep(0.1)
    return time.monotonic() - started


def wait_up(server: Process, timeout: float = 120) -> float:
    """Seconds until the server answers at all (its login page), the index possibly still building."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited with code {server.process.returncode}\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.base}/login", timeout=5).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} not up after {timeout:.0f} s\n{server.log_tail()}")


def wait_ready(server: Process, token: str, timeout: float = 240) -> float:
    """Seconds until the server answers and its search index is ready (``GET /api/startup``)."""
    started = time.monotonic()
    with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        while time.monotonic() - started < timeout:
            if not server.alive():
                raise RuntimeError(f"{server.name} exited with code {server.process.returncode}\n{server.log_tail()}")
            try:
                answer = client.get("/api/startup")
                if answer.status_code == 200 and answer.json()["index"]["state"] == "ready":
                    return time.monotonic() - started
                if answer.status_code == 200 and answer.json()["index"]["state"] == "failed":
                    raise RuntimeError(f"{server.name}: the search index failed\n{server.log_tail()}")
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise RuntimeError(f"{server.name} not ready after {timeout:.0f} s\n{server.log_tail()}")


def prepare_database(home: Path, database_url: str | None, rounds: int = 1) -> tuple[str, list[int]]:
    """Migrate the database, add a member of :data:`TEAM` and ``rounds`` rounds of it; returns the
    member's API token and the rounds' ids. Runs in this process (then forgets the connection)."""
    from service import context
    from service.security import SecurityStore
    from service.settings import Settings

    settings = Settings(home=home, database_url=database_url)
    repository = context.repository(settings)
    try:
        store = SecurityStore(repository.engine)
        token = store.issue_token(store.add_user("扩展测试员", TEAM, "member", PASSWORD).id, "scale test")
        ids = [repository.ensure_inspection(f"扩展测试第{n + 1}轮", TEAM, f"测试县第{n + 1}单位").id
               for n in range(rounds)]
    finally:
        repository.engine.dispose()
        context._repository.cache_clear()
    return token, ids


# ---------------------------------------------------------------- documents written for the tests

_PLACES = ["东坪", "西岭", "南湾", "北塘", "上河", "下沟", "石桥", "柳林", "杏花", "桃园", "梨树", "松山", "竹溪",
           "枫岭", "青石", "白沙", "黄土", "红岩", "金川", "银滩"]
_SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张"
_GIVEN = ["建国", "立新", "志强", "海波", "春生", "秋菊", "桂兰", "国庆", "卫东", "长青", "振华", "玉梅", "德胜",
          "富贵", "晓峰", "明亮", "红霞", "永福", "金宝", "小军"]
_WORKS = ["水渠", "村道", "桥梁", "堤坝", "蓄水池", "文化广场", "卫生室", "饮水工程", "光伏电站", "养殖场"]
_SUBSIDIES = ["低保", "危房改造", "耕地地力保护", "退耕还林", "养老", "残疾人两项"]
_PLACES_TO_EAT = ["农家乐", "县城酒店", "镇上饭馆", "度假山庄"]


def petition_lines(n: int, mark: str = "") -> list[str]:
    """Petition ``n``: every one different (its own project, place, people, amounts, dates).
    ``mark`` goes into every statement (e.g. a run's own code: texts no cache has seen)."""
    place = _PLACES[n % len(_PLACES)] + ("村" if n % 3 else "社区")
    head = _SURNAMES[n % len(_SURNAMES)] + _GIVEN[(n * 7) % len(_GIVEN)]
    relative = _SURNAMES[(n * 5 + 3) % len(_SURNAMES)] + _GIVEN[(n * 3 + 1) % len(_GIVEN)]
    writer = _SURNAMES[(n * 11 + 2) % len(_SURNAMES)] + _GIVEN[(n * 13 + 5) % len(_GIVEN)]
    work = f"{place}第{n + 1}号{_WORKS[n % len(_WORKS)]}"
    year, month = 2020 + n % 5, 1 + n % 12
    amount = round(12 + (n * 37) % 300 / 3, 1)
    note = f"（{mark}）" if mark else ""
    return [
        "举报信",
        "县委巡察组：",
        f"我反映{place}党支部书记{head}的问题：",
        f"一是{year}年{month}月，{head}把{work}直接交给其亲属{relative}的公司施工，没有招标，工程款{amount}万元{note}；",
        f"二是{head}多次在{_PLACES_TO_EAT[n % len(_PLACES_TO_EAT)]}接受施工方宴请，吃喝费用{n % 9 + 2}千元拿到村里报销{note}；",
        f"三是{_SUBSIDIES[n % len(_SUBSIDIES)]}补贴名单里有{n % 6 + 2}户不符合条件，其中有{head}的亲戚{note}；",
        f"四是{place}集体的{n % 40 + 10}亩土地被{head}私下租给外地老板，租金没有入账{note}。",
        f"举报人：{writer}",
        f"{year}年{month}月{n % 27 + 1}日",
    ]


def document(n: int, mark: str = "") -> tuple[str, bytes]:
    """(file name, content) of petition ``n``: DOCX for every third one, UTF-8 text otherwise."""
    lines = petition_lines(n, mark)
    if n % 3 == 2:
        import docx

        built = docx.Document()
        for line in lines:
            built.add_paragraph(line)
        stream = io.BytesIO()
        built.save(stream)
        return f"举报信{n + 1}.docx", stream.getvalue()
    return f"举报信{n + 1}.txt", "\n".join(lines).encode("utf-8")
