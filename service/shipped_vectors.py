"""The training texts' sentence vectors, shipped in the repository (``corpora/vectors/``).

Embedding the ~18k training texts and checklist phrases with e5 takes ~6 minutes of a 2-core
machine, most of a fresh clone's setup. ``xuncha train`` copies these files into the embedding
cache first and embeds only the texts they lack; ``xuncha train --ship-vectors`` (run by whoever
adds training data) writes the file of every source whose texts changed. The test suite checks
that the files cover the corpus.

One file per source: ``corpora/vectors/<embedder>/<stem>.npy``, records of (the embedding cache's
key, 20 bytes; the float16 vector), sorted by key. ``<stem>`` is a findings file's name, or
``checklist`` for the item phrases. Vectors of the evaluation sets are never written here.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Iterable

import numpy as np

from index.embeddings import CachedEmbedder
from nlp.checklist import Checklist
from nlp.dataset import Example

VECTORS_DIR = Path(__file__).resolve().parents[1] / "corpora" / "vectors"
ROLE = "q"  # the tagger embeds its training texts as queries
CHECKLIST_GROUP = "checklist"


def training_groups(examples: Iterable[Example], checklist: Checklist) -> dict[str, list[str]]:
    """The texts training embeds, by the source file they come from."""
    groups: dict[str, list[str]] = defaultdict(list)
    for example in examples:
        groups[example.source or "other"].append(example.text)
    groups[CHECKLIST_GROUP] = [phrase for item in checklist.items for phrase in item.phrases]
    return dict(groups)


def _dtype(dim: int) -> np.dtype:
    # keys as 20 unsigned bytes: numpy's "S20" would drop a digest's trailing zero bytes
    return np.dtype([("key", "u1", (20,)), ("vector", "<f2", (dim,))])


def _keys(records: np.ndarray) -> list[str]:
    return [bytes(key).hex() for key in records["key"]]


def _path(cache: CachedEmbedder, group: str, directory: Path) -> Path:
    return directory / cache.name.replace(":", "_").replace("/", "_") / f"{group}.npy"


def seed(cache: CachedEmbedder, directory: Path = VECTORS_DIR) -> int:
    """Copies every shipped vector of ``cache``'s embedder into it; returns how many were read."""
    count = 0
    for path in sorted(_path(cache, "*", directory).parent.glob("*.npy")):
        records = np.load(path, allow_pickle=False)
        if records.dtype != _dtype(cache.dim):
            continue  # another dimension: a different model under the same name
        cache.store(dict(zip(_keys(records), records["vector"])))
        count += len(records)
    return count


def export(cache: CachedEmbedder, groups: dict[str, list[str]], directory: Path = VECTORS_DIR) -> list[Path]:
    """Writes the file of each group whose keys differ from the shipped one (vectors taken from
    ``cache``, computing those it lacks); removes files of groups that are gone. Returns the paths
    written or removed."""
    changed = []
    for group, texts in groups.items():
        keys = sorted({cache.key(ROLE, text) for text in texts})
        path = _path(cache, group, directory)
        if path.exists():
            shipped = np.load(path, allow_pickle=False)
            if shipped.dtype == _dtype(cache.dim) and _keys(shipped) == keys:
                continue
        found = cache.stored(keys)
        if len(found) < len(keys):
            cache.embed_queries(texts)
            found = cache.stored(keys)
        records = np.zeros(len(keys), dtype=_dtype(cache.dim))
        records["key"] = np.array([np.frombuffer(bytes.fromhex(k), dtype=np.uint8) for k in keys]
                                  ).reshape(len(keys), 20)
        records["vector"] = np.stack([found[k] for k in keys]) if keys else records["vector"]
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, records, allow_pickle=False)
        changed.append(path)
    folder = _path(cache, "x", directory).parent
    for stale in sorted(folder.glob("*.npy")) if folder.exists() else []:
        if stale.stem not in groups:
            stale.unlink()
            changed.append(stale)
    return changed


def missing(cache: CachedEmbedder, groups: dict[str, list[str]], directory: Path = VECTORS_DIR) -> dict[str, int]:
    """Per group, how many of its texts the shipped files lack (groups with none left out)."""
    out = {}
    for group, texts in groups.items():
        path = _path(cache, group, directory)
        shipped = set() if not path.exists() else set(_keys(np.load(path, allow_pickle=False)))
        lacking = len({cache.key(ROLE, t) for t in texts} - shipped)
        if lacking:
            out[group] = lacking
    return out
