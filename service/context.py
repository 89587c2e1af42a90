"""Builds the long-lived objects (repository, original store, ingestor) from the settings."""

from __future__ import annotations

import logging
from functools import lru_cache

from service import artefacts

from service.ingest import Ingestor
from service.originals import OriginalStore
from service.settings import Settings, get_settings
from service.storage import SqlRepository, open_repository

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _repository(url: str) -> SqlRepository:
    return open_repository(url)


def repository(settings: Settings | None = None) -> SqlRepository:
    settings = settings or get_settings()
    return _repository(settings.db_url)


def finding_tagger(settings: Settings | None = None):
    """A callable tagging finding texts into JSON-ready dicts, or None when no model is trained."""
    try:
        tagger = artefacts.load_tagger(settings or get_settings())
    except artefacts.ModelMissing:
        log.warning("no trained tagger: findings are stored untagged")
        return None

    def tag(texts: list[str], kind: str | None = None) -> list[dict]:
        """``kind``: the document kind the texts come from, which may set the finding threshold."""
        return [dict(result.as_json(), labels=tagger.labels_of(result)) for result in tagger.tag(texts, kind=kind)]

    return tag


def ingestor(settings: Settings | None = None, tag: bool = True) -> Ingestor:
    settings = settings or get_settings()
    return Ingestor(repository(settings), OriginalStore(settings.originals_dir),
                    max_bytes=settings.max_file_bytes, ocr=settings.ocr,
                    tagger=finding_tagger(settings) if tag else None)


_search_services: dict[tuple, object] = {}


def search_service(settings: Settings | None = None, refresh: bool = True):
    """The search service for these settings, synced with the database when first built."""
    from service.search import build_search_service

    settings = settings or get_settings()
    key = (settings.db_url, str(settings.home), settings.search_embedding_backend, settings.search_embedding_model,
           str(settings.models_dir))
    service = _search_services.get(key)
    if service is None:
        service = build_search_service(settings)
        _search_services[key] = service
    if refresh:
        service.refresh()
    return service
