"""How many cores one model call may use right now.

``xuncha serve`` pins OpenMP to one thread (``OMP_NUM_THREADS=1``): concurrent model calls whose
thread teams wait for each other on few busy cores were 15× slower. A lone call on an otherwise idle
machine then leaves the other cores unused: one text's e5 call takes 28 ms on one thread and 15 ms on
two. :func:`spare_cores` lets such a call take the cores nothing else is running on, judged from the
kernel's count of runnable threads at the moment the call starts.
"""

from __future__ import annotations

import os
from contextlib import nullcontext

from nlp.threads import thread_pools

PROC_STAT = "/proc/stat"


def runnable_threads(path: str = PROC_STAT) -> int | None:
    """Threads runnable on the machine now (the caller included), or None where the kernel does not
    say (not Linux)."""
    try:
        with open(path, "rb") as stream:
            for line in stream:
                if line.startswith(b"procs_running "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def spare_core_count(cores: int | None = None, running: int | None = None) -> int:
    """Cores beyond the caller's own that no runnable thread is using (0 when unknown)."""
    cores = cores or os.cpu_count() or 1
    running = runnable_threads() if running is None else running
    return 0 if running is None else max(0, cores - max(running, 1))


def spare_cores():
    """Context for one model call: its OpenMP team grows by the idle cores while OpenMP is pinned to
    one thread (as ``xuncha serve`` pins it); anywhere else, or when no core is idle, nothing changes.
    The limit is per calling thread (OpenMP's thread count is), so other threads keep one."""
    if os.environ.get("OMP_NUM_THREADS") != "1":
        return nullcontext()
    spare = spare_core_count()
    if not spare:
        return nullcontext()
    return thread_pools().select(user_api="openmp").limit(limits=1 + spare)
