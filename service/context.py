"""Builds the long-lived objects (repository, original store, ingestor) from the settings."""

from __future__ import annotations

from functools import lru_cache

from service.ingest import Ingestor
from service.originals import OriginalStore
from service.settings import Settings, get_settings
from service.storage import SqlRepository, open_repository


@lru_cache(maxsize=4)
def _repository(url: str) -> SqlRepository:
    return open_repository(url)


def repository(settings: Settings | None = None) -> SqlRepository:
    settings = settings or get_settings()
    return _repository(settings.db_url)


def ingestor(settings: Settings | None = None) -> Ingestor:
    settings = settings or get_settings()
    return Ingestor(repository(settings), OriginalStore(settings.originals_dir),
                    max_bytes=settings.max_file_bytes, ocr=settings.ocr)
