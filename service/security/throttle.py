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
        return self._backoff(self._failures_of(name))

    def _failures_of(self, name: str) -> int:
        with self._lock:
            return len(self._recent((name, None), time.monotonic()))

    def _backoff(self, failures: int) -> float:
        extra = failures - self.soft_after
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


class SharedLoginThrottle(LoginThrottle):
    """The same limits counted across every API process on one database: the failed logins of an
    existing account are in the audit log (``auth.login`` / ``failed`` with the client address), so
    the counts are the larger of this process's and the log's. With ``xuncha serve --workers N`` or
    several API machines, a guesser would otherwise get the limits once per process. Names that
    are no account are counted in this process only (the log names nobody for them; there is no
    account to protect either)."""

    def __init__(self, engine, **limits) -> None:
        super().__init__(**limits)
        self._engine = engine

    def _logged(self, name: str, client: str | None) -> int:
        """Failed logins of account ``name`` within the window (from ``client`` since its last
        successful login from there, when given)."""
        from datetime import datetime, timedelta, timezone

        from sqlalchemy import func, select
        from sqlalchemy.orm import Session

        from service.storage.security_models import AuditEntry

        login = (AuditEntry.action == "auth.login") & (AuditEntry.user_name == name)
        since = datetime.now(timezone.utc) - timedelta(seconds=self.window)
        query = select(func.count()).select_from(AuditEntry).where(login, AuditEntry.outcome == "failed",
                                                                   AuditEntry.at > since)
        if client is not None:
            client = client[:64]  # as the audit log stores it
            last_success = (select(func.max(AuditEntry.at))
                            .where(login, AuditEntry.client == client, AuditEntry.outcome == "ok").scalar_subquery())
            query = query.where(AuditEntry.client == client,
                                (last_success.is_(None)) | (AuditEntry.at > last_success))
        try:
            with Session(self._engine) as session:
                return int(session.scalar(query) or 0)
        except Exception:  # noqa: BLE001 - the database is down: this process's own counts still hold
            return 0

    def blocked(self, name: str, client: str | None) -> bool:
        if client is None:
            return False
        return super().blocked(name, client) or self._logged(name, client) >= self.max_failures

    def delay(self, name: str) -> float:
        return self._backoff(max(self._failures_of(name), self._logged(name, None)))
