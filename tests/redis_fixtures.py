"""A real Redis server and real ``xuncha worker`` processes for the tests (Debian's ``redis-server``
package, installed by scripts/setup.sh).

``redis_server`` (session): a server's base URL. With ``XUNCHA_TEST_BROKER_URL`` set
(``redis://host:port``) that server is used — its databases 1–15 are flushed by the tests — otherwise
``redis-server`` is started on a free port in a temporary directory (no persistence), stopped and
removed at session end. Skips only when ``redis-server`` is missing.

``redis_url`` (function): ``redis://…/<n>``, a flushed database of that server for one test.

``running_worker(env)``: a ``xuncha worker`` subprocess (``python -m service.cli worker``) with the
test's settings in ``env`` (XUNCHA_* names), started and ready when the block begins, stopped
(SIGTERM, then SIGKILL) when it ends; ``Worker.kill()`` sends SIGKILL to it (its pool processes die
with it) and ``Worker.log()`` reads its output.

Not a conftest.py (see tests/service/api/api_fixtures.py): test modules import the fixtures from here.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ENV_URL = "XUNCHA_TEST_BROKER_URL"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
_databases = itertools.cycle(range(1, 16))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _client(url: str):
    redis = pytest.importorskip("redis", reason="the Redis client (celery[redis]) is not installed")
    return redis.Redis.from_url(url, socket_timeout=5)


@contextmanager
def local_server() -> Iterator[str]:
    """Start a throwaway redis-server; yields ``redis://127.0.0.1:<port>``."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/setup.sh installs Debian's redis-server package)")
    root = Path(tempfile.mkdtemp(prefix="xuncha-redis-"))
    port = _free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(root),
                                "--save", "", "--appendonly", "no", "--daemonize", "no",
                                "--logfile", str(root / "server.log")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root)
    url = f"redis://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if _client(url).ping():
                    break
            except Exception:  # noqa: BLE001 - not listening yet
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (root / "server.log").read_text(errors="replace")[-2000:] if (root / "server.log").exists() else ""
                    raise RuntimeError(f"could not start redis-server: {log}") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    if os.environ.get(ENV_URL):
        yield os.environ[ENV_URL].rstrip("/")
        return
    with local_server() as url:
        yield url


@pytest.fixture
def redis_url(redis_server) -> str:
    base = redis_server.rsplit("/", 1)[0] if redis_server.count("/") > 2 else redis_server
    url = f"{base}/{next(_databases)}"
    _client(url).flushdb()
    return url


@dataclass
class Worker:
    process: subprocess.Popen
    output: Path

    def log(self) -> str:
        return self.output.read_text(errors="replace") if self.output.exists() else ""

    def kill(self) -> None:
        """SIGKILL, as when a machine dies: nothing is acknowledged or cleaned up."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self, timeout: float = 30) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # warm shutdown: running tasks finish first
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()


def worker_env(**settings: str) -> dict[str, str]:
    """The environment of a worker: this one's (PATH, …) without XUNCHA_* values, plus ``settings``
    (names without the XUNCHA_ prefix)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("XUNCHA_")}
    env.update({f"XUNCHA_{name.upper()}": str(value) for name, value in settings.items()})
    return env


@contextmanager
def running_worker(env: dict[str, str], concurrency: int = 1, pool: str = "prefork", ready_timeout: float = 60,
                   name: str = "worker") -> Iterator[Worker]:
    """A ``xuncha worker`` subprocess with ``env`` (see :func:`worker_env`), ready to take tasks."""
    directory = Path(tempfile.mkdtemp(prefix="xuncha-worker-"))
    output = directory / f"{name}.log"
    with output.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "service.cli", "worker", "--concurrency", str(concurrency),
                                    "--pool", pool], cwd=PROJECT_ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    worker = Worker(process, output)
    try:
        deadline = time.monotonic() + ready_timeout
        while " ready." not in worker.log():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"xuncha worker did not start:\n{worker.log()[-3000:]}")
            time.sleep(0.1)
        yield worker
    finally:
        worker.stop()
        shutil.rmtree(directory, ignore_errors=True)
