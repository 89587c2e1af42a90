"""Micro-batching: concurrent callers of a batch function share one call.

The model tags 32 texts in little more time than one, so requests that arrive while a batch is
running wait for it to end and then go together in the next call. A caller that finds the model
idle runs at once (no waiting window), so a lone request pays nothing for the batching.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Generic, Sequence, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass
class _Request(Generic[In, Out]):
    items: Sequence[In]
    wake: threading.Event = field(default_factory=threading.Event)
    results: list[Out] | None = None
    error: BaseException | None = None
    finished: bool = False


class MicroBatcher(Generic[In, Out]):
    """``batcher(items)`` returns ``function(items)``, computed together with whatever other
    threads submit meanwhile; at most ``max_items`` items go into one call (a request is never
    split). ``function`` must return one result per item, in order."""

    def __init__(self, function: Callable[[list[In]], Sequence[Out]], max_items: int = 256) -> None:
        self.function = function
        self.max_items = max_items
        self._lock = threading.Lock()
        self._pending: list[_Request] = []
        self._running = False
        self.calls = 0  # how many batches ran, for benchmarks and tests

    def __call__(self, items: Sequence[In]) -> list[Out]:
        request: _Request = _Request(list(items))
        with self._lock:
            self._pending.append(request)
            lead = not self._running
            if lead:
                self._running = True
        if not lead:
            request.wake.wait()  # woken with results, or to run the next batch
        if not request.finished:
            self._run_batch()
        if request.error is not None:
            raise request.error
        return request.results  # type: ignore[return-value]

    def _take_batch(self) -> list[_Request]:
        with self._lock:
            batch, size = [], 0
            while self._pending and (not batch or size + len(self._pending[0].items) <= self.max_items):
                request = self._pending.pop(0)
                batch.append(request)
                size += len(request.items)
            return batch

    def _run_batch(self) -> None:
        """Run everything queued (the caller's own request is first in line), then hand the turn to
        the oldest request that arrived meanwhile, so no caller waits for more than two batches."""
        batch = self._take_batch()
        items = [item for request in batch for item in request.items]
        try:
            results = list(self.function(items))
            self.calls += 1
            if len(results) != len(items):
                raise RuntimeError(f"batch function returned {len(results)} results for {len(items)} items")
        except BaseException as error:  # every waiting caller hears of it, none hangs
            results, failure = [None] * len(items), error
        else:
            failure = None
        position = 0
        for request in batch:
            request.results = results[position:position + len(request.items)]
            request.error = failure
            request.finished = True
            position += len(request.items)
        with self._lock:
            if self._pending:
                self._pending[0].wake.set()
            else:
                self._running = False
        for request in batch:
            request.wake.set()
