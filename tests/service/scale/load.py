"""The load of the multi-process tests: uploads spread over several API processes while searches
run on all of them, each finished job's findings looked for on every process, and the checks on
the database afterwards (each document stored once, each finding indexed once, audit complete).

Not a conftest.py; the tests import from here.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from sqlalchemy import create_engine, text

from cluster import TEAM, Process, document

SEARCHES = ["村干部把工程交给亲属的公司没有招标", "接受施工方宴请吃喝费用报销", "补贴名单不符合条件优亲厚友",
            "集体土地私下出租租金没有入账"]
VISIBLE_WITHIN = 2.0
"""Seconds after its job finished by which a finding must be found on every API process."""


@dataclass
class Outcome:
    requests: Counter = field(default_factory=Counter)
    """Audited requests this client made, by audit action (all answered 200/202)."""
    lag: dict[tuple[int, str], float] = field(default_factory=dict)
    """(finding id, server) -> seconds from its job's finish to the start of the first search on that
    server that found it (the searches are sent as soon as the job is seen done)."""
    answered: dict[tuple[int, str], float] = field(default_factory=dict)
    """The same to the end of that search (what a user waits, queueing in a busy server included)."""
    jobs: dict[str, dict] = field(default_factory=dict)
    background_searches: int = 0
    search_seconds: list[float] = field(default_factory=list)
    misses: int = 0
    """Searches for a finding that did not find it yet (it was found by a later one)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def summary(self) -> str:
        """One line for the test output (pytest -s) and the bench."""
        def pct(values: list[float], q: float) -> float:
            values = sorted(values)
            return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")

        return (f"{len(self.jobs)} jobs, {len(self.lag)} finding×server checks, misses {self.misses}; "
                f"search sent after job done p50/max {pct(list(self.lag.values()), 0.5):.2f}/"
                f"{max(self.lag.values(), default=0):.2f} s, answered p50/max "
                f"{pct(list(self.answered.values()), 0.5):.2f}/{max(self.answered.values(), default=0):.2f} s; "
                f"{len(self.search_seconds)} searches p50/p95 {pct(self.search_seconds, 0.5):.2f}/"
                f"{pct(self.search_seconds, 0.95):.2f} s")

    def count(self, action: str) -> None:
        with self._lock:
            self.requests[action] += 1


def _finished_at(job: dict) -> float:
    value = datetime.fromisoformat(job["finished_at"].replace("Z", "+00:00"))
    return value.timestamp()


def _get(client: httpx.Client, outcome: Outcome, action: str, url: str, **params) -> dict | list:
    answer = client.get(url, params=params or None)
    outcome.count(action)
    assert answer.status_code == 200, f"{url}: {answer.status_code} {answer.text[:300]}"
    return answer.json()


def exercise(servers: list[Process], token: str, round_id: int, uploads: int, timeout: float = 150,
             during: callable = None) -> Outcome:
    """Upload ``uploads`` documents (one job each) round-robin to ``servers`` from 4 threads while
    2 threads search on every server; for each job, once another server reports it done, search
    each of its findings by its text on every server until found. ``during(outcome)`` runs in its
    own thread meanwhile (e.g. to kill a worker)."""
    outcome = Outcome()
    headers = {"Authorization": f"Bearer {token}"}
    clients = threading.local()
    stop = threading.Event()
    # made beforehand: an httpx.Client takes ~0.1 s of CPU to build (its TLS context), which on busy
    # cores delayed the first searches of a finished job by seconds
    shared = {server.base: httpx.Client(base_url=server.base, headers=headers, timeout=60,
                                        limits=httpx.Limits(max_connections=200)) for server in servers}
    deadline = time.monotonic() + timeout

    def client(server: Process) -> httpx.Client:
        cache = getattr(clients, "by_base", None)
        if cache is None:
            cache = clients.by_base = {}
        if server.base not in cache:
            cache[server.base] = httpx.Client(base_url=server.base, headers=headers, timeout=60)
        return cache[server.base]

    def search(server: Process, query: str, k: int = 10) -> list[dict]:
        began = time.monotonic()
        hits = _get(client(server), outcome, "search", "/api/search", q=query[:500], collection="findings",
                    inspection_id=round_id, k=k)["hits"]
        with outcome._lock:
            outcome.search_seconds.append(time.monotonic() - began)
        return hits

    def background() -> None:
        for n in itertools.count():
            if stop.is_set():
                return
            search(servers[n % len(servers)], SEARCHES[n % len(SEARCHES)])
            with outcome._lock:
                outcome.background_searches += 1

    def upload(n: int) -> None:
        name, data = document(n)
        server = servers[n % len(servers)]
        answer = client(server).post(f"/api/inspections/{round_id}/documents", files=[("files", (name, data))])
        outcome.count("documents.upload")
        assert answer.status_code == 202, answer.text
        follow(answer.json()["id"], servers[(n + 1) % len(servers)])

    def follow(job_id: str, server: Process) -> None:
        """Wait for the job on another server than the one that took the upload, then find its findings."""
        while True:
            job = _get(client(server), outcome, "job.read", f"/api/jobs/{job_id}")
            if job["status"] not in ("queued", "running"):
                break
            assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
            time.sleep(0.1)
        outcome.jobs[job_id] = job
        assert job["status"] == "done" and job["files"][0]["status"] == "added", job
        finished = _finished_at(job)
        findings = _get(client(server), outcome, "findings.read",
                        f"/api/documents/{job['files'][0]['document_id']}/findings")
        assert findings, job
        pairs = [(finding, other) for finding in findings for other in servers]
        with ThreadPoolExecutor(len(pairs)) as pool:  # all asked at once: the lag is the servers', not ours
            for future in [pool.submit(find, finding, other, finished) for finding, other in pairs]:
                future.result()

    def find(finding: dict, server: Process, finished: float) -> None:
        """Search ``finding`` by its text on ``server`` until it is among the hits."""
        own = shared[server.base]
        while True:
            asked = time.time()
            began = time.monotonic()
            hits = _get(own, outcome, "search", "/api/search", q=finding["text"][:500], collection="findings",
                        inspection_id=round_id, k=10)["hits"]
            with outcome._lock:
                outcome.search_seconds.append(time.monotonic() - began)
            if any(hit["id"] == finding["id"] for hit in hits):
                outcome.lag[(finding["id"], server.name)] = max(0.0, asked - finished)
                outcome.answered[(finding["id"], server.name)] = time.time() - finished
                return
            with outcome._lock:
                outcome.misses += 1
            assert time.monotonic() < deadline, f"finding {finding['id']} never found on {server.name}"
            time.sleep(0.1)

    searchers = [threading.Thread(target=background, daemon=True) for _ in range(2)]
    for thread in searchers:
        thread.start()
    extra = threading.Thread(target=during, args=(outcome,), daemon=True) if during else None
    if extra:
        extra.start()
    try:
        with ThreadPoolExecutor(4) as pool:
            for future in [pool.submit(upload, n) for n in range(uploads)]:
                future.result()
    finally:
        stop.set()
        for thread in searchers:
            thread.join(60)
        if extra:
            extra.join(120)
        for own in shared.values():
            own.close()
    return outcome


def check_database(database_url: str, outcome: Outcome, uploads: int) -> dict:
    """Each document stored once, each finding indexed once, every request audited once; returns
    facts for further checks (e.g. which workers ran the files)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as db:
            documents = db.execute(text("select count(*), count(distinct sha256) from documents")).one()
            files = db.execute(text("select status, count(*) from job_files group by status")).all()
            workers = [row[0] for row in db.execute(text("select worker from job_files"))]
            logged = db.execute(text("select item_id, count(*) from index_changes where collection = 'findings' "
                                     "and op = 'add' group by item_id")).all()
            findings = db.execute(text("select count(*) from findings")).scalar()
            audited = Counter({(action, outcome_): n for action, outcome_, n in db.execute(text(
                "select action, outcome, count(*) from audit_log where user_name = '扩展测试员' "
                "group by action, outcome"))})
            teams = {row[0] for row in db.execute(text("select distinct team from job_files"))}
    finally:
        engine.dispose()
    assert tuple(documents) == (uploads, uploads), documents
    assert dict(files) == {"added": uploads}, files
    assert teams == {TEAM}
    assert len(logged) == findings and all(n == 1 for _, n in logged), "a finding was indexed twice"
    expected = Counter({(action, "ok"): n for action, n in outcome.requests.items()})
    assert audited == expected, (audited, expected)
    return {"workers": workers, "findings": findings}
