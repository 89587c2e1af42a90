"""Password hashing (argon2) and random bearer secrets stored as SHA-256 digests."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import threading
import time
from contextlib import asynccontextmanager
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
TOKEN_PREFIX = "xct_"
# Each argon2 hash takes 64 MiB and a core for ~50 ms: a flood of logins must queue, not run at once.
HASH_SLOTS = threading.BoundedSemaphore(2)
HASH_WAIT_SECONDS = 3.0


class HashingBusy(Exception):
    """Every password-hashing slot stayed taken for HASH_WAIT_SECONDS."""


@asynccontextmanager
async def hashing_slot(wait: float | None = None):
    """Hold one of the HASH_SLOTS (waiting on the event loop, not in a worker thread)."""
    deadline = time.monotonic() + (HASH_WAIT_SECONDS if wait is None else wait)
    while not HASH_SLOTS.acquire(blocking=False):
        if time.monotonic() >= deadline:
            raise HashingBusy
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        HASH_SLOTS.release()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Made on first use, not at import: one argon2 hash (~64 MiB, a core for a while) slowed every
    # command and the server start.
    return _hasher.hash("xuncha-dummy-password")


def warm_up() -> None:
    """Make the dummy hash now (``xuncha serve`` does, once its port is open)."""
    _dummy_hash()


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the user exists (a dummy hash is checked when there is none)."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
