"""The one lock around the shared model, with requests ahead of background work.

Interactive calls (``/api/tag``, a search's query vector) and ingestion share one tagger and
embedder. Ingestion takes the lock per chunk of findings so that a request can get in between
chunks; with a plain ``threading.Lock`` it seldom did, because the ingesting thread takes the lock
back the moment it lets go (bench/service.py: an ``/api/tag`` call during a 20-page upload waited
up to 6 s). Here background work lets waiting requests go first, so a request waits for at most the
chunk already running; and background work that has yielded for ``patience`` seconds takes its turn
anyway, so a stream of requests cannot stall an upload. Requests among themselves go in the order
they came (a thread that lets go and asks again queues behind the others).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from contextlib import contextmanager


class ModelLock:
    """``with lock:`` for requests, ``with lock.background():`` for ingestion chunks."""

    def __init__(self, patience: float = 2.0, clock=time.monotonic) -> None:
        self.patience = patience
        self._clock = clock
        self._changed = threading.Condition()
        self._held = False
        self._requests = deque()  # waiting requests, first come first served
        self._overdue_waiting = 0  # background holders past their patience: they go next
        self._local = threading.local()

    def acquire(self, background: bool = False) -> None:
        with self._changed:
            if background or getattr(self._local, "background", False):
                self._wait_as_background()
            else:
                self._wait_as_request()
            self._held = True

    def _wait_as_request(self) -> None:
        ticket = object()
        self._requests.append(ticket)
        acquired = False
        try:
            while self._held or self._overdue_waiting or self._requests[0] is not ticket:
                self._changed.wait()
            acquired = True
        finally:
            self._requests.remove(ticket)
            if not acquired:  # interrupted while waiting: the next in line may go
                self._changed.notify_all()

    def _wait_as_background(self) -> None:
        deadline = self._clock() + self.patience
        while self._held or self._requests:
            left = deadline - self._clock()
            if left <= 0:
                break
            self._changed.wait(left)
        if self._held:  # overdue: requests that arrive from now on wait behind this one
            self._overdue_waiting += 1
            try:
                while self._held:
                    self._changed.wait()
            finally:
                self._overdue_waiting -= 1

    def release(self) -> None:
        with self._changed:
            self._held = False
            self._changed.notify_all()

    def __enter__(self) -> ModelLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    @contextmanager
    def background_thread(self):
        """Everything this thread takes the lock for meanwhile is background work (leads prepared
        after an upload call the same search code as a request does)."""
        previous = getattr(self._local, "background", False)
        self._local.background = True
        try:
            yield
        finally:
            self._local.background = previous

    @contextmanager
    def background(self):
        self.acquire(background=True)
        try:
            yield self
        finally:
            self.release()
