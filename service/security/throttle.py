"""Slows password guessing: too many failed logins for one name from one address locks it briefly."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class LoginThrottle:
    def __init__(self, max_failures: int = 5, window_seconds: float = 300.0) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, name: str, client: str) -> bool:
        with self._lock:
            return len(self._recent((name, client), time.monotonic())) >= self.max_failures

    def failed(self, name: str, client: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._recent((name, client), now).append(now)

    def succeeded(self, name: str, client: str) -> None:
        with self._lock:
            self._failures.pop((name, client), None)
