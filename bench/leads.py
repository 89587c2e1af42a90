"""Round leads: time of the first computation, of a recomputation (process caches warm) and of a
read from the leads cache, on a round of an existing home.

Run: ``XUNCHA_HOME=… python bench/leads.py ROUND`` (ROUND: the round's id or name; build one with
``xuncha ingest corpora/samples ../shared/seeds -i 基准轮次`` and ``xuncha cases import corpora/cases/*.jsonl``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    from service import context
    from service.api.searching import SyncedSearch
    from service.leads import LeadsCache, round_leads
    from service.settings import get_settings
    from service.storage.versions import round_version

    settings = get_settings()
    repository = context.repository(settings)
    wanted = sys.argv[1]
    found = [i for i in repository.list_inspections() if str(i.id) == wanted or i.name == wanted]
    if not found:
        sys.exit(f"没有巡察轮次 {wanted}")
    inspection = found[0].id
    search = SyncedSearch(settings)
    start = time.perf_counter()
    view = search.synced()
    print(f"search replicas ready: {time.perf_counter() - start:.2f} s")
    cache = LeadsCache(lambda round_id: round_version(repository.engine, round_id))

    def compute():
        return round_leads(inspection, view, search.e5_embed)

    timings = []
    for label, run in (("first computation", compute), ("recomputation", compute),
                       ("cache fill", lambda: cache.round(inspection, None, compute)),
                       ("cached read", lambda: cache.round(inspection, None, compute))):
        start = time.perf_counter()
        leads = run()
        timings.append((label, time.perf_counter() - start, len(leads)))
    for label, seconds, count in timings:
        print(f"{label:18} {seconds:8.3f} s  ({count} leads)")


if __name__ == "__main__":
    main()
