"""The app's search service, kept in step with the database.

Searches run concurrently with ingestion jobs, reviews and deletions (in this process or in a CLI
next to it). Instead of every writer having to remember to update the indexes, each search reads a
cheap fingerprint of the stored findings, reviews and cases and re-syncs the indexes when it
changed; the sync is incremental (only missing or stale ids are embedded or removed).
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Callable, Sequence

import numpy as np
from sqlalchemy import func, select

from index.hybrid import Hit
from nlp.checklist import Checklist
from service import artefacts, context
from service.search import SearchFilters, SearchService
from service.settings import Settings
from service.storage import models
from service.storage.case_models import Case
from service.storage.sql import SqlRepository


class SyncedSearch:
    """Same ``search`` / ``repository`` / ``checklist`` surface as :class:`SearchService` (so
    ``service.leads`` works on it), thread-safe and synced with the database on use."""

    def __init__(self, settings: Settings, factory: Callable[[], SearchService] | None = None,
                 embed_lock: threading.Lock | None = None) -> None:
        self.settings = settings
        self._embed_lock = embed_lock or threading.Lock()
        self._factory = factory or (lambda: context.search_service(settings, refresh=False))
        self._lock = threading.RLock()
        self._service: SearchService | None = None
        self._synced: tuple | None = None

    @property
    def repository(self) -> SqlRepository:
        return context.repository(self.settings)

    @cached_property
    def checklist(self) -> Checklist:
        return self.service().checklist

    def fingerprint(self) -> tuple:
        with self.repository.session() as session:
            findings = session.execute(select(func.count(models.Finding.id), func.max(models.Finding.id))).one()
            corrected = session.execute(select(func.max(models.Document.updated_at))).scalar()  # kind fixes
            feedback = session.execute(select(func.max(models.TagFeedback.id))).scalar()
            cases = session.execute(select(func.count(Case.id), func.max(Case.id))).one()
        return (*findings, feedback, *cases, corrected)

    def service(self) -> SearchService:
        """The search service, synced with the database if anything changed since the last sync."""
        with self._lock:
            if self._service is None:
                self._service = self._factory()
            current = self.fingerprint()
            if current != self._synced:
                self._service.refresh()
                self._synced = self.fingerprint()
            return self._service

    def search(self, query: str, k: int = 10, filters: SearchFilters | None = None,
               teams: set[str] | None = None, collection: str = "all", mode: str = "hybrid") -> list[Hit]:
        with self._lock:
            return self.service().search(query, k, filters, teams, collection, mode)

    def synced(self) -> SyncedView:
        """A view synced once now, for work that runs many searches (leads): the indexes are not
        re-checked for every one of them."""
        self.service()
        return SyncedView(self)

    @cached_property
    def _e5(self) -> Callable[[Sequence[str]], np.ndarray]:
        try:  # the tagger's embedder: same model and on-disk cache, loaded once per process
            embed = artefacts.load_tagger(self.settings).embed
        except artefacts.ModelMissing:
            embed = None
        return embed or artefacts.embedder_for(self.settings).embed_queries

    def e5_embed(self, texts: Sequence[str]) -> np.ndarray:
        """e5 vectors, the space the lead thresholds were calibrated in. The lock is the tagger's:
        the model's tokenizer must not be used from two threads at once."""
        with self._embed_lock:
            return self._e5(texts)


class SyncedView:
    def __init__(self, owner: SyncedSearch) -> None:
        self._owner = owner
        self.repository, self.checklist = owner.repository, owner.checklist

    def search(self, *args, **kwargs) -> list[Hit]:
        with self._owner._lock:
            return self._owner._service.search(*args, **kwargs)
