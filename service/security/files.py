"""Data files hold inspection material: only the service's own user may read them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077


DATA_DIRS = ("originals", "uploads", "index")


def private_files(home: Path | None = None) -> None:
    """Make files this process creates from now on 0600 (directories 0700), and tighten what an
    older version left readable in ``home``: its own files and the data folders DATA_DIRS."""
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)
    if home is None or not Path(home).is_dir():
        return
    home = Path(home)
    paths = [p for p in home.iterdir() if p.is_file() and not p.is_symlink()]
    for folder in (home / name for name in DATA_DIRS):
        if folder.is_dir() and not folder.is_symlink():
            paths.append(folder)
            paths += [p for p in folder.rglob("*") if not p.is_symlink()]
    for path in paths:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                path.chmod(mode & (0o700 if path.is_dir() else 0o600))
        except OSError:
            pass  # vanished or not ours: leave it


# Bidirectional-text controls: U+202E turns "报告\u202excod.exe" into a name that reads "报告exe.docx".
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
