"""Slows password guessing without letting a guesser lock an account's owner out.

Two limits, both over the last ``window`` seconds of failed logins:

- per (account, client address): after ``max_failures`` failures that address is refused for that
  account (429) — when the address names the client. Behind a trusted proxy that forwards no client
  address every user shares the proxy's address, so no such key exists there (``client=None``).
- per account, from anywhere: after ``soft_after`` failures each further attempt waits
  ``base_delay`` seconds, doubling per failure up to ``max_delay``. Guessing through rotating
  addresses or a proxy that names nobody slows to a crawl; the owner, with the right password,
  still logs in after a short wait.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

MAX_KEYS = 10_000  # failure histories kept before stale ones are swept (a flood of invented names)


class LoginThrottle:
    def __init__(self, max_failures: int = 5, window_seconds: float = 300.0, soft_after: int = 5,
                 base_delay: float = 0.5, max_delay: float = 5.0) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.soft_after, self.base_delay, self.max_delay = soft_after, base_delay, max_delay
        self._failures: dict[tuple[str, str | None], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str | None], now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def _sweep(self, now: float) -> None:
        if len(self._failures) > MAX_KEYS:
            for key in [k for k, times in self._failures.items() if not times or now - times[-1] > self.window]:
                del self._failures[key]

    def blocked(self, name: str, client: str | None) -> bool:
        """Whether ``client`` may not try ``name`` now (never when the client address is unknown)."""
        if client is None:
            return False
        with self._lock:
            return len(self._recent((name, client), time.monotonic())) >= self.max_failures

    def delay(self, name: str) -> float:
        """Seconds the next attempt for ``name`` waits before its password is checked."""
        with self._lock:
            extra = len(self._recent((name, None), time.monotonic())) - self.soft_after
        return 0.0 if extra < 0 else min(self.base_delay * 2 ** extra, self.max_delay)

    def failed(self, name: str, client: str | None) -> None:
        with self._lock:
            now = time.monotonic()
            self._sweep(now)
            self._recent((name, None), now).append(now)
            if client is not None:
                self._recent((name, client), now).append(now)

    def succeeded(self, name: str, client: str | None) -> None:
        """Forget this address's failures for ``name``; the account's backoff runs out by itself."""
        if client is not None:
            with self._lock:
                self._failures.pop((name, client), None)
