"""Data files hold inspection material: only the service's own user may read them."""

from __future__ import annotations

import os

PRIVATE_UMASK = 0o077


def private_files() -> None:
    """Make files this process creates from now on 0600 (directories 0700)."""
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)

# Bidirectional-text controls: U+202E turns "报告\u202excod.exe" into a name that reads "报告exe.docx".
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
