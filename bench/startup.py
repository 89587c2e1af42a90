"""Start-up times of the CLI and of ``xuncha serve`` (issue 11: --help ≤ 1 s, light commands ≤ 2 s,
the login page and /api/me within 5 s of ``xuncha serve``).

    python bench/startup.py [--runs 3] [--wait-demo] [--no-serve]

Every figure is wall-clock time of a fresh process on a fresh data directory (XUNCHA_HOME in a
temporary directory), median of ``--runs``; the load average is printed beside them because the
absolute times on a shared 2-core machine move with it. For ``xuncha serve`` it prints the time
until the port answers the login page, until ``/api/me`` answers the admin's session, then the
background preparation (``/api/startup``): search index ready and, with ``--wait-demo``, the demo
import done (minutes: the demo material is OCR'd and tagged); then the same for a second start on
that data directory.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
XUNCHA = ROOT / ".venv" / "bin" / "xuncha"
PASSWORD = "bench-startup-1"
COMMANDS = [["--help"], ["docs", "list"], ["inspections", "list"], ["users", "list"]]
GOALS = {"--help": 1.0, "docs list": 2.0, "inspections list": 2.0, "users list": 2.0}


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, XUNCHA_HOME=str(home), XUNCHA_ADMIN_PASSWORD=PASSWORD, COLUMNS="100")
    env.pop("XUNCHA_DATABASE_URL", None)
    return env


def _command() -> list[str]:
    return [str(XUNCHA)] if XUNCHA.exists() else [sys.executable, "-m", "service.cli"]


def time_command(arguments: list[str], home: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(_command() + arguments, env=_env(home), capture_output=True, timeout=300)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"xuncha {' '.join(arguments)} failed: {done.stderr.decode(errors='replace')[-500:]}")
    return seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def time_serve(home: Path, wait_demo: bool, timeout: float = 900) -> dict[str, float | str]:
    """Seconds from starting ``xuncha serve`` until each milestone."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = subprocess.Popen(_command() + ["serve", "--port", str(port)], env=_env(home),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    found: dict[str, float | str] = {}
    try:
        client = httpx.Client(base_url=base, timeout=30)
        while "login page" not in found:
            if process.poll() is not None:
                raise SystemExit(f"xuncha serve exited with {process.returncode}")
            try:
                if client.get("/login").status_code == 200:
                    found["login page"] = time.perf_counter() - started
            except httpx.TransportError:
                time.sleep(0.05)
        login = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
        login.raise_for_status()
        if client.get("/api/me").status_code == 200:
            found["/api/me (logged in)"] = time.perf_counter() - started
        status = client.get("/api/startup").json()
        found["demo files done when /api/me answered"] = f"{status['demo']['done']}/{status['demo']['total']}"
        search = client.get("/api/search", params={"q": "公务接待超标准"}).json()
        found["search answer meanwhile"] = search.get("message") or f"{len(search['hits'])} 条结果"
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            status = client.get("/api/startup").json()
            if status["index"]["state"] in ("ready", "failed") and "index" not in found:
                found["index"] = time.perf_counter() - started
                found["index state"] = status["index"]["label"]
                if not wait_demo:
                    break
            if status["ready"]:
                found["demo import done"] = time.perf_counter() - started
                found["demo files added"] = status["demo"]["added"]
                break
            time.sleep(0.5)
        return found
    finally:
        stop(process)


def stop(process: subprocess.Popen, wait: float = 60) -> None:
    """Stop a server started in its own session as Ctrl+C would, killing it if it does not end."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(wait)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per CLI command (median reported)")
    parser.add_argument("--wait-demo", action="store_true", help="also wait until the demo import is done")
    parser.add_argument("--no-serve", action="store_true", help="only the CLI commands")
    args = parser.parse_args(argv)
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory(prefix="xuncha-startup-") as tmp:
        home = Path(tmp) / "home"
        time_command(["docs", "list"], home)  # create and migrate the database once, outside the timings
        print(f"{'command':<22} {'median s':>9} {'min s':>7} {'goal s':>7}")
        for arguments in COMMANDS:
            times = [time_command(arguments, home) for _ in range(args.runs)]
            name = " ".join(arguments)
            print(f"xuncha {name:<15} {statistics.median(times):>9.2f} {min(times):>7.2f} {GOALS[name]:>7.1f}")
        if not args.no_serve:
            serve_home = Path(tmp) / "serve-home"  # fresh: the first start, demo import included
            print("xuncha serve (fresh data directory; goal: login page and /api/me ≤ 5 s)")
            for name, value in time_serve(serve_home, args.wait_demo).items():
                print(f"  {name:<40} {value:.2f} s" if isinstance(value, float) else f"  {name:<40} {value}")
            print("xuncha serve again on the same data directory (database migrated, admin exists)")
            for name, value in time_serve(serve_home, False).items():
                if name in ("login page", "/api/me (logged in)", "index"):
                    print(f"  {name:<40} {value:.2f} s")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
