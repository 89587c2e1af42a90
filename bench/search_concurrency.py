"""Search latency at 1 and 20 concurrent clients, in process, through the API's search object.

    python bench/search_concurrency.py [--findings 3000] [--requests 200] [--levels 1,20] [--writer]

Builds a private data directory (temporary; models/ is only read: the trained tagger is linked and
its embedding cache copied), stores ``--findings`` findings (texts of the labelled training set,
never realdev or the seed reports) in documents of 20, then runs the retrieval evaluation queries
through ``service.api.searching.SyncedSearch`` — what ``GET /api/search`` calls, minus HTTP — from
N threads at once, each request a full hybrid search over both collections with the change-log /
fingerprint check the API does before it. Query vectors are warmed first (every query once), so the
figures are the index work and its locking, not e5 encoding a new query.

``--serialise``: one lock around every search (what the API did before), to tell the lock's share
from the rest; ``--compare`` runs each level both ways back to back (``--rounds`` times), which on a
shared machine is the fair comparison.

``--writer``: a thread stores and deletes a document of 20 findings every second while the clients
search (the replica applies each change before the next search); ``--pre-embed`` embeds its findings
first, as the tagger does at ingest, so that applying them finds their vectors in the cache.

Run it against another checkout (e.g. the code before a change) by running that checkout's copy
of this file: it imports the code next to it.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
QUERIES = ROOT / "corpora" / "eval" / "retrieval" / "queries.jsonl"
PER_DOCUMENT = 20

from bench.service import private_models  # noqa: E402  (a models directory of our own: models/ is read only)


def document(texts: list[str], name: str):
    from service.storage.records import NewDocument, NewFinding

    body = "\n".join(texts)
    findings, position = [], 0
    for seq, text in enumerate(texts):
        findings.append(NewFinding(seq=seq, text=text, start=position, end=position + len(text),
                                   source_start=position, source_end=position + len(text), page=1,
                                   speaker=None, role="statement", allegation=None))
        position += len(text) + 1
    return NewDocument(filename=name, sha256=hashlib.sha256(body.encode()).hexdigest(), size=len(body.encode()),
                       media_type="txt", kind="minutes", kind_score=1.0, kind_scores={}, fields={}, pages=1,
                       encoding="utf-8", ocr_pages=[], warnings=[], original_path=f"bench/{name}", text=body,
                       findings=findings)


def level(search, queries: list[str], clients: int, requests: int) -> dict:
    counter, latencies, guard = itertools.count(), [], threading.Lock()
    start_gate = threading.Barrier(clients + 1)

    def client() -> None:
        start_gate.wait()
        while (n := next(counter)) < requests:
            began = time.perf_counter()
            search(queries[n % len(queries)])
            with guard:
                latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    start_gate.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    ordered = sorted(latencies)
    return {"clients": clients, "requests": len(ordered), "per_s": len(ordered) / wall,
            "p50_ms": 1000 * statistics.median(ordered),
            "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            "max_ms": 1000 * ordered[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=200, help="searches per level")
    parser.add_argument("--levels", default="1,20")
    parser.add_argument("--writer", action="store_true", help="store and delete a document every second meanwhile")
    parser.add_argument("--serialise", action="store_true",
                        help="hold one lock around every search, as the API did before the change log (same code otherwise)")
    parser.add_argument("--compare", action="store_true",
                        help="run every level both ways, one lock and as is, one after the other (same index, same load)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the levels this many times")
    parser.add_argument("--pre-embed", action="store_true",
                        help="--writer: embed each document's findings before storing it, as tagging at ingest does")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    temp = Path(tempfile.mkdtemp(prefix="xuncha-search-bench-"))
    os.environ.update(XUNCHA_HOME=str(temp / "home"), XUNCHA_MODELS_DIR=str(private_models(
        temp / "models", cache_from=ROOT / "models" / "embedding-cache.sqlite")),
                      XUNCHA_OCR="false")
    for name in ("XUNCHA_DATABASE_URL", "XUNCHA_EMBEDDING_BACKEND", "XUNCHA_SEARCH_EMBEDDING_BACKEND"):
        os.environ.pop(name, None)

    from nlp.dataset import load_examples, train_dev
    from service import context
    from service.api.searching import SyncedSearch
    from service.search import SearchFilters
    from service.settings import get_settings

    settings = get_settings()
    repository = context.repository(settings)
    inspection = repository.ensure_inspection("检索基准", "基准组", "清河县").id
    train, _ = train_dev(load_examples())
    texts = [e.text for e in train][:args.findings]
    for n in range(0, len(texts), PER_DOCUMENT):
        repository.add_document(inspection, document(texts[n:n + PER_DOCUMENT], f"bench-{n}.txt"))
    queries = [json.loads(line)["text"] for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    print(f"code: {ROOT}  findings: {len(texts)}  queries: {len(queries)}  cores: {os.cpu_count()}  "
          f"load: {os.getloadavg()[0]:.1f}")

    synced = SyncedSearch(settings)
    began = time.perf_counter()
    synced.search("预热", 1)
    print(f"index built and synced: {time.perf_counter() - began:.1f} s")

    one_at_a_time = threading.RLock()

    def search(query: str) -> None:
        synced.search(query, 10, SearchFilters(include_demo=False), {"基准组"}, "all", "hybrid")

    def serialised(query: str) -> None:
        with one_at_a_time:
            search(query)

    level(search, queries, 1, len(queries))  # warm-up: every query's vector cached, indexes built
    stop = threading.Event()
    writes: list[float] = []

    def writer() -> None:
        extra = [e.text for e in train][args.findings:args.findings + PER_DOCUMENT] or texts[:PER_DOCUMENT]
        n = 0
        while not stop.wait(1.0):
            n += 1
            batch = [f"{t}（{n}）" for t in extra]
            if args.pre_embed:  # as ingestion does: the tagger embeds findings into the shared cache
                synced.service().embedder.embed_queries(batch)
            began = time.perf_counter()
            document_id = repository.add_document(inspection, document(batch, f"w{n}.txt"))
            synced.search(extra[0], 1)  # the change applied (timed: store + apply)
            writes.append(time.perf_counter() - began)
            repository.delete_document(document_id)

    thread = threading.Thread(target=writer, daemon=True)
    if args.writer:
        thread.start()
    ways = [("one lock", serialised), ("as is", search)] if args.compare else [
        ("one lock", serialised) if args.serialise else ("as is", search)]
    print(f"{'searches':>9} {'clients':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for _ in range(args.rounds):
        for clients in (int(c) for c in args.levels.split(",")):
            for label, call in ways:
                result = level(call, queries, clients, args.requests)
                print(f"{label:>9} {result['clients']:>7} {result['requests']:>8} {result['per_s']:>7.1f} "
                      f"{result['p50_ms']:>8.1f} {result['p99_ms']:>8.1f} {result['max_ms']:>8.1f}", flush=True)
    stop.set()
    if args.writer:
        thread.join(30)
        if writes:
            print(f"writer: {len(writes)} documents stored and applied, median {1000 * statistics.median(writes):.0f} ms")
    if not args.keep:
        import shutil

        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
