"""What ``xuncha serve`` prepares after its port is open: the search index and the demo import.

The server answers (login page, ``/api/me``) within seconds of start; building the search index
(prior cases, stored findings) and importing the example material into the demo round run in one
background thread, whose progress the app keeps in :class:`StartupState` (``app.state.startup``),
shown by ``GET /api/startup`` and the banner of the web pages. Until the index is ready, search
answers a Chinese "索引建立中" message instead of waiting or failing.

An app without a ``startup`` state (tests, embedders of ``create_app``) counts as ready.

With ``xuncha serve --workers N`` every process runs this preparation (uvicorn calls
:func:`served_app` in each), and what must happen once is guarded by a lock that holds across
processes (:class:`ProcessLock`): the demo import by one lock for the whole database (a PostgreSQL
advisory lock, seen by every host; on SQLite a lock file beside the database file), the first build
of the replica files by one lock per data directory (the files and the vector cache live there), so
the later processes load what the first one wrote instead of embedding everything again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)
PLAN_ENV = "XUNCHA_SERVE_PLAN"
"""How ``xuncha serve --workers N`` hands its demo plan (JSON: round id and files) to each process."""
STOP_WAIT_SECONDS = 120
"""At shutdown, how long the file being imported may take to finish (native code must not die mid-call)."""
FOLLOW_SECONDS = 1.0
"""How often a process that waits for another one's demo import reads its progress."""

INDEX_BUILDING = "检索索引建立中，请稍后再试（进度见“巡察轮次”首页）"
INDEX_FAILED = "检索索引建立失败，请查看服务日志或重启服务"
INDEX_LABELS = {"pending": "等待建立", "building": "建立中", "ready": "已就绪", "failed": "建立失败"}
DEMO_LABELS = {"off": "不导入", "pending": "等待导入", "running": "导入中", "done": "已导入", "failed": "导入失败"}


@dataclass
class StartupState:
    """Progress of the background preparation (updated by one thread, read by requests)."""

    demo: str = "off"  # off | pending | running | done | failed
    demo_total: int = 0
    demo_done: int = 0
    demo_added: int = 0
    index: str = "pending"  # pending | building | ready | failed
    started_at: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, **values) -> None:
        with self._lock:
            for name, value in values.items():
                setattr(self, name, value)

    @property
    def index_ready(self) -> bool:
        return self.index == "ready"

    @property
    def finished(self) -> bool:
        return self.index in ("ready", "failed") and self.demo in ("off", "done", "failed")

    def message(self) -> str | None:
        """The banner text, e.g. "示例数据导入中 3/12；检索索引已就绪"; None when all is done."""
        with self._lock:
            parts = []
            if self.demo == "running":
                parts.append(f"示例数据导入中 {self.demo_done}/{self.demo_total}")
            elif self.demo == "pending":
                parts.append(f"示例数据等待导入（共 {self.demo_total} 份）")
            elif self.demo == "failed":
                parts.append(f"示例数据导入失败（已完成 {self.demo_done}/{self.demo_total}）")
            if self.index != "ready" or parts:
                parts.append(f"检索索引{INDEX_LABELS[self.index]}")
        return "；".join(parts) or None

    def as_json(self) -> dict:
        message = self.message()
        with self._lock:
            return {
                "ready": self.finished,
                "index": {"state": self.index, "label": INDEX_LABELS[self.index]},
                "demo": {"state": self.demo, "label": DEMO_LABELS[self.demo], "done": self.demo_done,
                         "total": self.demo_total, "added": self.demo_added},
                "message": message,
                "seconds": round(time.monotonic() - self.started_at, 1),
            }


def state_of(app) -> StartupState | None:
    """The app's startup state, or None (an app that prepared nothing in the background)."""
    return getattr(app.state, "startup", None)


def index_message(app) -> str | None:
    """None when search can run; otherwise the Chinese reason it cannot yet."""
    state = state_of(app)
    if state is None or state.index_ready:
        return None
    return INDEX_FAILED if state.index == "failed" else INDEX_BUILDING


class ProcessLock:
    """A lock between processes, held until :meth:`release` or the process ends (also when killed).

    ``scope="database"``: one lock for every process using the database, on any host: a PostgreSQL
    session advisory lock on a connection of its own; on SQLite (one host by nature) an ``flock`` on
    a file beside the database file. ``scope="home"``: an ``flock`` in the data directory (for what
    lives there: replica files, the vector cache)."""

    def __init__(self, settings, name: str, scope: str = "database") -> None:
        self.settings, self.name, self.scope = settings, name, scope
        self._connection = None
        self._file = None

    @property
    def key(self) -> int:
        """The advisory lock key of ``name`` (signed 64-bit, stable across processes and versions)."""
        return int.from_bytes(hashlib.sha256(f"xuncha:{self.name}".encode()).digest()[:8], "big", signed=True)

    def _path(self) -> Path:
        url = self.settings.db_url
        if self.scope == "database" and url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            database = Path(url.removeprefix("sqlite:///"))
            return database.with_name(f".{database.name}.{self.name}.lock")
        return Path(self.settings.home) / f".{self.name}.lock"

    def acquire(self, blocking: bool = True) -> bool:
        if self._connection is not None or self._file is not None:
            raise RuntimeError(f"lock {self.name} is already held by this object")
        if self.scope == "database":
            from service import context

            engine = context.repository(self.settings).engine
            if engine.dialect.name == "postgresql":
                connection = engine.connect()
                try:
                    query = "SELECT pg_advisory_lock(%s)" if blocking else "SELECT pg_try_advisory_lock(%s)"
                    granted = connection.exec_driver_sql(query, (self.key,)).scalar()
                    connection.commit()  # a session lock: it outlives the transaction, which must not idle open
                except BaseException:
                    connection.close()
                    raise
                if granted is False:
                    connection.close()
                    return False
                self._connection = connection
                return True
        import fcntl

        path = self._path()
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+b")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        except BaseException:
            handle.close()
            raise
        self._file = handle
        return True

    def release(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (self.key,))
                connection.commit()
            finally:
                connection.close()
        if self._file is not None:
            handle, self._file = self._file, None
            handle.close()  # closing the descriptor drops the flock

    def __enter__(self) -> "ProcessLock":
        self.acquire()
        return self

    def __exit__(self, *_exc) -> None:
        self.release()


@dataclass
class Preparation:
    """The background work of ``xuncha serve`` for one app."""

    app: object  # the FastAPI app (its ``state.services``)
    state: StartupState
    demo_files: list[Path] = field(default_factory=list)
    demo_inspection_id: int | None = None
    report: Callable[[str], None] = lambda message: None
    """Tells the operator's console about finished steps (Chinese)."""

    def run(self, started: Callable[[], bool] = lambda: True, stopping: Callable[[], bool] = lambda: False) -> None:
        """Wait for the server (``started``), then build the index and import the demo material;
        ``stopping`` ends the import between files when the server shuts down."""
        while not started():
            if stopping():
                return
            time.sleep(0.05)
        from service.security import credentials

        credentials.warm_up()  # the dummy hash that keeps failed logins constant-time
        services = self.app.state.services
        self._build_index(services)
        if self.demo_files and self.demo_inspection_id is not None and not stopping():
            self._import_demo(services, stopping)

    def start(self, started: Callable[[], bool] = lambda: True,
              stopping: Callable[[], bool] = lambda: False) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(started, stopping), name="xuncha-startup", daemon=True)
        thread.start()
        return thread

    def _build_index(self, services) -> None:
        self.state.update(index="building")
        try:
            # One process per data directory builds the replica files first; the others then load
            # them and the vector cache instead of embedding every case and finding again.
            with ProcessLock(services.settings, "index-build", scope="home"):
                search = services.search.service()
            cases = len(search.cases.list_cases())
        except Exception:  # noqa: BLE001 - the server keeps running; search says it failed
            self._failed("building the search index", "检索索引建立失败（详见日志）；其他功能不受影响", index="failed")
            return
        self.state.update(index="ready")
        self.report(f"往届案例库 {cases} 条，检索索引已就绪")

    def _failed(self, step: str, message: str, **state) -> None:
        """Log the exception being handled (never document text: the pipeline's errors carry none),
        mark the step failed and tell the operator."""
        log.exception("%s failed", step)
        self.state.update(**state)
        self.report(message)

    def _demo_ingestor(self, services):
        """An ingestor like ``xuncha demo``'s (no upload limits: the material is ours) whose tagger takes
        the app's tagging lock, as the upload workers' does: requests and imports share one model."""
        from service import context
        from service.api.services import _locked

        ingestor = context.ingestor(services.settings, tag=services.settings.tag_on_ingest)
        if ingestor.tagger is not None:
            ingestor.tagger = _locked(ingestor.tagger, services.tag_lock)
        return ingestor

    def _demo_documents(self, services) -> int:
        return len(services.repository.list_documents(inspection_id=self.demo_inspection_id))

    def _import_demo(self, services, stopping: Callable[[], bool]) -> None:
        """Import the demo files, in one process at a time: the others show that one's progress
        (documents in the demo round) until its lock is free, then go over the files themselves,
        which costs a duplicate check each when it finished and completes its work when it died."""
        total = len(self.demo_files)
        self.state.update(demo="running", demo_total=total, demo_done=0, demo_added=0)
        lock = ProcessLock(services.settings, "demo-import")
        try:
            while not lock.acquire(blocking=False):
                if stopping():
                    self.state.update(demo="failed")
                    return
                self.state.update(demo_done=min(total, self._demo_documents(services)))
                time.sleep(FOLLOW_SECONDS)
        except Exception:  # noqa: BLE001 - e.g. the database went away: the server keeps running
            self._failed("waiting for the demo import", "示例材料导入失败（详见日志）；可稍后运行 xuncha demo 重新导入",
                         demo="failed")
            return
        try:
            self.state.update(demo_done=0)
            ingestor = self._demo_ingestor(services)
            for path in self.demo_files:
                if stopping():
                    self.state.update(demo="failed")
                    return
                result = ingestor.ingest_path(path, self.demo_inspection_id)
                self.state.update(demo_done=self.state.demo_done + 1,
                                  demo_added=self.state.demo_added + (result.status == "added"))
        except Exception:  # noqa: BLE001 - as above: the server keeps running
            self._failed("importing the demo material", "示例材料导入失败（详见日志）；可稍后运行 xuncha demo 重新导入",
                         demo="failed")
            return
        finally:
            lock.release()
        self.state.update(demo="done")
        if self.state.demo_added:
            self.report(f"已将 {self.state.demo_added} 份示例材料导入示例巡察轮次")
        if self.state.index_ready and not stopping():
            try:  # index the demo findings now rather than in the next search request
                services.search.service()
            except Exception:  # noqa: BLE001
                log.exception("syncing the search index after the demo import failed")


def run_in_lifespan(app, preparation: Preparation) -> None:
    """Start ``preparation`` when ``app`` starts serving and stop it (between files, waiting up to
    STOP_WAIT_SECONDS for the one being imported) when it shuts down: how the processes of
    ``xuncha serve --workers N`` run it, where no code of ours surrounds uvicorn's server."""
    import asyncio

    from starlette.concurrency import run_in_threadpool

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served):
        async with inner(served) as value:
            started, stopping = threading.Event(), threading.Event()
            asyncio.get_running_loop().call_soon(started.set)  # once startup is over: the socket is open
            thread = preparation.start(started=started.is_set, stopping=stopping.is_set)
            try:
                yield value
            finally:
                stopping.set()
                await run_in_threadpool(thread.join, STOP_WAIT_SECONDS)

    app.router.lifespan_context = lifespan


def demo_plan_json(inspection_id: int | None, files: list[Path]) -> str:
    return json.dumps({"demo_inspection": inspection_id, "demo_files": [str(path) for path in files]})


def served_app():
    """The app of one ``xuncha serve --workers N`` process (uvicorn's import-string factory,
    ``service.startup:served_app``): the API with its background preparation; the demo plan comes
    from the parent in :data:`PLAN_ENV` (the parent already migrated the database and made the admin)."""
    from service.api.app import create_app
    from service.settings import get_settings

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    plan = json.loads(os.environ.get(PLAN_ENV) or "{}")
    files = [Path(path) for path in plan.get("demo_files") or []]
    inspection_id = plan.get("demo_inspection")
    app = create_app(get_settings())
    state = StartupState()
    if files and inspection_id is not None:
        state.update(demo="pending", demo_total=len(files))
    app.state.startup = state
    pid = os.getpid()
    run_in_lifespan(app, Preparation(app, state, files if inspection_id is not None else [], inspection_id,
                                     report=lambda message: print(f"[进程 {pid}] {message}", flush=True)))
    return app
