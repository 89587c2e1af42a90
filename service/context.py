"""Builds the long-lived objects (repository, original store, ingestor) from the settings.

Nothing heavy is imported here at module level: the CLI and the web app import this module on
start, and the storage, the ingestion pipeline and the trained tagger (scikit-learn, the embedder)
are only loaded when a command or request first needs them.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.ingest import Ingestor
    from service.settings import Settings
    from service.storage import SqlRepository

log = logging.getLogger(__name__)


def _settings() -> Settings:
    from service.settings import get_settings

    return get_settings()


@lru_cache(maxsize=4)
def _repository(url: str) -> SqlRepository:
    from service.storage import open_repository

    return open_repository(url)


def repository(settings: Settings | None = None) -> SqlRepository:
    return _repository((settings or _settings()).db_url)


def finding_tagger(settings: Settings | None = None):
    """A callable tagging finding texts into JSON-ready dicts, or None when no model is trained.

    The model file is only checked for here; the tagger itself (scikit-learn, the embedder) is
    loaded on the first call, so that building an ingestor (``xuncha serve``, ``docs delete``)
    does not wait for it."""
    from service import artefacts

    settings = settings or _settings()
    if not (settings.models_dir / artefacts.TAGGER_FILE).exists():
        log.warning("no trained tagger: findings are stored untagged")
        return None
    loaded = []
    lock = threading.Lock()

    def tagger():
        with lock:
            if not loaded:
                loaded.append(artefacts.load_tagger(settings))
            return loaded[0]

    def tag(texts: list[str], kind: str | None = None) -> list[dict]:
        """``kind``: the document kind the texts come from, which may set the finding threshold."""
        model = tagger()
        return [dict(result.as_json(), labels=model.labels_of(result)) for result in model.tag(texts, kind=kind)]

    return tag


def ingestor(settings: Settings | None = None, tag: bool = True) -> Ingestor:
    from service.ingest import Ingestor
    from service.jobs import parse_limits
    from service.originals import OriginalStore

    settings = settings or _settings()
    return Ingestor(repository(settings), OriginalStore(settings.originals_dir),
                    max_bytes=settings.max_file_bytes, ocr=settings.ocr,
                    tagger=finding_tagger(settings) if tag else None, limits=parse_limits(settings))


_search_services: dict[tuple, object] = {}


def search_service(settings: Settings | None = None, refresh: bool = True):
    """The search service for these settings, synced with the database when first built."""
    from service.search import build_search_service

    settings = settings or _settings()
    key = (settings.db_url, str(settings.home), settings.search_embedding_backend, settings.search_embedding_model,
           str(settings.models_dir))
    service = _search_services.get(key)
    if service is None:
        service = build_search_service(settings)
        _search_services[key] = service
    if refresh:
        service.refresh()
    return service
