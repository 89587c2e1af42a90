"""Scale benchmark (issue 12): documents/s with 1 and 2 ingestion workers, and queue-to-start
latency, on SQLite + in-process threads vs PostgreSQL + Redis + ``xuncha worker`` processes.

    .venv/bin/python bench/scale.py                 # 30 documents per configuration, tagged (~8–10 min on 2 shared cores)
    .venv/bin/python bench/scale.py --docs 12 --no-tag
    .venv/bin/python bench/scale.py --only sqlite   # or --only postgresql
    .venv/bin/python bench/scale.py --keep          # keep the temp dir (process logs, data)

Every configuration starts from nothing, the way the scale tests start their processes
(``tests/service/scale/cluster.py``): a fresh data directory, a fresh database (SQLite file; or a
new database on a throwaway PostgreSQL cluster, ``initdb``/``pg_ctl`` as in ``tests/pg_fixtures.py``,
or ``XUNCHA_TEST_DATABASE_URL``), a flushed Redis database (``redis-server`` as in
``tests/redis_fixtures.py``, or ``XUNCHA_TEST_BROKER_URL``), and a private models directory (the
trained tagger of ``models/`` symlinked, with a copy of its embedding cache so the shipped cases'
vectors need not be computed again; every document text carries a mark of its own run and
configuration, so none is served from a cache). One ``xuncha serve --no-demo`` takes the uploads:

- SQLite + in-process: the API process ingests with ``XUNCHA_JOB_WORKERS`` = 1 or 2 threads;
- PostgreSQL + Redis: ``XUNCHA_BROKER_URL`` set, the API only stages and enqueues; 1 or 2
  ``xuncha worker --concurrency 1`` processes (own data directories, the uploads in a shared store).

Measured per configuration, after a warm-up document per worker (model loading is not ingestion):

1. **documents/s**: ``--docs`` petitions (written by ``cluster.document``: TXT, every third DOCX,
   ~8 findings each) uploaded at once in requests of up to 15 files; N / (last file finished − first
   file queued), from the ``job_files`` timestamps the ingesting processes wrote.
2. **queue→start under load**: started − queued of those files (p50 / max): waiting behind the backlog.
3. **queue→start idle**: 5 single-file uploads, each after the previous one finished: the dispatch
   latency alone (a thread woken in-process vs a task through the broker to a worker).

The machine may be shared: the load average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "service" / "scale")]

from cluster import (document, environment, prepare_database, start_api, start_worker,  # noqa: E402
                     wait_ready, wait_worker)
from sqlalchemy import create_engine, text  # noqa: E402

BATCH = 15
IDLE_PROBES = 5


def _bench_service():
    """bench/service.py (its machine line and private models directory), loaded by path: as a
    module it would be called ``service`` like the application package."""
    spec = importlib.util.spec_from_file_location("bench_service", ROOT / "bench" / "service.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _utc(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _files(database_url: str, job_ids: list[str]) -> list[tuple[datetime, datetime, datetime, str]]:
    """(queued, started, finished, status) of the files of ``job_ids``."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as db:
            rows = db.execute(text("select job_id, queued_at, started_at, finished_at, status from job_files")).all()
    finally:
        engine.dispose()
    wanted = set(job_ids)
    return [(_utc(q), _utc(s), _utc(f), status) for job, q, s, f, status in rows if job in wanted]


def _upload(client: httpx.Client, round_id: int, numbers: list[int], mark: str) -> str:
    answer = client.post(f"/api/inspections/{round_id}/documents",
                         files=[("files", document(n, mark)) for n in numbers])
    answer.raise_for_status()
    return answer.json()["id"]


def _wait(client: httpx.Client, job_ids: list[str], timeout: float = 1800) -> None:
    deadline = time.monotonic() + timeout
    for job_id in job_ids:
        while True:
            job = client.get(f"/api/jobs/{job_id}").json()
            if job["status"] not in ("queued", "running"):
                if job["status"] != "done":
                    raise RuntimeError(f"job {job_id} ended {job['status']}: {job.get('error')}")
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"job {job_id} still {job['status']} after {timeout:.0f} s")
            time.sleep(0.1)


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def run_configuration(label: str, workers: int, temp: Path, docs: int, offset: int, tag: bool,
                      database_url: str | None, broker_url: str | None, private_models) -> dict:
    directory = temp / label.replace(" ", "-").replace("+", "")
    directory.mkdir(parents=True)
    # the shipped cases' vectors come from a copy of models/'s cache (the index builds in seconds);
    # the documents carry this run's own mark, so none of their texts is in any cache
    models = private_models(directory / "models", cache_from=ROOT / "models" / "embedding-cache.sqlite")
    mark = f"编号{int(time.time()) % 100000:05d}{offset // 1000}"
    settings = {"models_dir": str(models), "tag_on_ingest": str(tag).lower(),
                "job_workers": str(workers)}
    if broker_url:
        settings.update(broker_url=broker_url, store_dir=str(directory / "store"))
    token, (round_id,) = prepare_database(directory / "home-api", database_url)
    processes = []
    try:
        api = start_api("api", environment(directory / "home-api", database_url, **settings), directory)
        processes.append(api)
        if broker_url:
            for number in range(workers):
                processes.append(start_worker(f"worker-{number + 1}", environment(
                    directory / f"home-worker-{number + 1}", database_url, **settings), directory, "--concurrency", "1"))
            for worker in processes[1:]:
                wait_worker(worker)
        wait_ready(api, token, timeout=600)
        url = database_url or f"sqlite:///{directory / 'home-api' / 'xuncha.db'}"
        with httpx.Client(base_url=api.base, headers={"Authorization": f"Bearer {token}"}, timeout=300) as client:
            _wait(client, [_upload(client, round_id, [offset + 900 + n], mark) for n in range(workers)])  # warm-up
            numbers = [offset + n for n in range(docs)]
            jobs = [_upload(client, round_id, numbers[start:start + BATCH], mark) for start in range(0, docs, BATCH)]
            _wait(client, jobs)
            loaded = _files(url, jobs)
            idle_jobs = []
            for n in range(IDLE_PROBES):
                idle_jobs.append(_upload(client, round_id, [offset + 950 + n], mark))
                _wait(client, idle_jobs[-1:])
            idle = _files(url, idle_jobs)
        failed = [status for *_, status in loaded + idle if status != "added"]
        if failed:
            raise RuntimeError(f"{label}: files not added: {failed}")
        span = (max(f for _, _, f, _ in loaded) - min(q for q, _, _, _ in loaded)).total_seconds()
        waits = [(s - q).total_seconds() for q, s, _, _ in loaded]
        idles = [(s - q).total_seconds() for q, s, _, _ in idle]
        return {"label": label, "workers": workers, "docs": len(loaded), "seconds": span, "rate": len(loaded) / span,
                "load_p50": _pct(waits, 0.5), "load_max": max(waits), "idle_p50": _pct(idles, 0.5),
                "idle_max": max(idles)}
    except BaseException:
        for process in processes:
            print(process.log_tail(20), file=sys.stderr)
        raise
    finally:
        for process in processes:
            process.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=30, help="documents per configuration (default 30)")
    parser.add_argument("--no-tag", action="store_true", help="ingest without tagging (XUNCHA_TAG_ON_INGEST=false)")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one backend only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    bench_service = _bench_service()
    bench_service.machine()
    print(f"{args.docs} documents per configuration, {'untagged' if args.no_tag else 'tagged'}; "
          "each configuration starts from an empty data directory and database; no document text is in a cache")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    started = time.perf_counter()
    temp = Path(tempfile.mkdtemp(prefix="xuncha-bench-scale-"))
    results = []
    try:
        with ExitStack() as stack:
            plans = []
            if args.only in (None, "sqlite"):
                plans += [("SQLite + in-process", w, lambda: (None, None)) for w in (1, 2)]
            if args.only in (None, "postgresql"):
                import pg_fixtures
                import redis_fixtures

                servers = {}

                def backends():
                    if not servers:
                        servers["pg"] = os.environ.get(pg_fixtures.ENV_URL) or stack.enter_context(
                            pg_fixtures.local_server())
                        servers["redis"] = (os.environ.get(redis_fixtures.ENV_URL)
                                            or stack.enter_context(redis_fixtures.local_server())).rstrip("/")
                        servers["n"] = 0
                    servers["n"] += 1
                    database = stack.enter_context(pg_fixtures.fresh_database(servers["pg"]))
                    broker = f"{servers['redis']}/{servers['n']}"
                    redis_fixtures._client(broker).flushdb()
                    return database, broker

                plans += [("PostgreSQL + Redis", w, backends) for w in (1, 2)]
            for number, (label, workers, backend) in enumerate(plans):
                database_url, broker_url = backend()
                print(f"… {label}, {workers} worker(s)", flush=True)
                results.append(run_configuration(f"{label} {workers}", workers, temp, args.docs, number * 1000,
                                                 not args.no_tag, database_url, broker_url,
                                                 bench_service.private_models))
    finally:
        if args.keep:
            print(f"kept: {temp}")
        else:
            shutil.rmtree(temp, ignore_errors=True)
    print()
    print(f"{'configuration':<24} {'workers':>7} {'docs':>5} {'seconds':>8} {'docs/s':>7} {'vs 1':>5}  "
          f"{'queue→start idle p50/max':>24}  {'under load p50/max':>19}")
    base = {}
    for r in results:
        name = r["label"].rsplit(" ", 1)[0]
        base.setdefault(name, r["rate"])
        print(f"{name:<24} {r['workers']:>7} {r['docs']:>5} {r['seconds']:>8.1f} {r['rate']:>7.2f} "
              f"{r['rate'] / base[name]:>4.2f}×  {r['idle_p50']:>11.3f} / {r['idle_max']:.3f} s  "
              f"{r['load_p50']:>8.1f} / {r['load_max']:.1f} s")
    print("load average at end (1/5/15 min): " + " / ".join(f"{x:.2f}" for x in os.getloadavg())
          + f"; total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
