"""What ``xuncha serve`` prepares after its port is open: the search index and the demo import.

The server answers (login page, ``/api/me``) within seconds of start; building the search index
(prior cases, stored findings) and importing the example material into the demo round run in one
background thread, whose progress the app keeps in :class:`StartupState` (``app.state.startup``),
shown by ``GET /api/startup`` and the banner of the web pages. Until the index is ready, search
answers a Chinese "索引建立中" message instead of waiting or failing.

An app without a ``startup`` state (tests, embedders of ``create_app``) counts as ready.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

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

    def _import_demo(self, services, stopping: Callable[[], bool]) -> None:
        ingestor = self._demo_ingestor(services)
        self.state.update(demo="running", demo_total=len(self.demo_files), demo_done=0, demo_added=0)
        try:
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
        self.state.update(demo="done")
        self.report(f"已将 {self.state.demo_added} 份示例材料导入示例巡察轮次")
        if self.state.index_ready and not stopping():
            try:  # index the demo findings now rather than in the next search request
                services.search.service()
            except Exception:  # noqa: BLE001
                log.exception("syncing the search index after the demo import failed")
